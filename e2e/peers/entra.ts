import { createHash, generateKeyPairSync, randomBytes, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startPeer, type Peer, type PeerContext, type PeerOptions } from './harness.ts';
import { decodeJwt, nowSeconds, signJwt, verifyJwtSignature } from './jwt.ts';
import { createTestCa, type TestCa } from './tls.ts';

/**
 * A loopback Entra ID (Azure AD) over HTTPS (MSAL refuses plain-http authorities): per tenant, the OpenID metadata
 * and signing keys, and the v2.0 token endpoint for the client-credentials grant. Test support only.
 *
 * It verifies for real: the client secret (against the app's secrets and their end dates), or the certificate
 * client assertion — the JWT's signature with the registered certificate's public key (found by its `x5t` or
 * `x5t#S256` thumbprint), `aud` (this token endpoint), `iss` = `sub` = client id, `nbf` / `exp`, and the
 * certificate's own validity. It issues RS256 access tokens whose `roles` are the application permissions the app
 * was granted on the requested resource; ARM and Graph peers verify them with `verifyAccessToken`. Errors come
 * back in Entra's JSON (`error`, `error_description` "AADSTSnnnn: …", `error_codes`, `trace_id`…).
 */

export interface EntraSecret {
  id: string;
  value: string;
  endDateTime: Date;
}

export interface EntraCertificate {
  sha1: string;
  sha256: string;
  cert: X509Certificate;
}

export interface EntraApp {
  appId: string;
  displayName: string;
  /** Object id of the app's service principal in the tenant (the `oid` of its tokens). */
  servicePrincipalId: string;
  secrets: EntraSecret[];
  certificates: EntraCertificate[];
  /** Application permissions granted with admin consent, per resource (the resource's origin, e.g. Graph's URL). */
  roles: Map<string, string[]>;
  disabled: boolean;
}

export interface EntraTenant {
  id: string;
  domains: string[];
  apps: Map<string, EntraApp>;
}

export interface AccessTokenClaims {
  aud: string;
  tid: string;
  appid: string;
  oid: string;
  roles?: string[];
  exp: number;
  [k: string]: unknown;
}

export interface EntraPeer extends Peer {
  ca: TestCa;
  tenants: Map<string, EntraTenant>;
  /** Resources with a service principal in every tenant (their origins); others answer AADSTS500011. */
  resources: Set<string>;
  /** When set, error descriptions quote this text (a server that echoes a secret back). */
  echo: { text: string | null };
  answers: string[];
  addTenant(t?: { id?: string; domains?: string[] }): EntraTenant;
  addApp(tenantId: string, a?: { displayName?: string; roles?: Record<string, string[]> }): EntraApp;
  addSecret(app: EntraApp, s?: { value?: string; endDateTime?: Date }): EntraSecret;
  addCertificate(app: EntraApp, certPem: string): EntraCertificate;
  /** The claims of an access token this peer issued for `audience`, or null (bad signature, expired, other audience). */
  verifyAccessToken(token: string, audience: string): AccessTokenClaims | null;
  tokenEndpoint(tenant: string): string;
}

const TRACE = () => randomUUID();

/** Entra's words for the generic faults (the shape of every AADSTS answer). */
export function entraFaultBody(fault: 'rate_limited' | 'server_error'): unknown {
  const [error, code, text] =
    fault === 'rate_limited'
      ? [
          'temporarily_unavailable',
          50196,
          'The server terminated an operation because it encountered a client request loop. Please contact your app vendor.'
        ]
      : ['server_error', 90033, 'A transient error has occurred. Please try again.'];
  const ts = new Date().toISOString().replace('T', ' ').slice(0, 19) + 'Z';
  const trace = TRACE();
  return {
    error,
    error_description: `AADSTS${code}: ${text} Trace ID: ${trace} Correlation ID: ${TRACE()} Timestamp: ${ts}`,
    error_codes: [code],
    timestamp: ts,
    trace_id: trace,
    correlation_id: TRACE()
  };
}

