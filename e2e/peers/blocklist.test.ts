import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBlocklistPeer, type BlocklistPeer } from './blocklist.ts';

/** The peer implements docs/blocklist-api.md, Keydesk's stated contract for the blocklist service. */
describe('the blocklist service peer (docs/blocklist-api.md)', () => {
  let peer: BlocklistPeer;
  beforeAll(async () => {
    peer = await startBlocklistPeer();
  });
  afterAll(async () => {
    await peer.close();
  });

  const call = (token: string | null, method: string, path: string, body?: unknown) =>
    fetch(`${peer.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {})
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {})
    });

  it('GET /v1/entries?limit=1 answers {"entries":[…]} for a valid token', async () => {
    peer.reset();
    const token = peer.blocklist.addToken();
    const res = await call(token, 'GET', '/v1/entries?limit=1');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ entries: [], next_cursor: null });
  });

  it('rejects a missing, unknown, expired or revoked token with 401 and the reason as its error code', async () => {
    peer.reset();
    expect(await (await call(null, 'GET', '/v1/entries?limit=1')).json()).toMatchObject({ error: 'invalid_token' });
    expect((await call('blk_unknown_token_000000000', 'GET', '/v1/entries?limit=1')).status).toBe(401);
    const expired = peer.blocklist.addToken({ expired: true });
    expect(await (await call(expired, 'GET', '/v1/entries?limit=1')).json()).toMatchObject({ error: 'token_expired' });
    const revoked = peer.blocklist.addToken();
    peer.blocklist.revoke(revoked);
    expect(await (await call(revoked, 'GET', '/v1/entries?limit=1')).json()).toMatchObject({ error: 'token_revoked' });
  });

  it('POST creates an entry (201 {"id"}), a second POST of the same domain is 409 naming the existing id, DELETE is 204 then 404', async () => {
    peer.reset();
    const token = peer.blocklist.addToken();
    const created = await call(token, 'POST', '/v1/entries', { type: 'domain', value: 'Evil.Example.', reason: 'phishing campaign' });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const again = await call(token, 'POST', '/v1/entries', { type: 'domain', value: 'evil.example', reason: 'again' });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: 'already_exists', id });
    const listed = (await (await call(token, 'GET', '/v1/entries?value=evil.example')).json()) as {
      entries: { id: string; value: string }[];
    };
    expect(listed.entries).toEqual([expect.objectContaining({ id, value: 'evil.example', type: 'domain' })]);
    expect((await call(token, 'DELETE', `/v1/entries/${id}`)).status).toBe(204);
    expect((await call(token, 'DELETE', `/v1/entries/${id}`)).status).toBe(404);
  });

  it('refuses bad entries with 400 invalid_request and changes nothing', async () => {
    peer.reset();
    const token = peer.blocklist.addToken();
    for (const body of [
      'not json',
      { type: 'ip', value: '192.0.2.1' },
      { type: 'domain', value: 'not a domain' },
      { type: 'domain', value: 'ok.example', reason: 7 }
    ]) {
      const res = await call(token, 'POST', '/v1/entries', body);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_request' });
    }
    expect(peer.blocklist.entries.size).toBe(0);
  });

  it('a read-only token may read but not write (403 insufficient_scope)', async () => {
    peer.reset();
    const token = peer.blocklist.addToken({ scopes: ['read'] });
    expect((await call(token, 'GET', '/v1/entries?limit=1')).status).toBe(200);
    const res = await call(token, 'POST', '/v1/entries', { type: 'domain', value: 'evil.example' });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: 'insufficient_scope' });
  });

  it('answers the credential faults for every token', async () => {
    const token = peer.blocklist.addToken();
    for (const [fault, error] of [
      ['wrong_secret', 'invalid_token'],
      ['expired', 'token_expired'],
      ['revoked', 'token_revoked']
    ] as const) {
      peer.reset();
      peer.setFault(fault);
      const res = await call(token, 'GET', '/v1/entries?limit=1');
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error });
    }
    peer.reset();
  });
});
