import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sampleVm, startHostingerPeer, type HostingerPeer } from '../../../e2e/peers/hostinger.ts';
import { keychainVault, manualClock, type TempVault } from '../../testing/fixtures.ts';
import { readinessOf } from '../../credentials/lifecycle.ts';
import { defaultRegistry } from '../registry.ts';

/** Hostinger through the real validation service, a real keychain vault and the loopback VPS API. */
let peer: HostingerPeer;
let v: TempVault;
beforeAll(async () => {
  peer = await startHostingerPeer();
  v = await keychainVault({ clock: manualClock('2026-11-21T12:00:00.000Z') });
});
afterAll(async () => {
  await v.cleanup();
  await peer.close();
});
afterEach(() => peer.reset());

let n = 0;
function add(token: string, expiresAt?: string) {
  return v.app.credentials.add({
    name: `hostinger-${++n}`,
    provider: 'hostinger',
    mode: 'api_token',
    values: { api_token: token, api_base_url: peer.url },
    ...(expiresAt ? { expiresAt } : {})
  });
}
const validate = async (id: string) => (await v.app.validation.validate(id)).credential;

describe('hostinger validation', () => {
  it('ok: the VPS list answers, the token is recorded ok and power is ready', async () => {
    const c = add(peer.hostinger.addToken({ vms: [sampleVm(1), sampleVm(2)] }));
    const r = await validate(c.id);
    expect(r).toMatchObject({ status: 'ok', lastError: null, observed: { identity: { vps_instances: '2' } } });
    expect(readinessOf(r, defaultRegistry).lines).toEqual([expect.objectContaining({ capability: 'power', ready: true, missing: [] })]);
    expect(peer.control.requests).toEqual([expect.objectContaining({ method: 'GET', path: '/api/vps/v1/virtual-machines' })]);
  });

  it('failed: 401 is a wrong or revoked token', async () => {
    const c = add('hst_wrong_token_0123456789abcdef');
    const r = await validate(c.id);
    expect(r.status).toBe('failed');
    expect(r.lastError?.code).toBe('HTTP_401');
    expect(r.lastError?.message).toMatch(/wrong or revoked token/);
    expect(readinessOf(r, defaultRegistry).lines[0]).toMatchObject({ capability: 'power', ready: false });
  });

  it('failed: 403 says the token lacks VPS API access or the account has no VPS plan, and readiness names the permission', async () => {
    const c = add(peer.hostinger.addToken({ vpsAccess: false }));
    const r = await validate(c.id);
    expect(r.status).toBe('failed');
    expect(r.lastError?.message).toMatch(/lacks VPS API access or the account has no VPS plan/);
    expect(r.observed.readiness).toEqual([
      { capability: 'power', ready: false, missing: ['API token with VPS access on an account with a VPS plan'] }
    ]);
  });

  it('expired: the API rejects the token after the expiry date set for it', async () => {
    const token = peer.hostinger.addToken();
    const c = add(token, '2026-11-01');
    peer.setFault('expired');
    const r = await validate(c.id);
    expect(r.status).toBe('expired');
    expect(r.lastError?.message).toMatch(/recorded expiry \(2026-11-01\) has passed/);
  });

  it('unknown: a 500, a malformed answer or a hang say nothing about the token', async () => {
    const c = add(peer.hostinger.addToken());
    peer.setFault('server_error');
    expect((await validate(c.id)).status).toBe('unknown');
    peer.reset();
    peer.setFault('malformed');
    expect((await validate(c.id)).lastError?.code).toBe('MALFORMED_RESPONSE');
    peer.reset();
    peer.setFault('hang');
    const r = (await v.app.validation.validate(c.id, { timeoutMs: 200 })).credential;
    expect(r).toMatchObject({ status: 'unknown', lastError: { code: 'PROVIDER_UNREACHABLE' } });
  });

  it('an api_base_url that is not the Hostinger API (404) is unknown, not failed', async () => {
    const token = peer.hostinger.addToken();
    const c = v.app.credentials.add({
      name: 'wrong-base',
      provider: 'hostinger',
      mode: 'api_token',
      values: { api_token: token, api_base_url: `${peer.url}/elsewhere` }
    });
    const r = await validate(c.id);
    expect(r.status).toBe('unknown');
    expect(r.lastError?.code).toBe('HTTP_404');
  });
});
