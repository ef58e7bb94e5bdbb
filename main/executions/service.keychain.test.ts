import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KeydeskEvents } from '../../preload/contract.ts';
import { startBlocklistPeer, type BlocklistPeer } from '../../e2e/peers/blocklist.ts';
import type { KeydeskApp } from '../app.ts';
import { SAMPLE, keychainVault, manualClock, type TempVault } from '../testing/fixtures.ts';
import { spawnChild, type Child } from './testing/spawn.ts';

const HOUR = 3_600_000;

let tv: TempVault;
let app: KeydeskApp;
let peer: BlocklistPeer;
let token: string;
let clock: ReturnType<typeof manualClock>;
let events: { name: string; payload: unknown }[];

beforeEach(async () => {
  clock = manualClock('2026-11-21T12:00:00.000Z');
  peer = await startBlocklistPeer();
  token = peer.blocklist.addToken();
  tv = await keychainVault({ clock });
  app = tv.app;
  app.credentials.add({ name: 'Blocklist', ...SAMPLE.blocklist(token, peer.url) });
  app.routing.bind('Blocklist', 'corp.example', { subdomains: true });
  events = [];
  app.vault.events.on('execution.changed', (p) => events.push({ name: 'execution.changed', payload: p }));
  app.vault.events.on('reauth.prompt', (p) => events.push({ name: 'reauth.prompt', payload: p }));
});

afterEach(async () => {
  await tv.cleanup();
  await peer.close();
});

const posts = () => peer.control.requests.filter((r) => r.method === 'POST').length;
const block = (domain: string, extra: Record<string, unknown> = {}) =>
  app.executions.run({
    capability: 'block_email_domain',
    target: domain,
    hostDomain: 'corp.example',
    reason: 'phishing wave INC-7',
    ...extra
  });
const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (e: { code?: string }) => e.code
  );

function statusEvents(id: string): string[] {
  return events
    .filter((e) => e.name === 'execution.changed' && (e.payload as KeydeskEvents['execution.changed']).id === id)
    .map((e) => (e.payload as KeydeskEvents['execution.changed']).status);
}

