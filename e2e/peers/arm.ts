import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearer, startPeer, type Peer, type PeerContext, type PeerOptions } from './harness.ts';
import type { AccessTokenClaims, EntraPeer } from './entra.ts';
import { armResources, type ArmResources } from './arm-resources.ts';

/**
 * A loopback Azure Resource Manager: `GET /subscriptions/{id}?api-version=…`, with the bearer token checked for real
 * against the Entra peer that issued it (signature, audience = this peer, expiry, tenant) and Azure RBAC modelled as
 * the service principals that may read each subscription. Errors in ARM's JSON (`{"error":{"code","message"}}`).
 * HTTPS on 127.0.0.1 with a server certificate from the Entra peer's test CA (as the real ARM is HTTPS; a test that
 * trusts the Entra CA trusts this peer too). Test support only.
 *
 * Host resources (arm-resources.ts): virtual machines with their instance view and power actions, network interfaces
 * and network security groups with their security rules, long-running operations polled through
 * `Azure-AsyncOperation` / `Location`, Azure RBAC as role assignments per service principal (actions / notActions
 * with wildcards, checked on every call and listed by `Microsoft.Authorization/permissions`).
 */

export interface ArmSubscription {
  subscriptionId: string;
  displayName: string;
  state: 'Enabled' | 'Disabled' | 'Warned' | 'PastDue';
  tenantId: string;
  /** Service principal object ids (token `oid`) with Microsoft.Resources/subscriptions/read. */
  readers: Set<string>;
}

export interface ArmPeer extends Peer, ArmResources {
  subscriptions: Map<string, ArmSubscription>;
  answers: string[];
  /** Every bearer token presented (canary tests look for them on Keydesk's surfaces). */
  tokens: Set<string>;
  /** When set, error messages quote this text (a server that echoes something back). */
  echo: { text: string | null };
  addSubscription(s: { tenantId: string; readers?: string[]; displayName?: string; subscriptionId?: string }): ArmSubscription;
}

/** ARM's words for the generic faults. */
export function armFaultBody(fault: 'rate_limited' | 'server_error'): unknown {
  return fault === 'rate_limited'
    ? {
        error: {
          code: 'TooManyRequests',
          message: 'The request is being throttled as the limit has been reached for operation type - Read_ObservationWindow_00:05:00.'
        }
      }
    : {
        error: {
          code: 'InternalServerError',
          message: 'Encountered internal server error. Diagnostic information: timestamp, subscription id, tracking id.'
        }
      };
}

function tlsFrom(entra: EntraPeer): { key: string; cert: string } {
  const server = entra.ca.issueServer();
  return { key: server.keyPem, cert: server.certPem };
}

export async function startArmPeer(entra: EntraPeer, opts: PeerOptions = {}): Promise<ArmPeer> {
  const state = {
    subscriptions: new Map<string, ArmSubscription>(),
    answers: [] as string[],
    tokens: new Set<string>(),
    echo: { text: null as string | null }
  };
  let self = '';

  const armError = (
    res: ServerResponse,
    ctx: PeerContext,
    status: number,
    code: string,
    message: string,
    headers: Record<string, string> = {}
  ) => {
    const m = state.echo.text ? `${message} ${state.echo.text}` : message;
    state.answers.push(m);
    ctx.json(res, status, { error: { code, message: m } }, { 'x-ms-request-id': randomUUID(), ...headers });
  };

  const authenticate = (req: IncomingMessage, res: ServerResponse, ctx: PeerContext): AccessTokenClaims | null => {
    const token = bearer(req);
    const fault = ctx.control.fault;
    if (token) state.tokens.add(token);
    if (!token) {
      armError(res, ctx, 401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.");
      return null;
    }
    const claims = fault === 'wrong_secret' || fault === 'revoked' ? null : entra.verifyAccessToken(token, self);
    if (fault === 'expired') {
      armError(res, ctx, 401, 'ExpiredAuthenticationToken', 'The access token expiry UTC time is earlier than current UTC time.', {
        'www-authenticate': 'Bearer error="invalid_token", error_description="The access token has expired"'
      });
      return null;
    }
    if (!claims) {
      armError(res, ctx, 401, 'InvalidAuthenticationToken', 'The access token is invalid.', {
        'www-authenticate': 'Bearer error="invalid_token"'
      });
      return null;
    }
    return claims;
  };

  const resources = armResources({
    subscriptions: state.subscriptions,
    armError: (res, ctx, status, code, message, headers) => armError(res, ctx, status, code, message, headers),
    authenticate: (req, res, ctx) => authenticate(req, res, ctx),
    self: () => self
  });

  const peer = await startPeer(
    async (req, res, ctx) => {
      if (await resources.handle(req, res, ctx)) return;
      const m = /^\/subscriptions\/([^/]+)$/.exec(ctx.url.pathname);
      if (!m || req.method !== 'GET')
        return armError(res, ctx, 404, 'NotFound', `The resource path ${ctx.url.pathname} is not supported by this peer.`);
      if (!ctx.url.searchParams.get('api-version'))
        return armError(
          res,
          ctx,
          400,
          'MissingApiVersionParameter',
          'The api-version query parameter (?api-version=) is required for all requests.'
        );
      const claims = authenticate(req, res, ctx);
      if (!claims) return;
      const id = decodeURIComponent(m[1]!).toLowerCase();
      const sub = state.subscriptions.get(id);
      if (!sub) return armError(res, ctx, 404, 'SubscriptionNotFound', `The subscription '${id}' could not be found.`);
      if (sub.tenantId !== claims.tid)
        return armError(
          res,
          ctx,
          401,
          'InvalidAuthenticationTokenTenant',
          `The access token is from the wrong issuer. It must match the tenant associated with this subscription.`
        );
      if (
        !sub.readers.has(claims.oid) &&
        !resources.api.allowed(claims.oid, 'Microsoft.Resources/subscriptions/read', `/subscriptions/${id}`)
      ) {
        return armError(
          res,
          ctx,
          403,
          'AuthorizationFailed',
          `The client '${claims.appid}' with object id '${claims.oid}' does not have authorization to perform action 'Microsoft.Resources/subscriptions/read' over scope '/subscriptions/${id}' or the scope is invalid. If access was recently granted, please refresh your credentials.`
        );
      }
      ctx.json(res, 200, {
        id: `/subscriptions/${sub.subscriptionId}`,
        authorizationSource: 'RoleBased',
        managedByTenants: [],
        subscriptionId: sub.subscriptionId,
        tenantId: sub.tenantId,
        displayName: sub.displayName,
        state: sub.state,
        subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: 'PayAsYouGo_2014-09-01', spendingLimit: 'Off' }
      });
    },
    { ...opts, tls: opts.tls ?? tlsFrom(entra), faultBody: armFaultBody }
  );
  self = peer.url;

  return {
    ...peer,
    ...state,
    ...resources.api,
    /** Clears faults, the request log, echoes and recorded answers (the configured tenants, keys and users stay). */
    reset() {
      peer.reset();
      state.answers.length = 0;
      state.tokens.clear();
      state.echo.text = null;
      resources.resetLog();
    },
    addSubscription({ tenantId, readers = [], displayName, subscriptionId }) {
      const s: ArmSubscription = {
        subscriptionId: (subscriptionId ?? randomUUID()).toLowerCase(),
        displayName: displayName ?? 'SOC production',
        state: 'Enabled',
        tenantId,
        readers: new Set(readers)
      };
      state.subscriptions.set(s.subscriptionId, s);
      return s;
    }
  };
}
