import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBlocklistPeer, type BlocklistPeer } from '../../../e2e/peers/blocklist.ts';
import { containsAnyEncoding, keychainVault, type TempVault } from '../../testing/fixtures.ts';
import { readinessOf } from '../../credentials/lifecycle.ts';
import { defaultRegistry } from '../registry.ts';

/** The blocklist provider through the real validation service against the contract peer (docs/blocklist-api.md). */
let peer: BlocklistPeer;
let v: TempVault;
beforeAll(async () => {
  peer = await startBlocklistPeer();
  v = await keychainVault();
});
afterAll(async () => {
  await v.cleanup();
  await peer.close();
});
afterEach(() => {
  peer.reset();
  peer.blocklist.echoSecrets = false;
});

let n = 0;
function add(token: string, url = peer.url) {
  return v.app.credentials.add({
    name: `blocklist-${++n}`,
    provider: 'agentsoc_mail_block',
    mode: 'bearer_token',
    values: { token, blocklist_url: url }
  });
}
const validate = async (id: string, timeoutMs?: number) => (await v.app.validation.validate(id, timeoutMs ? { timeoutMs } : {})).credential;

describe('agentsoc_mail_block validation', () => {
  it('ok: GET /v1/entries?limit=1 with the bearer token; block_email_domain is ready', async () => {
    const c = add(peer.blocklist.addToken());
    const r = await validate(c.id);
    expect(r).toMatchObject({ status: 'ok', lastError: null, observed: { identity: { blocklist_host: new URL(peer.url).host } } });
    expect(readinessOf(r, defaultRegistry).lines).toEqual([expect.objectContaining({ capability: 'block_email_domain', ready: true })]);
    expect(peer.control.requests).toEqual([expect.objectContaining({ method: 'GET', path: '/v1/entries' })]);
  });

  it('failed: a wrong or revoked token (401)', async () => {
    const wrong = add('blk_not_a_token_0123456789');
    expect(await validate(wrong.id)).toMatchObject({ status: 'failed', lastError: { code: 'HTTP_401' } });
    const token = peer.blocklist.addToken();
    peer.blocklist.revoke(token);
    const revoked = add(token);
    const r = await validate(revoked.id);
    expect(r.status).toBe('failed');
    expect(readinessOf(r, defaultRegistry).lines[0]).toMatchObject({ ready: false });
  });

  it('expired: the service says token_expired', async () => {
    const c = add(peer.blocklist.addToken({ expired: true }));
    expect(await validate(c.id)).toMatchObject({ status: 'expired', lastError: { code: 'token_expired' } });
  });

  it('unknown: 500, a malformed 200, a hang, and a URL that is not the service (404)', async () => {
    const c = add(peer.blocklist.addToken());
    peer.setFault('server_error');
    expect((await validate(c.id)).status).toBe('unknown');
    peer.reset();
    peer.setFault('malformed');
    expect((await validate(c.id)).lastError?.code).toBe('MALFORMED_RESPONSE');
    peer.reset();
    peer.setFault('hang');
    expect((await validate(c.id, 200)).lastError?.code).toBe('PROVIDER_UNREACHABLE');
    peer.reset();
    const elsewhere = add(peer.blocklist.addToken(), `${peer.url}/not-the-service`);
    expect(await validate(elsewhere.id)).toMatchObject({ status: 'unknown', lastError: { code: 'HTTP_404' } });
  });

  it('canary: a token the service echoes back is never stored, returned or audited', async () => {
    const canary = `blk_canary_${crypto.randomUUID()}`;
    peer.blocklist.addToken({ token: canary, expired: true });
    peer.blocklist.echoSecrets = true;
    const c = add(canary);
    const r = await v.app.validation.validate(c.id);
    expect(r.credential.lastError?.message).toContain('[redacted]');
    for (const text of [JSON.stringify(r), JSON.stringify(v.app.credentials.list()), JSON.stringify([...v.app.audit.export()])]) {
      expect(containsAnyEncoding(text, canary)).toBeNull();
    }
  });
});
