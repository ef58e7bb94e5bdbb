import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AuditEntryViewSchema,
  BindingChangeViewSchema,
  BindingViewSchema,
  CredentialViewSchema,
  ExecutionViewSchema,
  PromptViewSchema,
  ProviderViewSchema,
  ResolutionViewSchema,
  type EventName,
  type KeydeskEvents,
  type Result
} from '../../preload/contract.ts';
import { openApp } from '../app.ts';
import { SAMPLE, tempDir, TEST_ACTOR } from '../testing/fixtures.ts';
import { AppSession } from '../shell/session.ts';
import { createDispatcher, type HandlerTable } from './dispatch.ts';
import { createHandlerTable, createIpcCore } from './index.ts';

// The IPC layer over a real session: a real vault on the real OS keychain (run inside scripts/with-keyring.js).

const CANARY = 'CANARYipc9d41e0c7b2aa55f0';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup() {
  const { dir, cleanup } = tempDir();
  const session = new AppSession({ vaultPath: join(dir, 'vault.sqlite'), actor: TEST_ACTOR });
  const core = createIpcCore(session);
  const answers: string[] = [];
  const events: { name: EventName; payload: unknown }[] = [];
  core.forward((name, payload) => events.push({ name, payload }));
  const call = async <T = unknown>(channel: string, input?: unknown): Promise<Result<T>> => {
    const r = await core.dispatch(channel, input);
    answers.push(JSON.stringify(r));
    return r as Result<T>;
  };
  cleanups.push(cleanup, () => session.close());
  return { session, core, call, answers, events, dir, path: join(dir, 'vault.sqlite') };
}

const hostinger = (name: string, token: string) => ({ name, provider: 'hostinger', mode: 'api_token', values: { api_token: token } });

