import { describe, expect, it } from 'vitest';
import { createReauthNotifier, reauthNotification, type OsNotification } from './notify.ts';

describe('re-auth OS notification', () => {
  const now = new Date('2026-11-21T12:00:00Z');
  it('says which credential, how many actions wait, how to fix it and how long is left', () => {
    expect(
      reauthNotification(
        { credentialId: 'c', credentialName: 'M365 Corp', state: 'raised', deadline: '2026-11-21T12:45:00Z', waiting: 2, method: 'oauth' },
        now
      )
    ).toEqual({
      title: 'Re-authenticate M365 Corp',
      body: '2 actions wait on M365 Corp. Sign in again within 45 min, or they will not run.'
    });
    expect(
      reauthNotification(
        { credentialId: 'c', credentialName: 'Blocklist', state: 'raised', deadline: '2026-11-21T15:00:00Z', waiting: 1, method: 'secret' },
        now
      )?.body
    ).toBe('1 action waits on Blocklist. Enter its secret again within 3 hours, or it will not run.');
  });
  it('nothing for a prompt that was resolved or expired', () => {
    expect(
      reauthNotification(
        { credentialId: 'c', credentialName: 'X', state: 'resolved', deadline: '2026-11-21T12:45:00Z', waiting: 0, method: 'oauth' },
        now
      )
    ).toBeNull();
    expect(
      reauthNotification(
        { credentialId: 'c', credentialName: 'X', state: 'expired', deadline: '2026-11-21T12:45:00Z', waiting: 0, method: 'oauth' },
        now
      )
    ).toBeNull();
  });
});

/** Stands in for Electron's Notification (no Electron binary here): records what the notifier did to it. */
class FakeNotification implements OsNotification {
  readonly log: string[] = [];
  readonly listeners = new Map<string, () => void>();
  readonly text: { title: string; body: string };
  constructor(text: { title: string; body: string }) {
    this.text = text;
  }
  show() {
    this.log.push('show');
  }
  close() {
    this.log.push('close');
  }
  on(event: 'click' | 'close', listener: () => void) {
    this.listeners.set(event, listener);
    return this;
  }
}

describe('re-auth notifier', () => {
  const now = new Date('2026-11-21T12:00:00Z');
  const raised = (id: string, waiting = 1) => ({
    credentialId: id,
    credentialName: `Cred ${id}`,
    state: 'raised' as const,
    deadline: '2026-11-21T12:45:00Z',
    waiting,
    method: 'secret' as const
  });
  function setup() {
    const made: FakeNotification[] = [];
    const clicked: string[] = [];
    const notifier = createReauthNotifier({
      now: () => now,
      create: (text) => {
        const n = new FakeNotification(text);
        made.push(n);
        return n;
      },
      onClick: (id) => clicked.push(id)
    });
    return { made, clicked, notifier };
  }

  it('holds each notification until it is clicked (so its click still reaches the window), then forgets it', () => {
    const { made, clicked, notifier } = setup();
    notifier.handle(raised('a'));
    expect(made.map((n) => n.log)).toEqual([['show']]);
    expect(notifier.showing).toEqual(['a']);
    made[0]!.listeners.get('click')!();
    expect(clicked).toEqual(['a']);
    expect(notifier.showing).toEqual([]);
  });

  it('a prompt re-authenticated or past its cutoff closes its notification; a new count replaces the old one', () => {
    const { made, notifier } = setup();
    notifier.handle(raised('a', 1));
    notifier.handle(raised('a', 2));
    expect(made.map((n) => n.log)).toEqual([['show', 'close'], ['show']]);
    expect(made[1]!.text.body).toMatch(/^2 actions wait/);
    notifier.handle(raised('b'));
    notifier.handle({ ...raised('a'), state: 'resolved', waiting: 0 });
    notifier.handle({ ...raised('b'), state: 'expired', waiting: 0 });
    expect(made.map((n) => n.log)).toEqual([
      ['show', 'close'],
      ['show', 'close'],
      ['show', 'close']
    ]);
    expect(notifier.showing).toEqual([]);
  });

  it('a notification the user dismissed is forgotten; dispose closes what is left; no OS support shows nothing', () => {
    const { made, notifier } = setup();
    notifier.handle(raised('a'));
    notifier.handle(raised('b'));
    made[0]!.listeners.get('close')!();
    expect(notifier.showing).toEqual(['b']);
    notifier.dispose();
    expect(made[1]!.log).toEqual(['show', 'close']);
    const none = createReauthNotifier({ now: () => now, create: () => null, onClick: () => undefined });
    none.handle(raised('a'));
    expect(none.showing).toEqual([]);
  });
});
