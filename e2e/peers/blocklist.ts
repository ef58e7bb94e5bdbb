import { randomBytes, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { bearer, startPeer, type Peer, type PeerContext, type PeerOptions } from './harness.ts';

/**
 * A loopback AgentSOC mail blocklist service (test support only), speaking the REST contract Keydesk states in
 * docs/blocklist-api.md (the service publishes none): bearer tokens with read or read+write scope, an in-memory
 * entry store, `GET /v1/entries`, `POST /v1/entries` (201, or 409 when the entry exists), `DELETE /v1/entries/{id}`
 * (204, or 404 when gone). Token problems answer 401 with `{"error":"invalid_token"|"token_expired"|"token_revoked"}`;
 * a read-only token writing answers 403 `insufficient_scope`. Harness faults: wrong_secret → invalid_token,
 * expired → token_expired, revoked → token_revoked, for every token; rate_limited, server_error, hang and malformed
 * come from the harness.
 */

export interface BlocklistEntry {
  id: string;
  type: 'domain';
  value: string;
  reason: string;
  created_at: string;
}

export interface BlocklistPeerState {
  entries: Map<string, BlocklistEntry>;
  /** Adds a token (random unless given); `scopes` defaults to read and write. */
  addToken(opts?: { token?: string; scopes?: ('read' | 'write')[]; expired?: boolean }): string;
  revoke(token: string): void;
  expire(token: string): void;
  /** When set, error bodies quote the token they were sent (a misbehaving service; for the canary tests). */
  echoSecrets: boolean;
}

export interface BlocklistPeer extends Peer {
  blocklist: BlocklistPeerState;
}

interface TokenState {
  scopes: Set<string>;
  expired: boolean;
  revoked: boolean;
}

const DOMAIN_RE = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;

export async function startBlocklistPeer(opts: PeerOptions = {}): Promise<BlocklistPeer> {
  const tokens = new Map<string, TokenState>();
  const entries = new Map<string, BlocklistEntry>();
  const state: BlocklistPeerState = {
    entries,
    echoSecrets: false,
    addToken(o = {}) {
      const token = o.token ?? `blk_${randomBytes(24).toString('base64url')}`;
      tokens.set(token, { scopes: new Set(o.scopes ?? ['read', 'write']), expired: o.expired ?? false, revoked: false });
      return token;
    },
    revoke(token) {
      const t = tokens.get(token);
      if (t) t.revoked = true;
    },
    expire(token) {
      const t = tokens.get(token);
      if (t) t.expired = true;
    }
  };

  const unauthorized = (
    res: ServerResponse,
    ctx: PeerContext,
    error: 'invalid_token' | 'token_expired' | 'token_revoked',
    given: string | null
  ) => {
    const words = {
      invalid_token: 'The token is not valid.',
      token_expired: 'The token has expired.',
      token_revoked: 'The token was revoked.'
    }[error];
    ctx.json(
      res,
      401,
      { error, message: state.echoSecrets && given ? `${words} Token: ${given}` : words },
      { 'www-authenticate': `Bearer error="invalid_token"` }
    );
  };

  const peer = await startPeer((req, res, ctx) => {
    const given = bearer(req);
    const fault = ctx.control.fault;
    if (fault === 'wrong_secret') return unauthorized(res, ctx, 'invalid_token', given);
    if (fault === 'expired') return unauthorized(res, ctx, 'token_expired', given);
    if (fault === 'revoked') return unauthorized(res, ctx, 'token_revoked', given);
    const t = given ? tokens.get(given) : undefined;
    if (!t) return unauthorized(res, ctx, 'invalid_token', given);
    if (t.revoked) return unauthorized(res, ctx, 'token_revoked', given);
    if (t.expired) return unauthorized(res, ctx, 'token_expired', given);

    const path = ctx.url.pathname;
    if (path === '/v1/entries' && req.method === 'GET') {
      const limitRaw = ctx.url.searchParams.get('limit') ?? '100';
      const limit = Number(limitRaw);
      if (!/^\d+$/.test(limitRaw) || limit < 1 || limit > 1000)
        return ctx.json(res, 400, { error: 'invalid_request', message: 'limit must be 1–1000.' });
      const value = ctx.url.searchParams.get('value');
      const list = [...entries.values()].filter((e) => value === null || e.value === value.toLowerCase());
      return ctx.json(res, 200, { entries: list.slice(0, limit), next_cursor: null });
    }
    if (path === '/v1/entries' && req.method === 'POST') {
      if (!t.scopes.has('write'))
        return ctx.json(res, 403, { error: 'insufficient_scope', message: 'This token may only read the blocklist.' });
      let body: unknown;
      try {
        body = JSON.parse(ctx.body);
      } catch {
        return ctx.json(res, 400, { error: 'invalid_request', message: 'The body must be JSON.' });
      }
      const b = (body ?? {}) as Record<string, unknown>;
      const value = typeof b.value === 'string' ? b.value.trim().toLowerCase().replace(/\.$/, '') : '';
      if (b.type !== 'domain') return ctx.json(res, 400, { error: 'invalid_request', message: 'type must be "domain".' });
      if (!DOMAIN_RE.test(value)) return ctx.json(res, 400, { error: 'invalid_request', message: 'value must be a domain name.' });
      if (b.reason !== undefined && (typeof b.reason !== 'string' || b.reason.length > 1000)) {
        return ctx.json(res, 400, { error: 'invalid_request', message: 'reason must be text of at most 1000 characters.' });
      }
      const existing = [...entries.values()].find((e) => e.type === 'domain' && e.value === value);
      if (existing) return ctx.json(res, 409, { error: 'already_exists', message: 'The entry already exists.', id: existing.id });
      const entry: BlocklistEntry = {
        id: randomUUID(),
        type: 'domain',
        value,
        reason: typeof b.reason === 'string' ? b.reason : '',
        created_at: new Date().toISOString()
      };
      entries.set(entry.id, entry);
      return ctx.json(res, 201, { id: entry.id });
    }
    const m = /^\/v1\/entries\/([A-Za-z0-9-]{1,64})$/.exec(path);
    if (m && req.method === 'DELETE') {
      if (!t.scopes.has('write'))
        return ctx.json(res, 403, { error: 'insufficient_scope', message: 'This token may only read the blocklist.' });
      if (!entries.delete(m[1] as string)) return ctx.json(res, 404, { error: 'not_found', message: 'No such entry.' });
      res.writeHead(204);
      return void res.end();
    }
    return ctx.json(res, 404, { error: 'not_found', message: 'No such route.' });
  }, opts);

  return Object.assign(peer, { blocklist: state });
}
