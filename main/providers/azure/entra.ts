import { nodeCrypto } from '../../builtins.ts';
import { ConfidentialClientApplication, type Configuration } from '@azure/msal-node';
import { KeydeskError } from '../../errors.ts';
import type { ProviderHttp } from '../http.ts';
import { outcome, outcomeFromThrown, unavailable } from '../outcome.ts';
import { parseJson, readText } from '../answers.ts';
import type { ValidateContext, ValidationOutcome } from '../plugin.ts';

/**
 * Entra ID (Azure AD) client-credentials tokens for Keydesk, shared by the azure and microsoft_365 plugins (and
 * usable by the OAuth work): MSAL's ConfidentialClientApplication does the protocol — the client secret, or the
 * certificate client assertion it signs (PS256 with `x5t#S256`) — and Keydesk supplies:
 *
 * - the network, through MSAL's documented `system.networkClient` (INetworkModule): Keydesk's provider fetch, so
 *   every call has the per-request timeout, the cancel signal and bounded Retry-After, and TLS trusts what Node
 *   trusts (its CA bundle plus NODE_EXTRA_CA_CERTS; there is no per-credential "trust this CA" setting);
 * - the authority from the credential's `authority_host` (sovereign clouds, or a loopback peer in tests) with
 *   `knownAuthorities`, `authorityMetadata` and `cloudDiscoveryMetadata` derived from it, so MSAL makes no
 *   discovery call: the only request is the token request, to `{authority_host}/{tenant}/oauth2/v2.0/token`;
 * - the reading of Entra's answer: AADSTS codes mapped to an honest status with a message Keydesk writes itself.
 *   Entra's own `error_description` is never copied: it quotes the client id, and a peer can echo anything.
 *
 * A new application object per call: nothing is cached between validations, in memory or on disk.
 */

export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';

export interface EntraCredential {
  tenantId: string;
  clientId: string;
  /** Exactly one of these two. */
  clientSecret?: string | undefined;
  certificatePem?: string | undefined;
  authorityHost?: string | undefined;
}

export interface EntraCall {
  url: URL;
  status: number | null;
  /** The answer was not JSON. */
  malformed: boolean;
  /** Why there was no answer (network failure, timeout, cancel): MSAL wraps it without keeping it. */
  failure: unknown;
}

export type EntraTokenResult =
  | { ok: true; accessToken: string; expiresOn: string | null; claims: Record<string, unknown> }
  | { ok: false; outcome: ValidationOutcome; calls: EntraCall[] };

type NetworkModule = NonNullable<NonNullable<Configuration['system']>['networkClient']>;

const MALFORMED = 'ENTRA_MALFORMED';

/** MSAL's INetworkModule on Keydesk's provider fetch; `calls` records what was asked and answered. */
export function entraNetwork(http: ProviderHttp, calls: EntraCall[]): NetworkModule {
  const send = async (method: 'GET' | 'POST', url: string, options?: { headers?: Record<string, string>; body?: string }) => {
    const call: EntraCall = { url: new URL(url), status: null, malformed: false, failure: null };
    calls.push(call);
    let res: Response;
    try {
      res = await http(url, {
        method,
        ...(options?.headers ? { headers: options.headers } : {}),
        ...(method === 'POST' ? { body: options?.body ?? '' } : {})
      });
    } catch (e) {
      call.failure = e;
      throw e;
    }
    call.status = res.status;
    const body = parseJson(await readText(res));
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      call.malformed = true;
      throw new KeydeskError('PROVIDER_ERROR', MALFORMED);
    }
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => (headers[k.toLowerCase()] = v));
    return { headers, body, status: res.status };
  };
  return {
    sendGetRequestAsync: <T>(url: string, options?: { headers?: Record<string, string>; body?: string }) =>
      send('GET', url, options) as Promise<{ headers: Record<string, string>; body: T; status: number }>,
    sendPostRequestAsync: <T>(url: string, options?: { headers?: Record<string, string>; body?: string }) =>
      send('POST', url, options) as Promise<{ headers: Record<string, string>; body: T; status: number }>
  };
}