describe('a run from start to revert', () => {
  it('succeeds against the provider, records every transition with its audit entry and event, and reverts', async () => {
    const run = await block('Phish.Example');
    expect(run).toMatchObject({
      status: 'succeeded',
      capability: 'block_email_domain',
      target: 'phish.example',
      credentialName: 'Blocklist',
      boundDomain: 'corp.example',
      actorKind: 'analyst',
      attempts: 1
    });
    const entry = [...peer.blocklist.entries.values()];
    expect(entry).toEqual([expect.objectContaining({ value: 'phish.example', reason: 'phishing wave INC-7' })]);
    expect(run.revertContext).toEqual({ value: 'phish.example', entry_id: entry[0]!.id, created: true });
    expect(run.steps.map((s) => s.message).join('\n')).toMatch(/Revert context recorded\.[\s\S]*201 Created/);
    expect(statusEvents(run.id)).toEqual(['pending', 'running', 'succeeded']);
    const actions = app.audit
      .list()
      .filter((a) => a.detail.execution_id === run.id)
      .map((a) => a.action);
    expect(actions).toEqual(['execution.pending', 'execution.running', 'execution.succeeded']);

    const reverted = await app.executions.revert(run.id);
    expect(reverted.status).toBe('reverted');
    expect(peer.blocklist.entries.size).toBe(0);
    expect(statusEvents(run.id)).toEqual(['pending', 'running', 'succeeded', 'reverted']);
    expect(await codeOf(app.executions.revert(run.id))).toBe('EXECUTION_CONFLICT');
    expect((await app.audit.verify()).ok).toBe(true);
  });

  it('an identical run already in effect supersedes a new one: recorded failed, naming it, and the provider is not called again', async () => {
    const first = await block('phish.example');
    const second = await block('PHISH.example.', { reason: 'same thing, other words' });
    expect(second).toMatchObject({ status: 'failed', marker: 'superseded', relatedId: first.id, failureReason: null });
    expect(second.error?.message).toContain(first.id);
    expect(posts()).toBe(1);
    expect(statusEvents(second.id)).toEqual(['failed']);
    // Once the first is reverted, the same block may run again.
    await app.executions.revert(first.id);
    expect((await block('phish.example')).status).toBe('succeeded');
    expect(posts()).toBe(2);
  });

  it('a block already on the list (409) succeeds without creating anything, and its revert leaves the entry alone', async () => {
    await fetch(`${peer.url}/v1/entries`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'domain', value: 'phish.example' })
    });
    const run = await block('phish.example');
    expect(run).toMatchObject({ status: 'succeeded', revertContext: { created: false } });
    expect(run.result?.summary).toMatch(/already blocked/);
    expect((await app.executions.revert(run.id)).status).toBe('reverted');
    expect(peer.blocklist.entries.size).toBe(1);
  });

  it('revert_failed, then a retry reverts', async () => {
    const run = await block('phish.example');
    peer.setFault('server_error');
    const failed = await app.executions.revert(run.id);
    expect(failed).toMatchObject({ status: 'revert_failed', error: { code: 'internal' } });
    expect(peer.blocklist.entries.size).toBe(1);
    const again = await app.executions.revert(run.id);
    expect(again.status).toBe('revert_failed');
    peer.setFault('none');
    expect((await app.executions.revert(run.id)).status).toBe('reverted');
    expect(peer.blocklist.entries.size).toBe(0);
    expect(statusEvents(run.id)).toEqual(['pending', 'running', 'succeeded', 'revert_failed', 'revert_failed', 'reverted']);
  });

  it('a provider failure that is not about the credential fails the run with its reason (no wait)', async () => {
    peer.setFault('server_error');
    const run = await block('phish.example');
    expect(run).toMatchObject({ status: 'failed', failureReason: 'cloud_api_error' });
    peer.setFault('none');
    const readOnly = peer.blocklist.addToken({ scopes: ['read'] });
    app.credentials.update('Blocklist', { values: { token: readOnly } });
    expect(await block('other.example')).toMatchObject({
      status: 'failed',
      failureReason: 'credential_invalid',
      error: { code: 'insufficient_scope' }
    });
  });
});

describe('the vault locks while a provider call is in flight', () => {
  it('the outcome is kept and written at the next unlock (nothing is lost, the run is not taken for interrupted)', async () => {
    peer.control.latencyMs = 1500; // the peer holds its answer; the vault locks meanwhile
    const pending = block('phish.example');
    while (posts() === 0) await new Promise((r) => setTimeout(r, 10));
    app.vault.lock();
    const view = await pending;
    expect(view.status).toBe('running'); // the call succeeded, but nothing can be written while locked
    expect(peer.blocklist.entries.size).toBe(1);
    await app.vault.unlock();
    expect(app.executions.get(view.id)).toMatchObject({ status: 'succeeded', marker: null });
  });

  it('another process rotates the vault key meanwhile: the handle locks itself, and the outcome is written at the next unlock', async () => {
    clock.set(new Date().toISOString()); // the other process runs on the system clock (its start-up checks our lease)
    peer.control.latencyMs = 1500;
    const pending = block('phish.example');
    while (posts() === 0) await new Promise((r) => setTimeout(r, 10));
    const rotated = spawnSync(process.execPath, ['main/testing/rotate-child.ts', tv.path, 'none', '1'], {
      cwd: resolve(import.meta.dirname, '../..'),
      encoding: 'utf8'
    });
    expect(rotated.status, rotated.stderr).toBe(0);
    const view = await pending;
    expect(view.status).toBe('running');
    expect(app.vault.isUnlocked()).toBe(false); // KEY_ROTATED locked it: the app shows its lock screen
    await app.vault.unlock();
    expect(app.executions.get(view.id)).toMatchObject({ status: 'succeeded', marker: null });
    expect(peer.blocklist.entries.size).toBe(1);
    expect((await app.audit.verify()).ok).toBe(true);
  });
});

