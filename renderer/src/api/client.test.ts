import { describe, expect, it } from 'vitest';
import type { ChannelName } from '../../../preload/contract.ts';
import { startKeydesk } from '#keydesk';
import { CallError, call, isCallError, messageOf } from './client.ts';
import { hostinger } from '../testing/samples.ts';

async function failure(p: Promise<unknown>): Promise<CallError> {
  const e: unknown = await p.then(
    () => null,
    (x: unknown) => x
  );
  if (!(e instanceof CallError)) throw new Error(`expected a CallError, got ${String(e)}`);
  return e;
}

describe('call: the window’s one way to main', () => {
  it('resolves with what main answers', async () => {
    const kd = await startKeydesk();
    await kd.call('credentials.add', hostinger('VPS main', { api_token: `tok_${kd.canary}` }));
    const list = await call('credentials.list');
    expect(list.map((c) => [c.name, c.secretsSet])).toEqual([['VPS main', ['api_token']]]);
  });

  it('a refusal becomes a CallError with main’s code, message and per-field messages', async () => {
    const kd = await startKeydesk();
    const e = await failure(
      call('credentials.add', { name: 'Blocklist', provider: 'agentsoc_mail_block', mode: 'bearer_token', values: { token: kd.canary } })
    );
    expect(e.code).toBe('INPUT_INVALID');
    expect(e.message).toBe('Invalid bearer_token credential — blocklist_url: Blocklist service URL is required.');
    expect(e.fields).toEqual({ blocklist_url: 'Blocklist service URL is required' });
    expect(isCallError(e, 'INPUT_INVALID')).toBe(true);
    expect(isCallError(e, 'VAULT_LOCKED')).toBe(false);
    expect(await kd.call('credentials.list')).toEqual([]);
  });

  it('on first run (no vault), a list answers VAULT_NOT_FOUND with what to do', async () => {
    await startKeydesk({ vault: 'none' });
    const e = await failure(call('credentials.list'));
    expect(e.code).toBe('VAULT_NOT_FOUND');
    expect(messageOf(e)).toBe('There is no vault yet. Create one first (the first-run screen, or keydesk init).');
  });

  it('a channel that is not in the contract is refused by the bridge, and main is never asked', async () => {
    const kd = await startKeydesk();
    const e = await failure(call('credentials.reveal' as ChannelName));
    expect(e.code).toBe('UNKNOWN_CHANNEL');
    expect(kd.calls).toEqual([]);
  });

  it('without the bridge (a broken preload), every call says so instead of throwing a TypeError', async () => {
    expect(window.keydesk).toBeUndefined();
    const e = await failure(call('vault.status'));
    expect(e.code).toBe('INTERNAL');
    expect(e.message).toBe('Keydesk’s bridge to the app is missing; restart Keydesk.');
  });
});

describe('messageOf', () => {
  it('reads an ISO time in main’s message as a local date and time', () => {
    const e = new CallError({ code: 'CREDENTIAL_NOT_READY', message: 'Waiting for re-authentication until 2026-11-21T23:01:05.743Z.' });
    const m = messageOf(e);
    expect(m).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
    expect(m).toContain(new Date('2026-11-21T23:01:05.743Z').toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }));
  });

  it('says nothing of a failure that is not main’s answer (no stack, no “[object Object]”)', () => {
    expect(messageOf(new TypeError('x is undefined'))).toBe('Something went wrong in the window. Nothing was changed; try again.');
    expect(messageOf({ code: 'INTERNAL' })).toBe('Something went wrong in the window. Nothing was changed; try again.');
  });
});
