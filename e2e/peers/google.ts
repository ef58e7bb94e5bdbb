import { createHash, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearer, startPeer, type Peer, type PeerContext, type PeerOptions } from './harness.ts';
import { decodeJwt, nowSeconds, signJwt, verifyJwtSignature } from './jwt.ts';

/**
 * A loopback Google: the OAuth 2.0 token endpoint (JWT bearer grant for service accounts, with domain-wide
 * delegation), the Security Token Service (workload identity federation token exchange), IAM Credentials
 * generateAccessToken (service account impersonation), Cloud Resource Manager project get, and the Admin SDK
 * Directory API (users.list, domains.list). Test support only: never imported by the app.
 *
 * It verifies for real: the RS256 signature of a service account's assertion against the public keys registered
 * for it, the assertion's iss / aud / scope / iat / exp, the delegation a Workspace admin granted to the service
 * account's client id (scope by scope), the external IdP's subject token (signature, issuer, audience, expiry), and
 * every bearer token with its scopes. Errors come back in Google's formats: `{"error","error_description"}` from
 * the token endpoints, `{"error":{"code","message","status","errors":[…]}}` from the APIs.
 *
 * Routes are a table (`peer.route`) so later work can add Directory users.update or Gmail filters beside these.
 */

export const GOOGLE_TOKEN_AUDIENCES = [
  'https://oauth2.googleapis.com/token',
  'https://accounts.google.com/o/oauth2/token',
  'https://www.googleapis.com/oauth2/v4/token'
];
export const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';
export const CLOUD_PLATFORM_READ = 'https://www.googleapis.com/auth/cloud-platform.read-only';
export const DIRECTORY_SCOPES = {
  userRead: 'https://www.googleapis.com/auth/admin.directory.user.readonly',
  user: 'https://www.googleapis.com/auth/admin.directory.user',
  domainRead: 'https://www.googleapis.com/auth/admin.directory.domain.readonly',
  domain: 'https://www.googleapis.com/auth/admin.directory.domain'
} as const;

/** What Google answers when a service account's key no longer exists, has expired or was never its key. */
export const INVALID_JWT_SIGNATURE = 'Invalid JWT Signature.';
const UNAUTHORIZED_CLIENT =
  'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.';
const CLOCK =
  'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.';

export interface ServiceAccountKeyFile {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  auth_uri: string;
  token_uri: string;
  auth_provider_x509_cert_url: string;
  client_x509_cert_url: string;
  universe_domain: string;
}

export interface ServiceAccount {
  email: string;
  /** The numeric OAuth client id a Workspace admin authorises for domain-wide delegation. */
  clientId: string;
  projectId: string;
  /** Registered public keys by key id. Deleting one is how a key is revoked. */
  keys: Map<string, KeyObject>;
  disabled: boolean;
}

export interface WorkspaceUser {
  id: string;
  primaryEmail: string;
  name: { givenName: string; familyName: string; fullName: string };
  isAdmin: boolean;
  suspended: boolean;
  orgUnitPath: string;
}

export interface WorkspaceDomain {
  domainName: string;
  isPrimary: boolean;
  verified: boolean;
  domainAliases?: { domainAliasName: string; verified: boolean; parentDomainName: string }[];
}

export interface WorkspaceCustomer {
  id: string;
  users: Map<string, WorkspaceUser>;
  domains: WorkspaceDomain[];
  /** Domain-wide delegation, as in Admin console → Security → API controls: client id → authorised scopes. */
  delegations: Map<string, Set<string>>;
}

export interface Project {
  projectId: string;
  projectNumber: string;
  name: string;
  /** Principals with resourcemanager.projects.get: service account emails or federated `principal://` ids. */
  readers: Set<string>;
}

export interface WorkloadProvider {
  /** `//iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/X` */
  audience: string;
  projectNumber: string;
  issuer: string;
  idpKey: KeyObject;
  /** Service accounts the pool's principals may impersonate (roles/iam.workloadIdentityUser). */
  impersonable: Set<string>;
}

export interface IssuedToken {
  /** A service account email, or a federated `principal://…` identity. */
  principal: string;
  /** The Workspace user a delegated token acts as. */
  subject: string | null;
  scopes: Set<string>;
  expiresAt: number;
}