describe('bad input never reaches the provider and records nothing', () => {
  it.each([
    [{ capability: 'block_email_domain', target: 'not a domain', hostDomain: 'corp.example' }, 'INPUT_INVALID'],
    [{ capability: 'block_email_domain', target: 'phish.example', hostEmail: 'not-an-email' }, 'INPUT_INVALID'],
    [{ capability: 'nuke_from_orbit', target: 'phish.example', hostDomain: 'corp.example' }, 'INPUT_INVALID'],
    [{ capability: 'disable_user', target: 'alice@corp.example' }, 'INPUT_INVALID'], // the blocklist bound to corp.example cannot disable users
    [{ capability: 'block_email_domain', target: 'phish.example', hostDomain: 'other.example' }, 'NO_BINDING'],
    [{ capability: 'power', target: '1234', credential: 'Blocklist' }, 'INPUT_INVALID'],
    [{ capability: 'block_email_domain', target: 'phish.example', hostDomain: 'corp.example', credential: 'Nobody' }, 'NOT_FOUND'],
    [{ capability: 'block_email_domain', target: 'phish.example', hostDomain: 'corp.example', reason: '' }, 'INPUT_INVALID']
  ])('%j → %s', async (input, code) => {
    const auditBefore = app.audit.list().length;
    expect(await codeOf(app.executions.run({ reason: 'r', ...input }))).toBe(code);
    expect(peer.control.requests).toHaveLength(0);
    expect(app.executions.list()).toHaveLength(0);
    expect(app.audit.list()).toHaveLength(auditBefore);
  });

  it('revert and get take an execution id, not a pattern: "%" or "_" never picks a run', async () => {
    const run = await block('phish.example');
    const before = peer.control.requests.length;
    for (const bad of ['%', '%%%%%%%%', '________', run.id.slice(0, 7), '', 42]) {
      expect(await codeOf(app.executions.revert(bad as string)), String(bad)).toBe('INPUT_INVALID');
      expect(() => app.executions.get(bad as string)).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
    }
    expect(await codeOf(app.executions.revert('00000000'))).toBe('NOT_FOUND');
    expect(peer.control.requests).toHaveLength(before);
    expect(app.executions.get(run.id).status).toBe('succeeded');
  });
});

