// Security regression: an execution row edited in the vault file cannot redirect a provider call. A resumed run or a
// revert reads its credential, target, host and revert context back from the file (DESIGN.md: storage is
// untrusted); each carries a MAC that is checked before any call. Real vault and keychain, loopback peers.
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startBlocklistPeer, type BlocklistPeer } from '../../e2e/peers/blocklist.ts';
import { sampleVm, startHostingerPeer, type HostingerPeer } from '../../e2e/peers/hostinger.ts';
import type { KeydeskApp } from '../app.ts';
import { SAMPLE, keychainVault, type TempVault } from '../testing/fixtures.ts';

let tv: TempVault;
let app: KeydeskApp;
let raw: Database.Database;

beforeEach(async () => {
  tv = await keychainVault();
  app = tv.app;
  raw = new Database(tv.path);
});
afterEach(async () => {
  raw.close();
  await tv.cleanup();
});

const edit = (id: string, column: string, value: string | null) =>
  raw.prepare(`UPDATE executions SET ${column} = ? WHERE id = ?`).run(value, id);
const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (e: { code?: string }) => e.code
  );
const refusals = () => app.audit.list().filter((a) => a.action === 'execution.refused');

describe('revert context edited in the file', () => {
  let peer: HostingerPeer;
  let token: string;
  beforeEach(async () => {
    peer = await startHostingerPeer();
    // VPS 1268054 is running; VPS 42 is the one the analyst stopped on purpose.
    token = peer.hostinger.addToken({ vms: [sampleVm(1268054), { ...sampleVm(42), state: 'stopped' }] });
    app.credentials.add({ name: 'VPS', provider: 'hostinger', mode: 'api_token', values: { api_token: token, api_base_url: peer.url } });
  });
  afterEach(() => peer.close());

  const state = async (id: number) =>
    (
      (await (await fetch(`${peer.url}/api/vps/v1/virtual-machines/${id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
        state: string;
      }
    ).state;
  const posts = () => peer.control.requests.filter((r) => r.method === 'POST').map((r) => r.path);

  it('cannot point a revert at another VPS: refused with EXECUTION_TAMPERED before any call, audited, run unchanged', async () => {
    const run = await app.executions.run({ capability: 'power', target: '1268054', credential: 'VPS', reason: 'miner, INC-12' });
    expect(run.status).toBe('succeeded');
    edit(run.id, 'revert_context', JSON.stringify({ vm_id: '42', prior_state: 'running', stopped_by_this_run: true }));

    expect(await codeOf(app.executions.revert(run.id))).toBe('EXECUTION_TAMPERED');
    expect(await state(42)).toBe('stopped');
    expect(posts()).toEqual(['/api/vps/v1/virtual-machines/1268054/stop']);
    expect(app.executions.get(run.id)).toMatchObject({ status: 'succeeded', revertedAt: null });
    expect(refusals().map((a) => a.detail)).toEqual([expect.objectContaining({ execution_id: run.id, error_code: 'EXECUTION_TAMPERED' })]);
  });

  it('cannot point a revert at another target, or strip the MAC', async () => {
    const run = await app.executions.run({ capability: 'power', target: '1268054', credential: 'VPS', reason: 'miner, INC-12' });
    edit(run.id, 'target', '42');
    expect(await codeOf(app.executions.revert(run.id))).toBe('EXECUTION_TAMPERED');
    edit(run.id, 'target', '1268054');
    raw.prepare('UPDATE executions SET mac = NULL WHERE id = ?').run(run.id);
    await expect(app.executions.revert(run.id)).rejects.toMatchObject({
      code: 'EXECUTION_TAMPERED',
      message: expect.stringContaining('no integrity MAC')
    });
    expect(posts()).toEqual(['/api/vps/v1/virtual-machines/1268054/stop']);
  });

  it('the untouched row still reverts (the MAC follows the revert context the run captured)', async () => {
    const run = await app.executions.run({ capability: 'power', target: '1268054', credential: 'VPS', reason: 'miner, INC-12' });
    expect((await app.executions.revert(run.id)).status).toBe('reverted');
    expect(await state(1268054)).toBe('running');
  });
});

describe('a waiting run edited in the file', () => {
  let peer: BlocklistPeer;
  let tokenA: string;
  beforeEach(async () => {
    peer = await startBlocklistPeer();
    tokenA = peer.blocklist.addToken();
    app.credentials.add({ name: 'Tenant A', ...SAMPLE.blocklist(tokenA, peer.url) });
    app.credentials.add({ name: 'Tenant B', ...SAMPLE.blocklist(peer.blocklist.addToken(), peer.url) });
    app.routing.bind('Tenant A', 'a.example');
    app.routing.bind('Tenant B', 'b.example');
  });
  afterEach(() => peer.close());

  const posts = () => peer.control.requests.filter((r) => r.method === 'POST').length;
  const waitOn = async (target: string) => {
    app.credentials.recordHealth('Tenant A', {
      status: 'expired',
      lastError: { code: 'token_expired', message: 'x' },
      checkedAt: app.vault.clock.now().toISOString()
    });
    const run = await app.executions.run({ capability: 'block_email_domain', target, hostDomain: 'a.example', reason: 'phish' });
    expect(run.status).toBe('awaiting_reauth');
    return run;
  };

  it('cannot change what the resumed run blocks: it fails EXECUTION_TAMPERED and calls nothing', async () => {
    const run = await waitOn('phish.example');
    edit(run.id, 'target', 'partner.example');
    const report = await app.executions.reauthWithSecrets('Tenant A', { token: peer.blocklist.addToken() });
    expect(report.resumed.map((v) => [v.id, v.status, v.failureReason, v.error?.code])).toEqual([
      [run.id, 'failed', 'input_invalid', 'EXECUTION_TAMPERED']
    ]);
    expect(posts()).toBe(0);
  });

  it('cannot re-point it at another tenant’s credential: resuming that tenant does not run it', async () => {
    const run = await waitOn('phish.example');
    const b = app.credentials.get('Tenant B').id;
    edit(run.id, 'credential_id', b);
    const report = await app.executions.resumeWaiting('Tenant B');
    expect(report.resumed.map((v) => [v.id, v.status, v.error?.code])).toEqual([[run.id, 'failed', 'EXECUTION_TAMPERED']]);
    expect(posts()).toBe(0);
  });

  it('an edited run cannot pass for "already in effect": the new run is refused, nothing is recorded', async () => {
    const done = await app.executions.run({
      capability: 'block_email_domain',
      target: 'phish.example',
      hostDomain: 'a.example',
      reason: 'phish'
    });
    expect(done.status).toBe('succeeded');
    edit(done.id, 'revert_context', JSON.stringify({ value: 'phish.example', entry_id: 'someone-elses', created: true }));
    const before = app.executions.list().length;
    expect(
      await codeOf(
        app.executions.run({ capability: 'block_email_domain', target: 'phish.example', hostDomain: 'a.example', reason: 'again' })
      )
    ).toBe('EXECUTION_TAMPERED');
    expect(app.executions.list()).toHaveLength(before);
    expect(refusals()).toHaveLength(1);
    expect(posts()).toBe(1);
  });
});