describe('IPC over a real session', () => {
  it('first run: status says missing, other channels say VAULT_NOT_FOUND, create makes an unlocked keychain vault', async () => {
    const t = setup();
    expect(await t.call('vault.status')).toMatchObject({ ok: true, value: { state: 'missing', keySource: null } });
    expect(await t.call('credentials.list')).toMatchObject({ ok: false, error: { code: 'VAULT_NOT_FOUND' } });
    expect(await t.call('vault.create', { keySource: 'keychain' })).toMatchObject({
      ok: true,
      value: { state: 'unlocked', keySource: 'keychain' }
    });
    expect(await t.call('vault.create', { keySource: 'keychain' })).toMatchObject({ ok: false, error: { code: 'VAULT_EXISTS' } });
    expect(await t.call('credentials.list')).toEqual({ ok: true, value: [] });
  });

  it('canary: a secret written through IPC never comes back in an answer, an error or an event', async () => {
    const t = setup();
    await t.call('vault.create', { keySource: 'keychain' });
    const added = await t.call<{ id: string; secretsSet: string[] }>('credentials.add', hostinger('VPS main', `tok_${CANARY}`));
    expect(added.ok).toBe(true);
    if (!added.ok) return;
    expect(added.value.secretsSet).toEqual(['api_token']);
    const id = added.value.id;
    await t.call('credentials.list');
    await t.call('credentials.get', { id });
    // An update that fails validation after the secret was read and merged in main.
    await t.call('credentials.update', { id, values: { api_base_url: 'ftp://nope' } });
    await t.call('credentials.update', { id, values: { api_token: `short${CANARY.slice(0, 3)}` } });
    await t.call('credentials.update', { id, values: { api_token: `tok2_${CANARY}` } });
    // Errors that could echo the value: bad types, unknown fields, a bad passphrase field.
    await t.call('credentials.add', hostinger('VPS two', `tok_${CANARY}`));
    await t.call('credentials.add', { ...hostinger('VPS three', 'x'), values: { api_token: `has space ${CANARY}` } });
    await t.call('credentials.add', { ...hostinger(`bad name ${CANARY}!!!${'x'.repeat(80)}`, `tok_${CANARY}`) });
    await t.call('vault.unlock', { passphrase: CANARY });
    await t.call('audit.list', {});
    await t.call('audit.verify');
    await t.call('credentials.remove', { id });
    const everything = JSON.stringify({ answers: t.answers, events: t.events });
    expect(t.answers.length).toBeGreaterThan(10);
    expect(everything).not.toContain(CANARY);
  });

  it('add → list → update (secret replaced: status back to unknown) → rename → remove, each audited', async () => {
    const t = setup();
    await t.call('vault.create', { keySource: 'keychain' });
    const a = await t.call<{ id: string; status: string; rotationDue: boolean }>('credentials.add', hostinger('VPS', 'abcdefghijklmnop1'));
    if (!a.ok) throw new Error(a.error.message);
    expect(a.value).toMatchObject({ status: 'unknown', rotationDue: false });
    const upd = await t.call('credentials.update', { id: a.value.id, values: { api_token: 'abcdefghijklmnop2' } });
    expect(upd).toMatchObject({ ok: true, value: { status: 'unknown' } });
    expect(await t.call('credentials.rename', { id: a.value.id, name: 'VPS prod' })).toMatchObject({
      ok: true,
      value: { name: 'VPS prod' }
    });
    expect(await t.call('credentials.update', { id: a.value.id })).toMatchObject({ ok: false, error: { code: 'INPUT_INVALID' } });
    expect(await t.call('credentials.remove', { id: a.value.id })).toEqual({ ok: true, value: { id: a.value.id, name: 'VPS prod' } });
    expect(await t.call('credentials.get', { id: a.value.id })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    const log = await t.call<{ action: string }[]>('audit.list', { limit: 10 });
    if (!log.ok) throw new Error(log.error.message);
    expect(log.value.map((e) => e.action)).toEqual([
      'credential.remove',
      'credential.rename',
      'credential.rotate_secret',
      'credential.add',
      'vault.init'
    ]);
    expect(await t.call('audit.verify')).toEqual({ ok: true, value: { ok: true, entries: 5, headSeq: 5, anchoredSeq: null } });
    const changed = t.events.filter((e) => e.name === 'vault.changed').map((e) => (e.payload as KeydeskEvents['vault.changed']).action);
    expect(changed).toEqual(['credential.add', 'credential.rotate_secret', 'credential.rename', 'credential.remove']);
  });

  it('bad form input answers INPUT_INVALID with per-field messages and saves nothing', async () => {
    const t = setup();
    await t.call('vault.create', { keySource: 'keychain' });
    const r = await t.call('credentials.add', {
      name: 'Blocklist',
      provider: 'agentsoc_mail_block',
      mode: 'bearer_token',
      values: { token: 'short', blocklist_url: 'http://blocklist.example' }
    });
    expect(r).toMatchObject({
      ok: false,
      error: {
        code: 'INPUT_INVALID',
        fields: { token: expect.stringMatching(/Bearer token must be/) as string, blocklist_url: expect.stringMatching(/https/) as string }
      }
    });
    expect(await t.call('credentials.list')).toEqual({ ok: true, value: [] });
    expect(await t.call('vault.status')).toMatchObject({ ok: true, value: { auditEntries: 1 } });
  });

  it('locked: metadata stays readable, secret work answers VAULT_LOCKED, unlock (keychain) brings it back', async () => {
    const t = setup();
    await t.call('vault.create', { keySource: 'keychain' });
    await t.call('credentials.add', hostinger('VPS', 'abcdefghijklmnop1'));
    expect(await t.call('vault.lock')).toMatchObject({ ok: true, value: { state: 'locked' } });
    expect(await t.call('credentials.list')).toMatchObject({ ok: true, value: [{ name: 'VPS' }] });
    expect(await t.call('audit.list')).toMatchObject({ ok: true });
    expect(await t.call('credentials.add', hostinger('VPS 2', 'abcdefghijklmnop2'))).toMatchObject({
      ok: false,
      error: { code: 'VAULT_LOCKED' }
    });
    expect(await t.call('audit.verify')).toMatchObject({ ok: false, error: { code: 'VAULT_LOCKED' } });
    expect(await t.call('vault.unlock', { passphrase: 'not used' })).toMatchObject({ ok: false, error: { code: 'INPUT_INVALID' } });
    expect(await t.call('vault.unlock', {})).toMatchObject({ ok: true, value: { state: 'unlocked' } });
    expect(t.events.filter((e) => e.name === 'vault.lock').map((e) => e.payload)).toEqual([
      { locked: false },
      { locked: true },
      { locked: false }
    ]);
  });

  it('a write by another process (the CLI) reaches the renderer as vault.changed on the next poll', async () => {
    const t = setup();
    await t.call('vault.create', { keySource: 'keychain' });
    await t.call('credentials.add', hostinger('mine', 'abcdefghijklmnop1'));
    t.core.pollExternalChanges();
    const before = t.events.length;
    const other = openApp({ vaultPath: t.path, actor: 'analyst:cli (cli)' });
    await other.vault.unlock();
    other.credentials.add(hostinger('theirs', 'abcdefghijklmnop2'));
    await other.close();
    expect(t.events.length).toBe(before);
    t.core.pollExternalChanges();
    expect(t.events.slice(before)).toEqual([
      { name: 'vault.changed', payload: { seq: 3, action: 'credential.add', credentialId: expect.any(String) as string } }
    ]);
    t.core.pollExternalChanges();
    expect(t.events.length).toBe(before + 1);
    expect(await t.call('credentials.list')).toMatchObject({ ok: true, value: [{ name: 'mine' }, { name: 'theirs' }] });
  });

  it('a handler that throws a foreign error answers INTERNAL with a fixed message, and its text is only logged by class', async () => {
    const t = setup();
    const logs: string[] = [];
    const table: HandlerTable = {
      ...createHandlerTable(t.session),
      'credentials.list': () => {
        throw new TypeError(`cannot read ${CANARY}`);
      }
    };
    const r = await createDispatcher(table, { log: (l) => logs.push(l) })('credentials.list', undefined);
    expect(r).toEqual({ ok: false, error: { code: 'INTERNAL', message: expect.stringMatching(/Nothing was changed/) as string } });
    expect(JSON.stringify([r, logs])).not.toContain(CANARY);
    expect(logs).toEqual(['ipc credentials.list failed: TypeError']);
  });

  it('answers are the contract’s views: the same schemas the CLI --json documents parse with', async () => {
    const t = setup();
    await t.call('vault.create', { keySource: 'keychain' });
    const added = await t.call<{ id: string }>('credentials.add', { name: 'Blocklist', ...SAMPLE.blocklist() });
    if (!added.ok) throw new Error('add failed');
    const views: [z.ZodType, Result<unknown>][] = [
      [CredentialViewSchema, added],
      [z.array(CredentialViewSchema), await t.call('credentials.list')],
      [CredentialViewSchema, await t.call('credentials.get', { id: added.value.id })],
      [BindingChangeViewSchema, await t.call('bindings.bind', { credentialId: added.value.id, domain: 'corp.example' })],
      [z.array(BindingViewSchema), await t.call('bindings.list')],
      [ResolutionViewSchema, await t.call('bindings.resolve', { capability: 'block_email_domain', hostDomain: 'corp.example' })],
      [z.array(ExecutionViewSchema), await t.call('executions.list')],
      [z.array(PromptViewSchema), await t.call('prompts.list')],
      [z.array(AuditEntryViewSchema), await t.call('audit.list')],
      [z.array(ProviderViewSchema), await t.call('providers.list')]
    ];
    for (const [schema, r] of views) {
      expect(r.ok).toBe(true);
      if (r.ok) schema.parse(r.value);
    }
  });
});