describe('re-authentication', () => {
  it('a credential already expired makes no provider call: the run waits with a deadline and a prompt', async () => {
    app.credentials.recordHealth('Blocklist', {
      status: 'expired',
      lastError: { code: 'token_expired', message: 'expired' },
      checkedAt: clock.now().toISOString()
    });
    const run = await block('phish.example');
    expect(run).toMatchObject({ status: 'awaiting_reauth', deadline: '2026-11-21T13:00:00.000Z' });
    expect(peer.control.requests).toHaveLength(0);
    expect(app.executions.prompts()).toEqual([
      expect.objectContaining({
        credentialName: 'Blocklist',
        method: 'secret',
        deadline: '2026-11-21T13:00:00.000Z',
        waiting: [expect.objectContaining({ id: run.id })]
      })
    ]);
    expect(events.filter((e) => e.name === 'reauth.prompt').map((e) => (e.payload as { state: string }).state)).toEqual(['raised']);
  });

  it('"unknown" does not block: the run’s own call decides', async () => {
    app.credentials.recordHealth('Blocklist', {
      status: 'unknown',
      lastError: { code: 'HTTP_503', message: 'blip' },
      checkedAt: clock.now().toISOString()
    });
    expect((await block('phish.example')).status).toBe('succeeded');
  });

  it('a provider rejection mid-run marks the credential expired, waits, and re-auth with a new secret resumes the same run once', async () => {
    peer.blocklist.expire(token);
    const run = await block('phish.example');
    expect(run).toMatchObject({ status: 'awaiting_reauth', error: { code: 'token_expired' } });
    expect(app.credentials.get('Blocklist').status).toBe('expired');
    expect(posts()).toBe(1);
    expect(await codeOf(app.executions.resumeWaiting('Blocklist'))).toBe('CREDENTIAL_NOT_READY');

    const fresh = peer.blocklist.addToken();
    const report = await app.executions.reauthWithSecrets('Blocklist', { token: fresh });
    expect(report.resumed.map((v) => [v.id, v.status, v.attempts])).toEqual([[run.id, 'succeeded', 2]]);
    expect(posts()).toBe(2); // one rejected, one that blocked
    expect(peer.blocklist.entries.size).toBe(1);
    expect(app.executions.prompts()).toEqual([]);
    expect(statusEvents(run.id)).toEqual(['pending', 'running', 'awaiting_reauth', 'running', 'succeeded']);
    expect(app.audit.list().map((a) => a.action)).toEqual(expect.arrayContaining(['reauth.prompt_raised', 'reauth.prompt_resolved']));
  });

  it('a new secret that does not validate resumes nothing', async () => {
    peer.blocklist.expire(token);
    const run = await block('phish.example');
    const wrong = 'blk_wrong_token_000000000000';
    expect(await codeOf(app.executions.reauthWithSecrets('Blocklist', { token: wrong }))).toBe('PROVIDER_REJECTED');
    expect(app.executions.get(run.id).status).toBe('awaiting_reauth');
    expect(app.executions.prompts()).toHaveLength(1);
  });

  it('re-auth resumes every run waiting on that credential, with the same ids, one provider call each', async () => {
    app.credentials.recordHealth('Blocklist', {
      status: 'failed',
      lastError: { code: 'invalid_token', message: 'x' },
      checkedAt: clock.now().toISOString()
    });
    const waiting = [await block('a.example'), await block('b.example'), await block('c.example')];
    expect(waiting.map((w) => w.status)).toEqual(['awaiting_reauth', 'awaiting_reauth', 'awaiting_reauth']);
    expect(posts()).toBe(0);
    const report = await app.executions.reauthWithSecrets('Blocklist', { token: peer.blocklist.addToken() });
    expect(report.resumed.map((v) => v.id).sort()).toEqual(waiting.map((w) => w.id).sort());
    expect(report.resumed.every((v) => v.status === 'succeeded')).toBe(true);
    expect(posts()).toBe(3);
    expect([...peer.blocklist.entries.values()].map((e) => e.value).sort()).toEqual(['a.example', 'b.example', 'c.example']);
  });

  it('at the deadline the run expires and the prompt clears (injected clock); nothing resumes after', async () => {
    peer.blocklist.expire(token);
    const run = await block('phish.example');
    clock.advance(HOUR - 1000);
    expect(app.executions.get(run.id).status).toBe('awaiting_reauth');
    clock.advance(1000);
    // Shown as over at once, before any process writes it.
    expect(app.executions.get(run.id)).toMatchObject({ status: 'expired_awaiting_reauth', statusRecorded: false });
    expect(app.executions.prompts()).toEqual([]);
    expect(app.executions.expireDue()).toEqual([run.id]);
    expect(app.executions.get(run.id)).toMatchObject({ status: 'expired_awaiting_reauth', statusRecorded: true });
    expect(app.audit.list().map((a) => a.action)).toEqual(
      expect.arrayContaining(['execution.expired_awaiting_reauth', 'reauth.prompt_expired'])
    );
    expect(events.filter((e) => e.name === 'reauth.prompt').map((e) => (e.payload as { state: string }).state)).toEqual([
      'raised',
      'expired'
    ]);
    const report = await app.executions.reauthWithSecrets('Blocklist', { token: peer.blocklist.addToken() });
    expect(report.resumed).toEqual([]);
    expect(posts()).toBe(1);
  });

  it('the cutoff window is configurable per run', async () => {
    peer.blocklist.expire(token);
    const run = await app.executions.run(
      { capability: 'block_email_domain', target: 'x.example', hostDomain: 'corp.example', reason: 'r' },
      { cutoffMs: 5 * 60_000 }
    );
    expect(run.deadline).toBe('2026-11-21T12:05:00.000Z');
  });

  it('deadlines, prompts and waiting runs survive a restart; re-auth after the restart resumes the same run', async () => {
    peer.blocklist.expire(token);
    const run = await block('phish.example');
    await app.close();
    clock.advance(30 * 60_000);
    const restarted = tv.reopen();
    // Offline inspection, locked.
    expect(restarted.executions.get(run.id)).toMatchObject({ status: 'awaiting_reauth', deadline: '2026-11-21T13:00:00.000Z' });
    expect(restarted.executions.prompts().map((p) => p.credentialName)).toEqual(['Blocklist']);
    await restarted.vault.unlock();
    const report = await restarted.executions.reauthWithSecrets('Blocklist', { token: peer.blocklist.addToken() });
    expect(report.resumed.map((v) => [v.id, v.status])).toEqual([[run.id, 'succeeded']]);
  });

  it('a deadline that passed while Keydesk was closed, or locked, is shown at once and written at the next unlock', async () => {
    peer.blocklist.expire(token);
    const run = await block('phish.example');
    app.vault.lock();
    clock.advance(2 * HOUR);
    expect(app.executions.get(run.id)).toMatchObject({ status: 'expired_awaiting_reauth', statusRecorded: false });
    expect(app.executions.list({ status: 'expired_awaiting_reauth' }).map((v) => v.id)).toEqual([run.id]);
    expect(app.executions.list({ status: 'awaiting_reauth' })).toEqual([]);
    expect(await codeOf(app.executions.resumeWaiting('Blocklist'))).toBe('VAULT_LOCKED');
    await app.vault.unlock();
    expect(app.executions.get(run.id)).toMatchObject({ status: 'expired_awaiting_reauth', statusRecorded: true });
    const entry = app.audit.list().find((a) => a.action === 'execution.expired_awaiting_reauth');
    expect(entry?.detail).toMatchObject({ deadline: '2026-11-21T13:00:00.000Z' });
    expect(app.executions.get(run.id).steps.at(-1)?.message).toMatch(/Recorded when the vault was next unlocked/);
  });

  it('a waiting run whose credential is removed ends expired at the next housekeeping', async () => {
    peer.blocklist.expire(token);
    const run = await block('phish.example');
    app.credentials.remove('Blocklist');
    app.executions.housekeeping();
    expect(app.executions.get(run.id)).toMatchObject({
      status: 'expired_awaiting_reauth',
      credentialId: null,
      credentialName: 'Blocklist'
    });
  });
});

