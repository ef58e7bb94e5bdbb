import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleVm, startHostingerPeer, type HostingerPeer } from './hostinger.ts';

describe('the Hostinger VPS API peer', () => {
  let peer: HostingerPeer;
  beforeAll(async () => {
    peer = await startHostingerPeer();
  });
  afterAll(async () => {
    await peer.close();
  });

  const list = (token?: string) =>
    fetch(`${peer.url}/api/vps/v1/virtual-machines`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('listens on 127.0.0.1 only', () => {
    expect(new URL(peer.url).hostname).toBe('127.0.0.1');
  });

  it('lists the token’s virtual machines as a JSON array', async () => {
    peer.reset();
    const token = peer.hostinger.addToken({ vms: [sampleVm(1), sampleVm(2)] });
    const res = await list(token);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { id: number }[]).map((v) => v.id)).toEqual([1, 2]);
  });

  it('checks the bearer token: none, unknown or revoked → 401 {"message":"Unauthenticated."}', async () => {
    peer.reset();
    const token = peer.hostinger.addToken();
    for (const t of [undefined, 'hst_not_a_known_token_000000']) {
      const res = await list(t);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ message: 'Unauthenticated.' });
    }
    peer.hostinger.revoke(token);
    expect((await list(token)).status).toBe(401);
  });

  it('answers 403 for a token without VPS access', async () => {
    peer.reset();
    const token = peer.hostinger.addToken({ vpsAccess: false });
    expect((await list(token)).status).toBe(403);
  });

  it('answers the credential faults with 401 whatever the token, and the generic faults from the harness', async () => {
    const token = peer.hostinger.addToken();
    for (const fault of ['wrong_secret', 'expired', 'revoked'] as const) {
      peer.reset();
      peer.setFault(fault);
      expect((await list(token)).status).toBe(401);
    }
    peer.reset();
    peer.setFault('rate_limited', { retryAfterSeconds: 3, count: 1 });
    const limited = await list(token);
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '3']);
    expect((await list(token)).status).toBe(200);
    peer.reset();
    peer.setFault('server_error');
    expect((await list(token)).status).toBe(500);
    peer.reset();
    peer.setFault('malformed');
    await expect((await list(token)).json()).rejects.toThrow();
    peer.reset();
  });

  it('quotes the token in its errors only when told to misbehave (for canary tests)', async () => {
    peer.reset();
    const token = peer.hostinger.addToken();
    peer.hostinger.revoke(token);
    expect(await (await list(token)).text()).not.toContain(token);
    peer.hostinger.echoSecrets = true;
    expect(await (await list(token)).text()).toContain(token);
    peer.hostinger.echoSecrets = false;
  });
});
