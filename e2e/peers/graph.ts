import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearer, startPeer, type Peer, type PeerContext, type PeerOptions } from './harness.ts';
import type { AccessTokenClaims, EntraPeer } from './entra.ts';

/**
 * A loopback Microsoft Graph: `GET /v1.0/organization` (the tenant and its verified domains), with the bearer token
 * checked for real against the Entra peer that issued it (signature, audience = this peer, expiry) and app-only
 * authorization decided by the token's `roles`, as Graph does. Errors in Graph's JSON
 * (`{"error":{"code","message","innerError"}}`). Plain HTTP on 127.0.0.1 (`graph_endpoint` allows http to loopback).
 *
 * Each tenant keeps an in-memory directory of users; routes are a table (`peer.route`) and `peer.authorize` checks a
 * request's token and roles, so later work can add PATCH /users/{id}, revokeSignInSessions or messageRules beside
 * these. Test support only.
 */

export interface VerifiedDomain {
  name: string;
  type: 'Managed' | 'Federated';
  isDefault: boolean;
  isInitial: boolean;
  capabilities: string;
}

export interface GraphUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  mail: string | null;
  accountEnabled: boolean;
}

export interface GraphTenant {
  id: string;
  displayName: string;
  verifiedDomains: VerifiedDomain[];
  users: Map<string, GraphUser>;
}

type RouteHandler = (req: IncomingMessage, res: ServerResponse, ctx: PeerContext, params: string[]) => void | Promise<void>;

export interface GraphPeer extends Peer {
  tenants: Map<string, GraphTenant>;
  answers: string[];
  echo: { text: string | null };
  addTenant(t: { id: string; displayName?: string; domains: string[]; users?: Partial<GraphUser>[] }): GraphTenant;
  addUser(tenantId: string, u: Partial<GraphUser> & { userPrincipalName: string }): GraphUser;
  /** Adds a route in front of the others (later work, or a test overriding one answer); returns its removal. */
  route(method: string, pattern: RegExp, handler: RouteHandler): () => void;
  /** The token's claims and tenant when it is valid and carries one of `anyOfRoles`; otherwise answers 401/403 and returns null. */
  authorize(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: PeerContext,
    anyOfRoles: readonly string[]
  ): { claims: AccessTokenClaims; tenant: GraphTenant } | null;
  graphError(res: ServerResponse, ctx: PeerContext, status: number, code: string, message: string): void;
}

export const ORGANIZATION_READ_ROLES = [
  'Organization.Read.All',
  'Organization.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All'
];

/** Graph's words for the generic faults. */
export function graphFaultBody(fault: 'rate_limited' | 'server_error'): unknown {
  const id = randomUUID();
  const [code, message] =
    fault === 'rate_limited' ? ['TooManyRequests', 'Too many requests.'] : ['generalException', 'General exception while processing.'];
  return {
    error: { code, message, innerError: { date: new Date().toISOString().slice(0, 19), 'request-id': id, 'client-request-id': id } }
  };
}

export async function startGraphPeer(entra: EntraPeer, opts: PeerOptions = {}): Promise<GraphPeer> {
  const routes: { method: string; pattern: RegExp; handler: RouteHandler }[] = [];
  const state = { tenants: new Map<string, GraphTenant>(), answers: [] as string[], echo: { text: null as string | null } };
  let self = '';

  const graphError = (res: ServerResponse, ctx: PeerContext, status: number, code: string, message: string) => {
    const m = state.echo.text ? `${message} ${state.echo.text}` : message;
    state.answers.push(m);
    const id = randomUUID();
    ctx.json(
      res,
      status,
      {
        error: { code, message: m, innerError: { date: new Date().toISOString().slice(0, 19), 'request-id': id, 'client-request-id': id } }
      },
      { 'request-id': id }
    );
  };

  const authorize: GraphPeer['authorize'] = (req, res, ctx, anyOfRoles) => {
    const token = bearer(req);
    const fault = ctx.control.fault;
    if (!token) {
      graphError(res, ctx, 401, 'InvalidAuthenticationToken', 'Access token is empty.');
      return null;
    }
    if (fault === 'expired') {
      graphError(res, ctx, 401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.');
      return null;
    }
    const claims = fault === 'wrong_secret' || fault === 'revoked' ? null : entra.verifyAccessToken(token, self);
    if (!claims) {
      graphError(res, ctx, 401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.');
      return null;
    }
    const tenant = state.tenants.get(claims.tid);
    if (!tenant) {
      graphError(res, ctx, 401, 'InvalidAuthenticationToken', 'Access token validation failure: unknown tenant.');
      return null;
    }
    const roles = claims.roles ?? [];
    if (!anyOfRoles.some((r) => roles.includes(r))) {
      graphError(res, ctx, 403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
      return null;
    }
    return { claims, tenant };
  };

  routes.push({
    method: 'GET',
    pattern: /^\/v1\.0\/organization$/,
    handler: (req, res, ctx) => {
      const who = authorize(req, res, ctx, ORGANIZATION_READ_ROLES);
      if (!who) return;
      const t = who.tenant;
      ctx.json(res, 200, {
        '@odata.context': `${self}/v1.0/$metadata#organization`,
        value: [
          {
            id: t.id,
            displayName: t.displayName,
            tenantType: 'AAD',
            countryLetterCode: 'NL',
            verifiedDomains: t.verifiedDomains,
            createdDateTime: '2020-01-01T00:00:00Z'
          }
        ]
      });
    }
  });

  const peer = await startPeer(
    async (req, res, ctx) => {
      for (const r of routes) {
        if (r.method !== req.method) continue;
        const m = r.pattern.exec(ctx.url.pathname);
        if (m) return r.handler(req, res, ctx, m.slice(1));
      }
      graphError(res, ctx, 400, 'BadRequest', `Resource not found for the segment '${ctx.url.pathname.split('/').pop() ?? ''}'.`);
    },
    { ...opts, faultBody: graphFaultBody }
  );
  self = peer.url;

  const addUser: GraphPeer['addUser'] = (tenantId, u) => {
    const t = state.tenants.get(tenantId);
    if (!t) throw new Error(`no tenant ${tenantId}`);
    const user: GraphUser = {
      id: randomUUID(),
      displayName: u.userPrincipalName.split('@')[0] ?? 'user',
      mail: u.userPrincipalName,
      accountEnabled: true,
      ...u
    };
    t.users.set(user.id, user);
    return user;
  };

  return {
    ...peer,
    ...state,
    /** Clears faults, the request log, echoes and recorded answers (the configured tenants, keys and users stay). */
    reset() {
      peer.reset();
      state.answers.length = 0;
      state.echo.text = null;
    },
    addUser,
    graphError,
    authorize,
    addTenant({ id, displayName, domains, users = [] }) {
      const t: GraphTenant = {
        id: id.toLowerCase(),
        displayName: displayName ?? 'Contoso',
        verifiedDomains: domains.map((name, i) => ({
          name,
          type: 'Managed',
          isDefault: i === 0,
          isInitial: name.endsWith('.onmicrosoft.com'),
          capabilities: 'Email, OfficeCommunicationsOnline'
        })),
        users: new Map()
      };
      state.tenants.set(t.id, t);
      for (const u of users) if (u.userPrincipalName) addUser(t.id, { ...u, userPrincipalName: u.userPrincipalName });
      return t;
    },
    route(method, pattern, handler) {
      const r = { method, pattern, handler };
      routes.unshift(r);
      return () => {
        const i = routes.indexOf(r);
        if (i >= 0) routes.splice(i, 1);
      };
    }
  };
}