type RouteHandler = (req: IncomingMessage, res: ServerResponse, ctx: PeerContext, params: string[]) => void | Promise<void>;

export interface GooglePeer extends Peer {
  serviceAccounts: Map<string, ServiceAccount>;
  customers: Map<string, WorkspaceCustomer>;
  projects: Map<string, Project>;
  workloadProviders: Map<string, WorkloadProvider>;
  tokens: Map<string, IssuedToken>;
  /** Every `error_description` / API message the peer sent, so tests can look for what was echoed. */
  answers: string[];
  /** Every authorized API call: the path and the scopes of the token it carried (least-privilege checks). */
  apiCalls: { method: string; path: string; scopes: string[]; subject: string | null }[];
  /** Every generateAccessToken that issued a token: the account, the scopes and the lifetime asked for. */
  impersonations: { serviceAccount: string; scopes: string[]; lifetime: string | null }[];
  /** When set, error descriptions quote this text (a peer that echoes a secret back). */
  echo: { text: string | null };
  /** Creates a service account with a fresh key; returns the key file exactly as the Cloud console hands it out. */
  createServiceAccount(opts: { projectId: string; name?: string }): { sa: ServiceAccount; keyFile: ServiceAccountKeyFile };
  /** Adds another key to a service account (the old one keeps working until deleted). */
  addKey(email: string): ServiceAccountKeyFile;
  addCustomer(c: { id: string; domains: WorkspaceDomain[]; users?: Partial<WorkspaceUser>[] }): WorkspaceCustomer;
  addUser(customerId: string, u: Partial<WorkspaceUser> & { primaryEmail: string }): WorkspaceUser;
  delegate(customerId: string, clientId: string, scopes: readonly string[]): void;
  addProject(p: { projectId: string; projectNumber: string; name?: string; readers?: string[] }): Project;
  /** A workload identity pool provider trusting an OIDC issuer whose signing key the test holds. */
  addWorkloadProvider(p: {
    projectNumber: string;
    pool: string;
    provider: string;
    impersonable?: string[];
  }): WorkloadProvider & { idpPrivateKey: KeyObject; subjectToken(claims?: Record<string, unknown>): string };
  /** The subject token a `url` credential source serves (`GET /idp/token`). */
  idp: { token: string | null; format: 'text' | 'json' };
  /** Adds a route in front of the others (later work, or a test overriding one answer); returns its removal. */
  route(method: string, pattern: RegExp, handler: RouteHandler): () => void;
  /** The issued token of a request, checked for one of `scopes`; answers 401/403 itself and returns null otherwise. */
  authorize(req: IncomingMessage, res: ServerResponse, ctx: PeerContext, anyOfScopes: readonly string[]): IssuedToken | null;
}

/**
 * Google's words for the generic faults: the OAuth endpoints (token, STS) answer `{error, error_description}`, the
 * APIs their JSON error with a canonical status.
 */
export function googleFaultBody(fault: 'rate_limited' | 'server_error', url: URL): unknown {
  const oauth = url.pathname === '/token' || url.pathname === '/v1/token';
  if (fault === 'rate_limited') {
    return oauth
      ? { error: 'rate_limit_exceeded', error_description: 'Rate Limit Exceeded' }
      : {
          error: {
            code: 429,
            message: "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute'.",
            errors: [{ message: 'Rate Limit Exceeded', domain: 'usageLimits', reason: 'rateLimitExceeded' }],
            status: 'RESOURCE_EXHAUSTED'
          }
        };
  }
  return oauth
    ? { error: 'internal_failure', error_description: 'Backend Error' }
    : {
        error: {
          code: 500,
          message: 'Internal error encountered.',
          errors: [{ message: 'Internal error encountered.', domain: 'global', reason: 'backendError' }],
          status: 'INTERNAL'
        }
      };
}

function apiError(
  ctx: PeerContext,
  res: ServerResponse,
  peer: { answers: string[] },
  code: number,
  status: string,
  message: string,
  reason: string,
  extra: Record<string, string> = {}
): void {
  peer.answers.push(message);
  ctx.json(res, code, { error: { code, message, errors: [{ message, domain: 'global', reason }], status, ...extra } });
}

