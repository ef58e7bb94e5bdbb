import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleVm, startHostingerPeer, type HostingerPeer } from '../../../e2e/peers/hostinger.ts';
import type { KeydeskApp } from '../../app.ts';
import { SAMPLE, containsAnyEncoding, keychainVault, type TempVault } from '../../testing/fixtures.ts';

let tv: TempVault;
let app: KeydeskApp;
let peer: HostingerPeer;
let token: string;
const VM = 1268054;

beforeEach(async () => {
  peer = await startHostingerPeer();
  token = peer.hostinger.addToken({ vms: [sampleVm(VM), { ...sampleVm(42), state: 'stopped' }] });
  tv = await keychainVault();
  app = tv.app;
  const values = { ...SAMPLE.hostinger(token).values, api_base_url: peer.url };
  app.credentials.add({ name: 'VPS', provider: 'hostinger', mode: 'api_token', values });
});
afterEach(async () => {
  await tv.cleanup();
  await peer.close();
});

const state = async (id: number) =>
  (
    (await (await fetch(`${peer.url}/api/vps/v1/virtual-machines/${id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      state: string;
    }
  ).state;
const power = (target: string) =>
  app.executions.run({ capability: 'power', target, credential: 'VPS', reason: 'crypto-miner on the host, INC-12' });
const actions = () => peer.control.requests.filter((r) => r.method === 'POST').map((r) => r.path);

describe('hostinger power (VPS stop; revert starts it)', () => {
  it('stops a running VPS, recording that it was running, and the revert starts it again', async () => {
    const run = await power(String(VM));
    expect(run).toMatchObject({
      status: 'succeeded',
      revertContext: { vm_id: String(VM), prior_state: 'running', stopped_by_this_run: true }
    });
    expect(await state(VM)).toBe('stopped');
    expect(actions()).toEqual([`/api/vps/v1/virtual-machines/${VM}/stop`]);
    expect((await app.executions.revert(run.id)).status).toBe('reverted');
    expect(await state(VM)).toBe('running');
    expect(actions()).toEqual([`/api/vps/v1/virtual-machines/${VM}/stop`, `/api/vps/v1/virtual-machines/${VM}/start`]);
  });

  it('a VPS that was already stopped is left alone, and its revert does not start it', async () => {
    const run = await power('42');
    expect(run.result?.summary).toMatch(/already stopped/);
    expect((await app.executions.revert(run.id)).status).toBe('reverted');
    expect(await state(42)).toBe('stopped');
    expect(actions()).toEqual([]);
  });

  it('an unknown VPS fails with inventory_not_found; a non-numeric id is refused before any call', async () => {
    expect(await power('999')).toMatchObject({ status: 'failed', failureReason: 'inventory_not_found' });
    const before = peer.control.requests.length;
    await expect(power('srv1268054')).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    expect(peer.control.requests.length).toBe(before);
  });

  it('a rejected token waits for re-authentication; a token without VPS access fails credential_invalid', async () => {
    peer.hostinger.revoke(token);
    expect(await power(String(VM))).toMatchObject({ status: 'awaiting_reauth', error: { code: 'HTTP_401' } });
    expect(app.credentials.get('VPS').status).toBe('failed');
    const limited = peer.hostinger.addToken({ vms: [sampleVm(7)], vpsAccess: false });
    app.credentials.update('VPS', { values: { api_token: limited } });
    expect(await power('7')).toMatchObject({ status: 'failed', failureReason: 'credential_invalid' });
    expect(actions()).toEqual([]); // nothing was stopped
  });

  it('canary: the API token never reaches step logs, results, errors, events, prompts or the audit log — also when the API quotes it', async () => {
    const canary = `hst_CANARY_${Date.now()}_0f1e2d3c4b5a69788796`;
    peer.hostinger.addToken({ token: canary, vms: [sampleVm(VM), sampleVm(7)] });
    app.credentials.update('VPS', { values: { api_token: canary } });
    const seen: unknown[] = [];
    for (const name of ['execution.changed', 'reauth.prompt', 'vault.changed'] as const) app.vault.events.on(name, (p) => seen.push(p));
    const ok = await power(String(VM));
    expect(ok.status).toBe('succeeded');
    await app.executions.revert(ok.id);
    peer.hostinger.echoSecrets = true;
    peer.hostinger.revoke(canary); // 401 quoting the token
    const waiting = await power('7');
    expect(waiting.status).toBe('awaiting_reauth');
    expect(waiting.error?.message).toContain('[redacted]');
    const everything = JSON.stringify([app.executions.list(), app.executions.prompts(), app.audit.list(), seen, app.credentials.list()]);
    expect(containsAnyEncoding(everything, canary)).toBeNull();
  });
});
