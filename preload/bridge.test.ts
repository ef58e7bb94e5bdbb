import { describe, expect, it } from 'vitest';
import { CHANNEL_NAMES, EVENT_NAMES, type ChannelName, type EventName } from './contract.ts';
import { createBridge } from './bridge.ts';

describe('createBridge (window.keydesk)', () => {
  it('exposes exactly invoke and on, frozen', () => {
    const b = createBridge(
      () => Promise.resolve({ ok: true, value: 1 }),
      () => () => {}
    );
    expect(Object.keys(b).sort()).toEqual(['invoke', 'on']);
    expect(Object.isFrozen(b)).toBe(true);
  });

  it('forwards contract channels and passes the envelope through', async () => {
    const calls: [string, unknown][] = [];
    const b = createBridge(
      (c, i) => {
        calls.push([c, i]);
        return Promise.resolve({ ok: true, value: { state: 'missing' } });
      },
      () => () => {}
    );
    await expect(b.invoke('vault.status')).resolves.toEqual({ ok: true, value: { state: 'missing' } });
    expect(calls).toEqual([['vault.status', undefined]]);
  });

  it('refuses channels outside the contract without calling main', async () => {
    const calls: string[] = [];
    const b = createBridge(
      (c) => {
        calls.push(c);
        return Promise.resolve({ ok: true, value: null });
      },
      () => () => {}
    );
    for (const c of ['ipcRenderer', '__proto__', 'constructor', 'vault.status ', 'shell.openExternal']) {
      const r = await b.invoke(c as ChannelName);
      expect(r).toEqual({ ok: false, error: { code: 'UNKNOWN_CHANNEL', message: expect.any(String) as string } });
    }
    expect(calls).toEqual([]);
    expect(CHANNEL_NAMES.length).toBeGreaterThan(5);
  });

  it('never rejects: a failed transport or a malformed answer becomes INTERNAL', async () => {
    const thrown = createBridge(
      () => Promise.reject(new Error('Error invoking remote method: secret stack')),
      () => () => {}
    );
    const r1 = await thrown.invoke('vault.status');
    expect(r1.ok).toBe(false);
    expect(JSON.stringify(r1)).not.toContain('secret stack');
    const odd = createBridge(
      () => Promise.resolve('nonsense'),
      () => () => {}
    );
    expect(await odd.invoke('vault.status')).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  });

  it('subscribes only to contract events', () => {
    const subscribed: string[] = [];
    const b = createBridge(
      () => Promise.resolve(null),
      (e, fn) => {
        subscribed.push(e);
        fn({ locked: true });
        return () => {};
      }
    );
    const got: unknown[] = [];
    b.on('vault.lock', (p) => got.push(p));
    b.on('not.an.event' as EventName, () => got.push('bad'));
    expect(subscribed).toEqual(['vault.lock']);
    expect(got).toEqual([{ locked: true }]);
    expect(EVENT_NAMES).toContain('vault.lock');
  });
});