export async function startGooglePeer(opts: PeerOptions = {}): Promise<GooglePeer> {
  const routes: { method: string; pattern: RegExp; handler: RouteHandler }[] = [];
  const state = {
    serviceAccounts: new Map<string, ServiceAccount>(),
    customers: new Map<string, WorkspaceCustomer>(),
    projects: new Map<string, Project>(),
    workloadProviders: new Map<string, WorkloadProvider>(),
    tokens: new Map<string, IssuedToken>(),
    answers: [] as string[],
    apiCalls: [] as GooglePeer['apiCalls'],
    impersonations: [] as GooglePeer['impersonations'],
    echo: { text: null as string | null },
    idp: { token: null as string | null, format: 'text' as 'text' | 'json' }
  };

  const oauthError = (res: ServerResponse, ctx: PeerContext, status: number, error: string, description: string) => {
    const d = state.echo.text ? `${description} (${state.echo.text})` : description;
    state.answers.push(d);
    ctx.json(res, status, { error, error_description: d });
  };

  const issue = (t: Omit<IssuedToken, 'expiresAt'>, lifetime = 3599) => {
    const token = `ya29.${randomBytes(24).toString('base64url')}`;
    state.tokens.set(token, { ...t, expiresAt: nowSeconds() + lifetime });
    return { token, lifetime };
  };

  const findUser = (email: string): { customer: WorkspaceCustomer; user: WorkspaceUser } | null => {
    for (const customer of state.customers.values()) {
      const user = customer.users.get(email.toLowerCase());
      if (user) return { customer, user };
    }
    return null;
  };

  function authorize(req: IncomingMessage, res: ServerResponse, ctx: PeerContext, anyOf: readonly string[]): IssuedToken | null {
    const t = bearer(req);
    const issued = t ? state.tokens.get(t) : undefined;
    if (!issued || issued.expiresAt < nowSeconds()) {
      apiError(
        ctx,
        res,
        state,
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
        'authError',
        {}
      );
      return null;
    }
    if (!anyOf.some((s) => issued.scopes.has(s))) {
      apiError(ctx, res, state, 403, 'PERMISSION_DENIED', 'Request had insufficient authentication scopes.', 'insufficientPermissions', {});
      return null;
    }
    state.apiCalls.push({
      method: req.method ?? 'GET',
      path: ctx.url.pathname,
      scopes: [...issued.scopes].sort(),
      subject: issued.subject
    });
    return issued;
  }

  // --- OAuth 2.0 token endpoint: JWT bearer grant ------------------------------------------------
  function jwtBearer(res: ServerResponse, ctx: PeerContext, form: URLSearchParams): void {
    const fault = ctx.control.fault;
    if (fault === 'wrong_secret' || fault === 'expired') return oauthError(res, ctx, 400, 'invalid_grant', INVALID_JWT_SIGNATURE);
    if (fault === 'revoked') return oauthError(res, ctx, 400, 'invalid_grant', 'Invalid grant: account not found');
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
      return oauthError(res, ctx, 400, 'unsupported_grant_type', 'Invalid grant_type: ' + String(form.get('grant_type')));
    const jwt = decodeJwt(form.get('assertion') ?? '');
    if (!jwt) return oauthError(res, ctx, 400, 'invalid_grant', 'Invalid JWT format.');
    const iss = jwt.claims.iss;
    const sa = typeof iss === 'string' ? state.serviceAccounts.get(iss) : undefined;
    if (!sa) return oauthError(res, ctx, 400, 'invalid_grant', 'Invalid grant: account not found');
    const kid = typeof jwt.header.kid === 'string' ? jwt.header.kid : null;
    const candidates = kid && sa.keys.has(kid) ? [sa.keys.get(kid)!] : [...sa.keys.values()];
    if (!candidates.some((k) => verifyJwtSignature(jwt, k, ['RS256'])))
      return oauthError(res, ctx, 400, 'invalid_grant', INVALID_JWT_SIGNATURE);
    if (sa.disabled) return oauthError(res, ctx, 400, 'invalid_grant', 'Robot is disabled.');
    const { aud, iat, exp, scope, sub } = jwt.claims;
    if (typeof aud !== 'string' || !GOOGLE_TOKEN_AUDIENCES.includes(aud))
      return oauthError(res, ctx, 400, 'invalid_grant', 'Invalid JWT: Failed audience check.');
    const now = nowSeconds();
    if (typeof iat !== 'number' || typeof exp !== 'number' || exp - iat > 3600 || exp <= iat || iat > now + 300 || exp < now - 300)
      return oauthError(res, ctx, 400, 'invalid_grant', CLOCK);
    if (typeof scope !== 'string' || scope.trim() === '')
      return oauthError(res, ctx, 400, 'invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    const scopes = new Set(scope.split(' ').filter(Boolean));
    if (typeof sub === 'string' && sub !== '' && sub !== sa.email) {
      const found = findUser(sub);
      if (!found) return oauthError(res, ctx, 400, 'invalid_grant', 'Invalid email or User ID');
      const granted = found.customer.delegations.get(sa.clientId);
      if (!granted || [...scopes].some((s) => !granted.has(s)))
        return oauthError(res, ctx, 401, 'unauthorized_client', UNAUTHORIZED_CLIENT);
      const { token, lifetime } = issue({ principal: sa.email, subject: found.user.primaryEmail, scopes });
      return ctx.json(res, 200, { access_token: token, expires_in: lifetime, token_type: 'Bearer' });
    }
    const { token, lifetime } = issue({ principal: sa.email, subject: null, scopes });
    ctx.json(res, 200, { access_token: token, expires_in: lifetime, token_type: 'Bearer' });
  }

  // --- Security Token Service: RFC 8693 token exchange ------------------------------------------
  function stsExchange(res: ServerResponse, ctx: PeerContext, form: URLSearchParams): void {
    const fault = ctx.control.fault;
    if (fault === 'wrong_secret') return oauthError(res, ctx, 400, 'invalid_grant', 'The provided subject token has an invalid signature.');
    if (fault === 'expired')
      return oauthError(res, ctx, 400, 'invalid_grant', `ID Token issued at ${nowSeconds() - 7200} is stale to sign-in.`);
    if (fault === 'revoked')
      return oauthError(
        res,
        ctx,
        400,
        'invalid_target',
        'The target service indicated by the "audience" parameters is invalid. This might either be because the pool or provider is disabled or deleted or because it doesn\'t exist.'
      );
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:token-exchange')
      return oauthError(res, ctx, 400, 'unsupported_grant_type', 'Unsupported grant type.');
    if (form.get('requested_token_type') !== 'urn:ietf:params:oauth:token-type:access_token')
      return oauthError(res, ctx, 400, 'invalid_request', 'Invalid requested_token_type.');
    const provider = state.workloadProviders.get(form.get('audience') ?? '');
    if (!provider)
      return oauthError(
        res,
        ctx,
        400,
        'invalid_target',
        'The target service indicated by the "audience" parameters is invalid. This might either be because the pool or provider is disabled or deleted or because it doesn\'t exist.'
      );
    const type = form.get('subject_token_type');
    if (type !== 'urn:ietf:params:oauth:token-type:jwt' && type !== 'urn:ietf:params:oauth:token-type:id_token')
      return oauthError(res, ctx, 400, 'invalid_request', 'Invalid subject_token_type.');
    const jwt = decodeJwt(form.get('subject_token') ?? '');
    if (!jwt) return oauthError(res, ctx, 400, 'invalid_grant', 'Unable to parse the ID Token.');
    if (!verifyJwtSignature(jwt, provider.idpKey, ['RS256']))
      return oauthError(res, ctx, 400, 'invalid_grant', 'The provided subject token has an invalid signature.');
    const { iss, aud, exp, iat, sub } = jwt.claims;
    if (iss !== provider.issuer)
      return oauthError(res, ctx, 400, 'invalid_grant', 'The issuer in ID Token does not match the expected ones.');
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (!audiences.includes(`https:${provider.audience}`))
      return oauthError(res, ctx, 400, 'invalid_grant', 'The audience in ID Token does not match the expected audience.');
    if (typeof exp !== 'number' || exp < nowSeconds())
      return oauthError(res, ctx, 400, 'invalid_grant', `ID Token issued at ${typeof iat === 'number' ? iat : 0} is stale to sign-in.`);
    if (typeof sub !== 'string' || sub === '') return oauthError(res, ctx, 400, 'invalid_grant', 'The ID Token has no subject.');
    const pool = /workloadIdentityPools\/[^/]+/.exec(provider.audience)?.[0] ?? '';
    const principal = `principal://iam.googleapis.com/projects/${provider.projectNumber}/locations/global/${pool}/subject/${sub}`;
    const { token, lifetime } = issue({
      principal,
      subject: null,
      scopes: new Set((form.get('scope') ?? CLOUD_PLATFORM).split(' ').filter(Boolean))
    });
    ctx.json(res, 200, {
      access_token: token,
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      token_type: 'Bearer',
      expires_in: lifetime
    });
  }

  routes.push({
    method: 'POST',
    pattern: /^\/token$/,
    handler: (_req, res, ctx) => jwtBearer(res, ctx, new URLSearchParams(ctx.body))
  });
  routes.push({
    method: 'POST',
    pattern: /^\/v1\/token$/,
    handler: (_req, res, ctx) => stsExchange(res, ctx, new URLSearchParams(ctx.body))
  });

  // --- IAM Credentials: generateAccessToken (service account impersonation) --------------------
  routes.push({
    method: 'POST',
    pattern: /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):generateAccessToken$/,
    handler: (req, res, ctx, [emailEnc]) => {
      const issued = authorize(req, res, ctx, [CLOUD_PLATFORM, 'https://www.googleapis.com/auth/iam']);
      if (!issued) return;
      const email = decodeURIComponent(emailEnc!);
      const provider = [...state.workloadProviders.values()].find((p) => issued.principal.includes(`/projects/${p.projectNumber}/`));
      if (!state.serviceAccounts.has(email) || !provider?.impersonable.has(email)) {
        return apiError(
          ctx,
          res,
          state,
          403,
          'PERMISSION_DENIED',
          "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
          'forbidden'
        );
      }
      let body: { scope?: unknown; lifetime?: unknown };
      try {
        body = JSON.parse(ctx.body) as typeof body;
      } catch {
        return apiError(ctx, res, state, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.', 'badRequest');
      }
      const scopes = Array.isArray(body.scope) ? body.scope.filter((s): s is string => typeof s === 'string') : [];
      if (scopes.length === 0) return apiError(ctx, res, state, 400, 'INVALID_ARGUMENT', 'Scope required.', 'badRequest');
      // `lifetime` ("900s"), at most one hour as Google allows without the org policy that extends it.
      const asked = typeof body.lifetime === 'string' ? /^(\d{1,5})s$/.exec(body.lifetime) : null;
      if (body.lifetime !== undefined && (!asked || Number(asked[1]) < 1 || Number(asked[1]) > 3600))
        return apiError(ctx, res, state, 400, 'INVALID_ARGUMENT', 'Invalid value for lifetime.', 'badRequest');
      state.impersonations.push({
        serviceAccount: email,
        scopes: [...scopes],
        lifetime: typeof body.lifetime === 'string' ? body.lifetime : null
      });
      const { token, lifetime } = issue({ principal: email, subject: null, scopes: new Set(scopes) }, asked ? Number(asked[1]) : 3599);
      ctx.json(res, 200, { accessToken: token, expireTime: new Date((nowSeconds() + lifetime) * 1000).toISOString() });
    }
  });

  // --- the url credential source of an external account ----------------------------------------
  routes.push({
    method: 'GET',
    pattern: /^\/idp\/token$/,
    handler: (_req, res, ctx) => {
      if (!state.idp.token) return ctx.json(res, 404, { error: 'no token' });
      if (state.idp.format === 'json') return ctx.json(res, 200, { id_token: state.idp.token });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(state.idp.token);
    }
  });

  // --- Cloud Resource Manager ----------------------------------------------------------------------
  const projectGet =
    (v: 'v1' | 'v3'): RouteHandler =>
    (req, res, ctx, [idEnc]) => {
      const issued = authorize(req, res, ctx, [CLOUD_PLATFORM, CLOUD_PLATFORM_READ]);
      if (!issued) return;
      const id = decodeURIComponent(idEnc!);
      const p = state.projects.get(id) ?? [...state.projects.values()].find((x) => x.projectNumber === id);
      // Google answers 403 for a project that does not exist too, so callers cannot probe for project ids.
      if (!p || !p.readers.has(issued.principal))
        return apiError(ctx, res, state, 403, 'PERMISSION_DENIED', 'The caller does not have permission', 'forbidden');
      if (v === 'v1')
        return ctx.json(res, 200, {
          projectNumber: p.projectNumber,
          projectId: p.projectId,
          lifecycleState: 'ACTIVE',
          name: p.name,
          createTime: '2024-01-01T00:00:00.000Z'
        });
      ctx.json(res, 200, {
        name: `projects/${p.projectNumber}`,
        parent: 'organizations/1',
        projectId: p.projectId,
        state: 'ACTIVE',
        displayName: p.name,
        createTime: '2024-01-01T00:00:00.000Z'
      });
    };
  routes.push({ method: 'GET', pattern: /^\/v1\/projects\/([^/]+)$/, handler: projectGet('v1') });
  routes.push({ method: 'GET', pattern: /^\/v3\/projects\/([^/]+)$/, handler: projectGet('v3') });

  // --- Admin SDK Directory API ---------------------------------------------------------------------
  const adminOf = (issued: IssuedToken, res: ServerResponse, ctx: PeerContext, customerParam: string | null): WorkspaceCustomer | null => {
    const found = issued.subject ? findUser(issued.subject) : null;
    if (!found || !found.user.isAdmin) {
      apiError(ctx, res, state, 403, 'PERMISSION_DENIED', 'Not Authorized to access this resource/api', 'forbidden');
      return null;
    }
    if (customerParam !== null && customerParam !== 'my_customer' && customerParam !== found.customer.id) {
      if (!state.customers.has(customerParam)) apiError(ctx, res, state, 400, 'INVALID_ARGUMENT', 'Bad Request', 'badRequest');
      else apiError(ctx, res, state, 403, 'PERMISSION_DENIED', 'Not Authorized to access this resource/api', 'forbidden');
      return null;
    }
    return found.customer;
  };

  routes.push({
    method: 'GET',
    pattern: /^\/admin\/directory\/v1\/users$/,
    handler: (req, res, ctx) => {
      const issued = authorize(req, res, ctx, [DIRECTORY_SCOPES.userRead, DIRECTORY_SCOPES.user]);
      if (!issued) return;
      const q = ctx.url.searchParams;
      if (!q.get('customer') && !q.get('domain')) return apiError(ctx, res, state, 400, 'INVALID_ARGUMENT', 'Bad Request', 'badRequest');
      const customer = adminOf(issued, res, ctx, q.get('customer'));
      if (!customer) return;
      const max = Math.min(500, Math.max(1, Number(q.get('maxResults') ?? 100) || 100));
      const start = Number(q.get('pageToken') ?? 0) || 0;
      const all = [...customer.users.values()].sort((a, b) => a.primaryEmail.localeCompare(b.primaryEmail));
      const page = all.slice(start, start + max);
      ctx.json(res, 200, {
        kind: 'admin#directory#users',
        etag: `"${createHash('sha1').update(String(all.length)).digest('hex')}"`,
        users: page.map((u) => ({ kind: 'admin#directory#user', ...u, customerId: customer.id })),
        ...(start + max < all.length ? { nextPageToken: String(start + max) } : {})
      });
    }
  });

  routes.push({
    method: 'GET',
    pattern: /^\/admin\/directory\/v1\/customer\/([^/]+)\/domains$/,
    handler: (req, res, ctx, [customerEnc]) => {
      const issued = authorize(req, res, ctx, [DIRECTORY_SCOPES.domainRead, DIRECTORY_SCOPES.domain]);
      if (!issued) return;
      const customer = adminOf(issued, res, ctx, decodeURIComponent(customerEnc!));
      if (!customer) return;
      ctx.json(res, 200, {
        kind: 'admin#directory#domains',
        domains: customer.domains.map((d) => ({ kind: 'admin#directory#domains', creationTime: '1700000000000', ...d }))
      });
    }
  });

  const peer = await startPeer(
    async (req, res, ctx) => {
      const path = ctx.url.pathname;
      for (const r of routes) {
        if (r.method !== req.method) continue;
        const m = r.pattern.exec(path);
        if (m) return r.handler(req, res, ctx, m.slice(1));
      }
      apiError(ctx, res, state, 404, 'NOT_FOUND', `The requested URL ${path} was not found on this server.`, 'notFound');
    },
    { ...opts, faultBody: googleFaultBody }
  );

  const keyFileFor = (sa: ServiceAccount, keyId: string, privateKey: KeyObject): ServiceAccountKeyFile => ({
    type: 'service_account',
    project_id: sa.projectId,
    private_key_id: keyId,
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: sa.email,
    client_id: sa.clientId,
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: 'https://oauth2.googleapis.com/token',
    auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
    client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(sa.email)}`,
    universe_domain: 'googleapis.com'
  });

  const newKey = (sa: ServiceAccount) => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyId = randomBytes(20).toString('hex');
    sa.keys.set(keyId, publicKey);
    return keyFileFor(sa, keyId, privateKey);
  };

  const addUser: GooglePeer['addUser'] = (customerId, u) => {
    const c = state.customers.get(customerId);
    if (!c) throw new Error(`no customer ${customerId}`);
    const local = u.primaryEmail.split('@')[0] ?? 'user';
    const user: WorkspaceUser = {
      id: String(BigInt(`0x${randomBytes(8).toString('hex')}`)),
      name: { givenName: local, familyName: 'Test', fullName: `${local} Test` },
      isAdmin: false,
      suspended: false,
      orgUnitPath: '/',
      ...u,
      primaryEmail: u.primaryEmail.toLowerCase()
    };
    c.users.set(user.primaryEmail, user);
    return user;
  };

  return {
    ...peer,
    ...state,
    /** Clears faults, the request log, echoes and recorded answers (the configured tenants, keys and users stay). */
    reset() {
      peer.reset();
      state.answers.length = 0;
      state.apiCalls.length = 0;
      state.impersonations.length = 0;
      state.idp.token = null;
      state.idp.format = 'text';
      state.echo.text = null;
    },
    addUser,
    createServiceAccount({ projectId, name }) {
      const email = `${name ?? `keydesk-${randomBytes(3).toString('hex')}`}@${projectId}.iam.gserviceaccount.com`;
      const sa: ServiceAccount = {
        email,
        clientId: String(100000000000000000000n + BigInt(`0x${randomBytes(7).toString('hex')}`)),
        projectId,
        keys: new Map(),
        disabled: false
      };
      state.serviceAccounts.set(email, sa);
      return { sa, keyFile: newKey(sa) };
    },
    addKey(email) {
      const sa = state.serviceAccounts.get(email);
      if (!sa) throw new Error(`no service account ${email}`);
      return newKey(sa);
    },
    addCustomer({ id, domains, users = [] }) {
      const c: WorkspaceCustomer = { id, domains, users: new Map(), delegations: new Map() };
      state.customers.set(id, c);
      for (const u of users) if (u.primaryEmail) addUser(id, { ...u, primaryEmail: u.primaryEmail });
      return c;
    },
    delegate(customerId, clientId, scopes) {
      const c = state.customers.get(customerId);
      if (!c) throw new Error(`no customer ${customerId}`);
      c.delegations.set(clientId, new Set(scopes));
    },
    addProject({ projectId, projectNumber, name, readers = [] }) {
      const p: Project = { projectId, projectNumber, name: name ?? projectId, readers: new Set(readers) };
      state.projects.set(projectId, p);
      return p;
    },
    addWorkloadProvider({ projectNumber, pool, provider, impersonable = [] }) {
      const audience = `//iam.googleapis.com/projects/${projectNumber}/locations/global/workloadIdentityPools/${pool}/providers/${provider}`;
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const issuer = `https://idp.example.test/${pool}`;
      const wp: WorkloadProvider = { audience, projectNumber, issuer, idpKey: publicKey, impersonable: new Set(impersonable) };
      state.workloadProviders.set(audience, wp);
      return {
        ...wp,
        idpPrivateKey: privateKey,
        subjectToken(claims = {}) {
          const now = nowSeconds();
          return signJwt(
            { alg: 'RS256', kid: 'idp-1' },
            { iss: issuer, aud: `https:${audience}`, sub: `workload-${randomUUID()}`, iat: now, exp: now + 3600, ...claims },
            privateKey
          );
        }
      };
    },
    route(method, pattern, handler) {
      const r = { method, pattern, handler };
      routes.unshift(r);
      return () => {
        const i = routes.indexOf(r);
        if (i >= 0) routes.splice(i, 1);
      };
    },
    authorize
  };
}