// ---------------------------------------------------------------------------------------------- other processes

const child = (args: string[]): Child => spawnChild(tv.path, args);

describe('two processes', () => {
  it('a run found running at start-up (its process died mid-call) becomes failed, interrupted, effect unknown', async () => {
    peer.setFault('hang');
    const c = child([
      'run',
      JSON.stringify({ capability: 'block_email_domain', target: 'phish.example', hostDomain: 'corp.example', reason: 'r' })
    ]);
    await c.waitFor('claimed');
    while (posts() === 0) await new Promise((r) => setTimeout(r, 20));
    c.proc.kill('SIGKILL');
    await c.exit;
    const [running] = app.executions.list();
    expect(running).toMatchObject({ status: 'running' });

    const restarted = tv.reopen();
    await restarted.vault.unlock(); // start-up work runs at unlock
    expect(restarted.executions.get(running!.id)).toMatchObject({ status: 'failed', marker: 'interrupted', failureReason: null });
    expect(restarted.executions.get(running!.id).steps.at(-1)?.message).toMatch(/effect is unknown/);
    expect(await codeOf(restarted.executions.revert(running!.id))).toBe('EXECUTION_CONFLICT');
  });

  it('a revert whose process died mid-call becomes revert_failed at start-up, and a retry reverts', async () => {
    const done = await block('phish.example');
    peer.setFault('hang');
    const c = child(['revert', done.id]);
    while (!peer.control.requests.some((r) => r.method === 'DELETE')) await new Promise((r) => setTimeout(r, 20));
    c.proc.kill('SIGKILL');
    await c.exit;
    peer.setFault('none');
    const restarted = tv.reopen();
    await restarted.vault.unlock();
    expect(restarted.executions.get(done.id)).toMatchObject({ status: 'revert_failed', error: { code: 'INTERRUPTED' } });
    expect((await restarted.executions.revert(done.id)).status).toBe('reverted');
    expect(peer.blocklist.entries.size).toBe(0);
  });

  it('a run another live process is executing is left alone at start-up', async () => {
    peer.setFault('hang');
    const c = child([
      'run',
      JSON.stringify({ capability: 'block_email_domain', target: 'phish.example', hostDomain: 'corp.example', reason: 'r' })
    ]);
    await c.waitFor('claimed');
    const other = tv.reopen();
    await other.vault.unlock();
    expect(other.executions.list()[0]?.status).toBe('running');
    c.proc.kill('SIGKILL');
    await c.exit;
  });

  it('two processes resuming at once act once per run (same ids; the peer sees one block each)', async () => {
    clock.set(new Date().toISOString()); // the children run on the system clock
    app.credentials.recordHealth('Blocklist', {
      status: 'expired',
      lastError: { code: 'token_expired', message: 'x' },
      checkedAt: clock.now().toISOString()
    });
    const waiting = [await block('a.example'), await block('b.example'), await block('c.example'), await block('d.example')];
    // Re-authenticated (new secret, validated) by the analyst; then the app and the CLI both resume.
    app.credentials.update('Blocklist', { values: { token: peer.blocklist.addToken() } });
    app.credentials.recordHealth('Blocklist', { status: 'ok', lastError: null, checkedAt: clock.now().toISOString() });
    peer.control.latencyMs = 30;
    const a = child(['resume', 'Blocklist']);
    const b = child(['resume', 'Blocklist']);
    await Promise.all([a.waitFor('ready'), b.waitFor('ready')]);
    a.proc.stdin.write('go\n');
    b.proc.stdin.write('go\n');
    expect(await a.exit).toBe(0);
    expect(await b.exit).toBe(0);
    const outcomes = [a, b].map((c) => JSON.parse(c.lines.at(-1)!) as { resumed: { id: string; status: string }[] });
    const resumedIds = outcomes.flatMap((o) => o.resumed.map((r) => r.id));
    expect(resumedIds.sort()).toEqual(waiting.map((w) => w.id).sort());
    expect(new Set(resumedIds).size).toBe(4);
    expect(posts()).toBe(4);
    for (const w of waiting) expect(app.executions.get(w.id)).toMatchObject({ status: 'succeeded', attempts: 1 }); // no provider call before the wait
    expect((await app.audit.verify()).ok).toBe(true);
  });
});