/** The Entra credential of an azure or microsoft_365 credential's material (secret or certificate mode). */
export function entraCredential(ctx: ValidateContext): EntraCredential | null {
  const { fields, secrets, mode } = ctx.credential;
  const clientId = secrets.client_id?.reveal() ?? fields.client_id;
  if (!fields.tenant_id || !clientId) return null;
  const base = { tenantId: fields.tenant_id, clientId, authorityHost: fields.authority_host };
  if (mode === 'client_secret' && secrets.client_secret) return { ...base, clientSecret: secrets.client_secret.reveal() };
  if (mode === 'certificate' && secrets.certificate_pem) return { ...base, certificatePem: secrets.certificate_pem.reveal() };
  return null;
}

/** The authority, and the metadata MSAL would otherwise discover over the network, for a host and a tenant. Pure. */
export function authorityConfig(
  authorityHost: string,
  tenant: string
): Pick<Configuration['auth'], 'authority' | 'knownAuthorities' | 'authorityMetadata' | 'cloudDiscoveryMetadata'> {
  const host = new URL(authorityHost);
  const origin = host.origin;
  const base = `${origin}/${encodeURIComponent(tenant)}`;
  return {
    authority: base,
    knownAuthorities: [host.host],
    authorityMetadata: JSON.stringify({
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      http_logout_supported: true,
      frontchannel_logout_supported: true
    }),
    cloudDiscoveryMetadata: JSON.stringify({
      tenant_discovery_endpoint: `${base}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host.host, preferred_cache: host.host, aliases: [host.host] }]
    })
  };
}

/** The `.default` scope of a resource: `https://graph.microsoft.com` → `https://graph.microsoft.com/.default`. Pure. */
export function defaultScope(resource: string): string {
  return `${new URL(resource).origin}/.default`;
}

/** An access token's claims, read without verifying it (we only read what Entra granted us; nobody trusts it here). */
export function readTokenClaims(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (!part) return {};
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The application permissions (app roles) an app-only token carries. Pure. */
export function tokenRoles(claims: Record<string, unknown>): string[] {
  return Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [];
}

export interface EntraErrorInput {
  status: number | null;
  /** OAuth `error` (invalid_client, unauthorized_client…). */
  error: string | null;
  /** The AADSTS number (`error_codes[0]`, or read from the description). */
  aadsts: number | null;
  /** Entra's description: only matched against patterns, never copied. */
  description: string;
  tenantId: string;
}

/**
 * Entra's answer → an honest status. Pure.
 * AADSTS7000215 wrong secret → failed; AADSTS7000222 expired secret → expired; AADSTS700016 unknown app → failed;
 * AADSTS90002 unknown tenant → failed; AADSTS700027 certificate assertion refused → expired when Entra says the
 * certificate expired, failed otherwise; AADSTS7000112 app disabled → failed; AADSTS700024 assertion outside its
 * time window → unknown (this computer's clock; nothing about the credential); 429 / 5xx → unknown.
 */
export function entraOutcome(e: EntraErrorInput): ValidationOutcome {
  const down = e.status === null ? null : unavailable(e.status, "Entra ID's token service");
  if (down) return down;
  const code =
    e.aadsts !== null
      ? `AADSTS${e.aadsts}`
      : e.error && /^[a-z_]{1,64}$/.test(e.error)
        ? e.error
        : e.status !== null
          ? `HTTP_${e.status}`
          : 'PROVIDER_ERROR';
  const d = e.description.toLowerCase();
  switch (e.aadsts) {
    case 7000215:
      return outcome(
        'failed',
        code,
        'Entra rejected the client secret: the value is wrong (or the secret’s ID was pasted instead of its Value), or the secret was deleted. Create a new secret and update the credential.'
      );
    case 7000222:
      return outcome(
        'expired',
        code,
        'The client secret has expired. Create a new secret in the app registration (Certificates & secrets) and update the credential.'
      );
    case 700016:
      return outcome(
        'failed',
        code,
        `Entra has no application with this client ID in tenant ${e.tenantId}: the app was deleted, the client ID is wrong, or it belongs to another tenant.`
      );
    case 90002:
      return outcome(
        'failed',
        code,
        `Entra does not know tenant ${e.tenantId}: check the tenant ID (and the authority host for sovereign clouds).`
      );
    case 700027:
      if (/expired/.test(d))
        return outcome(
          'expired',
          code,
          'The app’s certificate has expired. Upload a new certificate to the app registration and update the credential.'
        );
      return outcome(
        'failed',
        code,
        'Entra did not accept the certificate assertion: the certificate is not (or no longer) registered on this app registration.'
      );
    case 7000112:
      return outcome('failed', code, 'The application is disabled in this tenant.');
    case 700024:
      return outcome(
        'unknown',
        code,
        'Entra says the certificate assertion is outside its valid time range: this computer’s clock is off. Correct the clock, then validate again.'
      );
    case 500011:
      return outcome(
        'failed',
        code,
        `The resource Keydesk asked a token for has no service principal in tenant ${e.tenantId} (check the endpoint override).`
      );
    case 7000229:
      return outcome(
        'failed',
        code,
        'The application has no service principal in this tenant: grant admin consent to the app in this tenant.'
      );
    default:
      break;
  }
  if (e.status === null)
    return outcome('unknown', code, 'Entra ID refused the token request without a usable answer. Validate again later.');
  return outcome('failed', code, `Entra ID refused the token request (${code}).`);
}

function aadstsOf(err: { errorNo?: unknown; errorMessage?: unknown }): number | null {
  const n =
    typeof err.errorNo === 'number'
      ? err.errorNo
      : typeof err.errorNo === 'string' && /^\d+$/.test(err.errorNo)
        ? Number(err.errorNo)
        : null;
  if (n !== null) return n;
  const m = typeof err.errorMessage === 'string' ? /AADSTS(\d+)/.exec(err.errorMessage) : null;
  return m ? Number(m[1]) : null;
}

/** The credential's certificate and key as MSAL wants them, or why not. */
export function certificateForMsal(pem: string): { thumbprintSha256: string; privateKey: string } | { outcome: ValidationOutcome } {
  try {
    const cert = new (nodeCrypto().X509Certificate)(pem);
    const key = nodeCrypto().createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'rsa')
      return { outcome: outcome('failed', 'UNSUPPORTED_KEY', 'Entra app certificates must have an RSA key; this one does not.') };
    return { thumbprintSha256: cert.fingerprint256.replace(/:/g, ''), privateKey: key.export({ type: 'pkcs8', format: 'pem' }).toString() };
  } catch {
    return {
      outcome: outcome(
        'failed',
        'INVALID_CERTIFICATE',
        'The stored certificate or its private key cannot be read. Paste the certificate and key again.'
      )
    };
  }
}

/** A client-credentials token for `scope` (a resource's `.default`). */
export async function entraClientCredentialsToken(http: ProviderHttp, cred: EntraCredential, scope: string): Promise<EntraTokenResult> {
  const calls: EntraCall[] = [];
  let auth: Configuration['auth'];
  try {
    auth = { clientId: cred.clientId, ...authorityConfig(cred.authorityHost ?? DEFAULT_AUTHORITY_HOST, cred.tenantId) };
  } catch {
    return { ok: false, calls, outcome: outcome('failed', 'INPUT_INVALID', 'The authority host is not a usable URL.') };
  }
  if (cred.certificatePem !== undefined) {
    const c = certificateForMsal(cred.certificatePem);
    if ('outcome' in c) return { ok: false, calls, outcome: c.outcome };
    auth.clientCertificate = c;
  } else if (cred.clientSecret !== undefined) {
    auth.clientSecret = cred.clientSecret;
  } else {
    return {
      ok: false,
      calls,
      outcome: outcome('failed', 'INPUT_INVALID', 'The credential has neither a client secret nor a certificate.')
    };
  }
  try {
    const app = new ConfidentialClientApplication({
      auth,
      system: {
        networkClient: entraNetwork(http, calls),
        loggerOptions: { piiLoggingEnabled: false, logLevel: 0, loggerCallback: () => undefined }
      }
    });
    const result = await app.acquireTokenByClientCredential({ scopes: [scope], skipCache: true });
    if (!result?.accessToken)
      return {
        ok: false,
        calls,
        outcome: outcome('unknown', 'MALFORMED_RESPONSE', 'Entra ID answered without an access token. Validate again later.')
      };
    return {
      ok: true,
      accessToken: result.accessToken,
      expiresOn: result.expiresOn ? result.expiresOn.toISOString() : null,
      claims: readTokenClaims(result.accessToken)
    };
  } catch (e) {
    return { ok: false, calls, outcome: msalFailure(e, calls, cred.tenantId) };
  }
}

function msalFailure(e: unknown, calls: EntraCall[], tenantId: string): ValidationOutcome {
  const last = calls.at(-1);
  if (last?.malformed) {
    if (last.status !== null && (last.status >= 500 || last.status === 429))
      return entraOutcome({ status: last.status, error: null, aadsts: null, description: '', tenantId });
    return outcome(
      'unknown',
      'MALFORMED_RESPONSE',
      `Entra ID answered, but not with JSON Keydesk could read (from ${last.url.host}; check the authority host). Validate again later.`
    );
  }
  if (last && last.status === null && last.failure) return outcomeFromThrown(last.failure);
  const k = findKeydeskError(e);
  if (k) return outcomeFromThrown(k);
  const err = e as { name?: unknown; errorCode?: unknown; errorMessage?: unknown; errorNo?: unknown; status?: unknown };
  if (err?.name === 'ServerError' || err?.name === 'InteractionRequiredAuthError') {
    return entraOutcome({
      status: typeof err.status === 'number' ? err.status : (last?.status ?? null),
      error: typeof err.errorCode === 'string' ? err.errorCode : null,
      aadsts: aadstsOf(err),
      description: typeof err.errorMessage === 'string' ? err.errorMessage : '',
      tenantId
    });
  }
  return outcomeFromThrown(e);
}

function findKeydeskError(e: unknown): KeydeskError | null {
  let x: unknown = e;
  for (let i = 0; i < 8 && x && typeof x === 'object'; i++) {
    if (x instanceof KeydeskError) return x.message === MALFORMED ? null : x;
    x = (x as { cause?: unknown }).cause;
  }
  return null;
}

/** Microsoft REST error JSON (`{"error":{"code","message"}}`): the code only, if it is a plain token. Pure. */
export function microsoftErrorCode(body: unknown): string | null {
  const err = body && typeof body === 'object' ? (body as { error?: unknown }).error : null;
  const code = err && typeof err === 'object' ? (err as { code?: unknown }).code : null;
  return typeof code === 'string' && /^[A-Za-z_.]{1,64}$/.test(code) ? code : null;
}

/** GET a Microsoft REST resource (ARM, Graph) with a bearer token; the body parsed as JSON (undefined if not JSON). */
export async function bearerGet(
  http: ProviderHttp,
  url: string,
  accessToken: string
): Promise<{ status: number; json: unknown } | { status: null; outcome: ValidationOutcome }> {
  try {
    const res = await http(url, { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' } });
    return { status: res.status, json: parseJson(await readText(res)) };
  } catch (e) {
    return { status: null, outcome: outcomeFromThrown(e) };
  }
}