export async function startEntraPeer(opts: Omit<PeerOptions, 'tls'> & { ca?: TestCa } = {}): Promise<EntraPeer> {
  const ca = opts.ca ?? createTestCa('Keydesk Test Entra CA');
  const server = ca.issueServer();
  const signing = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(8).toString('hex');
  const state = {
    tenants: new Map<string, EntraTenant>(),
    resources: new Set<string>(),
    echo: { text: null as string | null },
    answers: [] as string[]
  };
  let baseUrl = '';

  const findTenant = (ref: string): EntraTenant | undefined => {
    const r = ref.toLowerCase();
    for (const t of state.tenants.values()) if (t.id === r || t.domains.includes(r)) return t;
    return undefined;
  };

  const aadError = (res: ServerResponse, ctx: PeerContext, status: number, error: string, code: number, text: string) => {
    const trace = TRACE();
    const correlation = TRACE();
    const ts = new Date().toISOString().replace('T', ' ').slice(0, 19) + 'Z';
    const desc = `AADSTS${code}: ${text}${state.echo.text ? ` ${state.echo.text}` : ''} Trace ID: ${trace} Correlation ID: ${correlation} Timestamp: ${ts}`;
    state.answers.push(desc);
    ctx.json(res, status, {
      error,
      error_description: desc,
      error_codes: [code],
      timestamp: ts,
      trace_id: trace,
      correlation_id: correlation,
      error_uri: `${baseUrl}/error?code=${code}`
    });
  };

  const tokenEndpoint = (tenant: string) => `${baseUrl}/${tenant}/oauth2/v2.0/token`;

  function clientCredentials(res: ServerResponse, ctx: PeerContext, tenantRef: string, form: URLSearchParams): void {
    const tenant = findTenant(tenantRef);
    if (!tenant) {
      return aadError(
        res,
        ctx,
        400,
        'invalid_request',
        90002,
        `Tenant '${tenantRef}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`
      );
    }
    if (form.get('grant_type') !== 'client_credentials')
      return aadError(res, ctx, 400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    const clientId = form.get('client_id') ?? '';
    const app = tenant.apps.get(clientId.toLowerCase());
    const fault = ctx.control.fault;
    if (!app || fault === 'revoked') {
      return aadError(
        res,
        ctx,
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenantRef}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`
      );
    }
    if (app.disabled)
      return aadError(res, ctx, 400, 'unauthorized_client', 7000112, `Application '${app.appId}'(${app.displayName}) is disabled.`);

    // --- client authentication: a secret or a certificate assertion ---
    const assertionType = form.get('client_assertion_type');
    const now = new Date();
    if (assertionType !== null) {
      if (assertionType !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
        return aadError(res, ctx, 400, 'invalid_request', 90105, 'The client assertion type is not supported.');
      const jwt = decodeJwt(form.get('client_assertion') ?? '');
      if (!jwt) return aadError(res, ctx, 401, 'invalid_client', 50027, 'JWT token is invalid or malformed.');
      const x5t = typeof jwt.header.x5t === 'string' ? Buffer.from(jwt.header.x5t, 'base64url').toString('hex').toUpperCase() : null;
      const x5t256 =
        typeof jwt.header['x5t#S256'] === 'string' ? Buffer.from(jwt.header['x5t#S256'], 'base64url').toString('hex').toUpperCase() : null;
      const used = x5t256 ?? x5t ?? '';
      const cert = app.certificates.find((c) => (x5t256 !== null && c.sha256 === x5t256) || (x5t !== null && c.sha1 === x5t));
      if (!cert || fault === 'wrong_secret') {
        return aadError(
          res,
          ctx,
          401,
          'invalid_client',
          700027,
          `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${used}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${app.appId}'.]`
        );
      }
      if (!verifyJwtSignature(jwt, cert.cert.publicKey, ['RS256', 'PS256']))
        return aadError(res, ctx, 401, 'invalid_client', 700027, 'Client assertion failed signature validation.');
      if (fault === 'expired' || new Date(cert.cert.validTo) < now) {
        return aadError(
          res,
          ctx,
          401,
          'invalid_client',
          700027,
          `The certificate with identifier used to sign the client assertion is expired on application. [Reason - The key used is expired., Thumbprint of key used by client: '${used}', Found key 'Start=${new Date(cert.cert.validFrom).toISOString()}, End=${new Date(cert.cert.validTo).toISOString()}']`
        );
      }
      const { aud, iss, sub, exp, nbf } = jwt.claims;
      if (iss !== app.appId || sub !== app.appId)
        return aadError(
          res,
          ctx,
          401,
          'invalid_client',
          700021,
          "Client assertion application identifier doesn't match 'client_id' parameter."
        );
      if (aud !== tokenEndpoint(tenantRef) && aud !== tokenEndpoint(tenant.id))
        return aadError(res, ctx, 401, 'invalid_client', 700212, 'The audience claim of the client assertion is not this token endpoint.');
      const t = nowSeconds();
      if (typeof exp !== 'number' || exp < t - 300 || (typeof nbf === 'number' && nbf > t + 300)) {
        return aadError(
          res,
          ctx,
          401,
          'invalid_client',
          700024,
          `Client assertion is not within its valid time range. Current time: ${now.toISOString()}.`
        );
      }
    } else {
      const given = form.get('client_secret');
      if (given === null)
        return aadError(
          res,
          ctx,
          401,
          'invalid_client',
          7000218,
          "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."
        );
      const match = app.secrets.find((s) => s.value === given);
      if (!match || fault === 'wrong_secret') {
        return aadError(
          res,
          ctx,
          401,
          'invalid_client',
          7000215,
          `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.appId}'.`
        );
      }
      if (fault === 'expired' || match.endDateTime < now) {
        return aadError(
          res,
          ctx,
          401,
          'invalid_client',
          7000222,
          `The provided client secret keys for app '${app.appId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`
        );
      }
    }

    // --- the resource ---
    const scope = form.get('scope') ?? '';
    const m = /^(.+)\/\.default$/.exec(scope.trim());
    if (!m)
      return aadError(
        res,
        ctx,
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`
      );
    let resource: string;
    try {
      resource = new URL(m[1]!).origin;
    } catch {
      return aadError(
        res,
        ctx,
        400,
        'invalid_resource',
        500011,
        `The resource principal named ${m[1]} was not found in the tenant named ${tenantRef}.`
      );
    }
    if (!state.resources.has(resource))
      return aadError(
        res,
        ctx,
        400,
        'invalid_resource',
        500011,
        `The resource principal named ${resource} was not found in the tenant named ${tenantRef}.`
      );

    const iat = nowSeconds();
    const roles = app.roles.get(resource) ?? [];
    const claims: AccessTokenClaims = {
      aud: resource,
      iss: `https://sts.windows.net/${tenant.id}/`,
      iat,
      nbf: iat,
      exp: iat + 3599,
      appid: app.appId,
      appidacr: assertionType ? '2' : '1',
      idtyp: 'app',
      oid: app.servicePrincipalId,
      sub: app.servicePrincipalId,
      tid: tenant.id,
      ver: '1.0',
      ...(roles.length ? { roles } : {})
    };
    const token = signJwt({ alg: 'RS256', kid, x5t: kid }, claims, signing.privateKey);
    ctx.json(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token });
  }

  function metadata(res: ServerResponse, ctx: PeerContext, tenantRef: string): void {
    const tenant = findTenant(tenantRef);
    if (!tenant) return aadError(res, ctx, 400, 'invalid_tenant', 90002, `Tenant '${tenantRef}' not found.`);
    const base = `${baseUrl}/${tenantRef}`;
    ctx.json(res, 200, {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${baseUrl}/${tenant.id}/v2.0`,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      tenant_region_scope: 'EU',
      cloud_instance_name: 'keydesk.test'
    });
  }

  const handler = (req: IncomingMessage, res: ServerResponse, ctx: PeerContext) => {
    const path = ctx.url.pathname;
    let m = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
    if (m && req.method === 'POST') return clientCredentials(res, ctx, decodeURIComponent(m[1]!), new URLSearchParams(ctx.body));
    m = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(path);
    if (m && req.method === 'GET') return metadata(res, ctx, decodeURIComponent(m[1]!));
    m = /^\/([^/]+)\/discovery\/v2\.0\/keys$/.exec(path);
    if (m && req.method === 'GET') {
      const jwk = signing.publicKey.export({ format: 'jwk' });
      return ctx.json(res, 200, { keys: [{ kty: 'RSA', use: 'sig', kid, x5t: kid, n: jwk.n, e: jwk.e }] });
    }
    ctx.json(res, 404, { error: 'not_found', error_description: `No route for ${req.method ?? ''} ${path}` });
  };

  const peer = await startPeer(handler, { ...opts, tls: { key: server.keyPem, cert: server.certPem }, faultBody: entraFaultBody });
  baseUrl = peer.url;

  return {
    ...peer,
    ...state,
    /** Clears faults, the request log, echoes and recorded answers (the configured tenants, keys and users stay). */
    reset() {
      peer.reset();
      state.answers.length = 0;
      state.echo.text = null;
    },
    ca,
    tokenEndpoint,
    addTenant(t = {}) {
      const tenant: EntraTenant = {
        id: (t.id ?? randomUUID()).toLowerCase(),
        domains: (t.domains ?? [`keydesk${randomBytes(3).toString('hex')}.onmicrosoft.com`]).map((d) => d.toLowerCase()),
        apps: new Map()
      };
      state.tenants.set(tenant.id, tenant);
      return tenant;
    },
    addApp(tenantId, a = {}) {
      const tenant = state.tenants.get(tenantId.toLowerCase());
      if (!tenant) throw new Error(`no tenant ${tenantId}`);
      const app: EntraApp = {
        appId: randomUUID(),
        displayName: a.displayName ?? 'Keydesk',
        servicePrincipalId: randomUUID(),
        secrets: [],
        certificates: [],
        roles: new Map(Object.entries(a.roles ?? {}).map(([k, v]) => [new URL(k).origin, v])),
        disabled: false
      };
      tenant.apps.set(app.appId, app);
      return app;
    },
    addSecret(app, s = {}) {
      const secret: EntraSecret = {
        id: randomUUID(),
        value: s.value ?? `${randomBytes(3).toString('hex')}~${randomBytes(24).toString('base64url')}`,
        endDateTime: s.endDateTime ?? new Date(Date.now() + 180 * 24 * 3600_000)
      };
      app.secrets.push(secret);
      return secret;
    },
    addCertificate(app, certPem) {
      const cert = new X509Certificate(certPem);
      const entry: EntraCertificate = {
        cert,
        sha1: createHash('sha1').update(cert.raw).digest('hex').toUpperCase(),
        sha256: createHash('sha256').update(cert.raw).digest('hex').toUpperCase()
      };
      app.certificates.push(entry);
      return entry;
    },
    verifyAccessToken(token, audience) {
      const jwt = decodeJwt(token);
      if (!jwt || jwt.header.kid !== kid || !verifyJwtSignature(jwt, signing.publicKey as KeyObject, ['RS256'])) return null;
      const c = jwt.claims as AccessTokenClaims;
      let want: string;
      try {
        want = new URL(audience).origin;
      } catch {
        return null;
      }
      if (c.aud !== want || typeof c.exp !== 'number' || c.exp < nowSeconds()) return null;
      return c;
    }
  };
}