describe('security: a canary secret never reaches step logs, results, errors, events or the audit log', () => {
  it('through a rejected run (the provider echoes the token), a resumed success and a revert', async () => {
    const canary = `blk_CANARY_${Date.now()}_0a1b2c3d4e5f60718293`;
    peer.blocklist.addToken({ token: canary });
    app.credentials.update('Blocklist', { values: { token: canary } });
    const seen: unknown[] = [];
    for (const name of ['execution.changed', 'reauth.prompt', 'vault.changed'] as const) app.vault.events.on(name, (p) => seen.push(p));
    peer.blocklist.echoSecrets = true;
    peer.blocklist.expire(canary);
    const waiting = await block('phish.example');
    expect(waiting.error?.message).toContain('[redacted]');
    peer.blocklist.addToken({ token: canary });
    app.credentials.recordHealth('Blocklist', { status: 'ok', lastError: null, checkedAt: clock.now().toISOString() });
    const { resumed } = await app.executions.resumeWaiting('Blocklist');
    await app.executions.revert(resumed[0]!.id);
    peer.setFault('wrong_secret');
    const failed = await block('other.example');
    expect(failed.status).toBe('awaiting_reauth');
    const everything = JSON.stringify([app.executions.list(), app.executions.prompts(), app.audit.list(), seen, app.credentials.list()]);
    expect(everything).not.toContain(canary);
    expect(everything).not.toContain(canary.slice(4, 24));
  });
});
