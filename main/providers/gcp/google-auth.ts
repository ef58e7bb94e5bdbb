import { stat } from 'node:fs/promises';
import { gaxios, IdentityPoolClient, JWT } from 'google-auth-library';
import { KeydeskError } from '../../errors.ts';
import type { ProviderHttp } from '../http.ts';
import { outcome, outcomeFromThrown, unavailable } from '../outcome.ts';
import { parseJson, readText } from '../answers.ts';
import type { ValidationOutcome } from '../plugin.ts';

/**
 * Google token acquisition for Keydesk, shared by the gcp and google_workspace plugins (and usable by the OAuth
 * work): google-auth-library does the protocol (the RS256 JWT bearer grant, STS token exchange, service account
 * impersonation); Keydesk supplies the transport and reads the answers.
 *
 * The transport is a gaxios instance handed to the library through its documented `transporter` option
 * (AuthClientOptions.transporter) whose `fetchImplementation` is Keydesk's provider fetch (timeout, cancel signal,
 * bounded Retry-After) and whose request interceptor (gaxios `interceptors.request`)
 *  - sends requests the library addresses to Google's fixed token URL to the credential's `token_url` override
 *    instead (google-auth-library ignores a key file's `token_uri`; the override is a real per-credential field,
 *    stored inside the encrypted payload and limited to https or loopback http by the field schema);
 *  - switches gaxios' own retries off: ours are bounded and honour Retry-After, and an analyst waiting on
 *    "validate" should not sit through three silent exponential back-offs.
 *
 * Errors become values (`TokenResult`), mapped from Google's own answer (`error` / `error_description`, the HTTP
 * status) into messages Keydesk writes itself: a provider's text is never copied into an outcome, because it can
 * quote what it was sent.
 */

export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  project_id?: string;
  client_id?: string;
}

export interface GoogleCall {
  url: URL;
  status: number | null;
}

export interface GoogleTransport {
  transporter: gaxios.Gaxios;
  /** Every request the library made, in order (URL and status; null when it got no answer). */
  calls: GoogleCall[];
}

export function googleTransport(http: ProviderHttp, opts: { tokenUrl?: string | undefined } = {}): GoogleTransport {
  const calls: GoogleCall[] = [];
  const transporter = new gaxios.Gaxios({
    fetchImplementation: async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const call: GoogleCall = { url, status: null };
      calls.push(call);
      const res = await http(url, init);
      call.status = res.status;
      return res;
    }
  });
  transporter.interceptors.request.add({
    resolved: (config) => {
      if (opts.tokenUrl && config.url.href === GOOGLE_TOKEN_URL) config.url = new URL(opts.tokenUrl);
      config.retry = false;
      config.retryConfig = { ...config.retryConfig, retry: 0, noResponseRetries: 0 };
      return Promise.resolve(config);
    }
  });
  return { transporter, calls };
}

/** Subject token types Keydesk exchanges: an OIDC token (a JWT) or a SAML assertion (base64 XML). */
export const SUBJECT_TOKEN_TYPES = [
  'urn:ietf:params:oauth:token-type:jwt',
  'urn:ietf:params:oauth:token-type:id_token',
  'urn:ietf:params:oauth:token-type:saml2'
] as const;
/** The largest subject token (and credential source file) Keydesk reads. */
export const MAX_SUBJECT_TOKEN_BYTES = 64 * 1024;

/**
 * True when `token` has the shape its type promises: a compact JWT for jwt / id_token, base64 XML for saml2. The
 * guard behind "a credential source sends only a token": the source file or URL is named inside the credential,
 * so without it a crafted configuration could make Keydesk read any local file (a private key, another tool's
 * credentials) and post it to the STS URL the same configuration names. Pure.
 */
export function isSubjectToken(token: unknown, type: unknown): boolean {
  if (typeof token !== 'string') return false;
  const t = token.trim();
  if (t.length < 16 || t.length > MAX_SUBJECT_TOKEN_BYTES) return false;
  if (type === 'urn:ietf:params:oauth:token-type:jwt' || type === 'urn:ietf:params:oauth:token-type:id_token') {
    const parts = t.split('.');
    if (parts.length !== 3 || !parts.every((p, i) => (i === 2 ? /^[A-Za-z0-9_-]*$/ : /^[A-Za-z0-9_-]+$/).test(p))) return false;
    try {
      const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as unknown;
      return !!header && typeof header === 'object' && typeof (header as { alg?: unknown }).alg === 'string';
    } catch {
      return false;
    }
  }
  if (type === 'urn:ietf:params:oauth:token-type:saml2') {
    if (!/^[A-Za-z0-9+/=_-]+$/.test(t)) return false;
    return /^\s*</.test(Buffer.from(t, 'base64').toString('utf8'));
  }
  return false;
}

/** The credential source gave something that is not a token of the configured type; nothing was sent. */
class SubjectTokenRefused extends Error {
  constructor() {
    super('The credential source did not hold a token of the configured type.');
    this.name = 'SubjectTokenRefused';
  }
}

/**
 * google-auth-library's IdentityPoolClient with two corrections:
 * - the library builds its STS client without the transporter it was given (so STS would bypass Keydesk's
 *   timeout and cancel): the STS client gets it here;
 * - the subject token is checked to be a token of the configured type before STS sees it, and a file source must
 *   be a regular file no larger than MAX_SUBJECT_TOKEN_BYTES.
 */
class CheckedIdentityPoolClient extends IdentityPoolClient {
  readonly #type: unknown;
  readonly #file: string | null;

  constructor(options: ConstructorParameters<typeof IdentityPoolClient>[0], transporter: gaxios.Gaxios) {
    super({ ...options, transporter } as ConstructorParameters<typeof IdentityPoolClient>[0]);
    // `transporter` is a plain (TypeScript-protected) field of the library's STS client; setting it is all the fix needs.
    (this.stsCredential as unknown as { transporter: gaxios.Gaxios }).transporter = transporter;
    const o = options as { subject_token_type?: unknown; credential_source?: { file?: unknown } };
    this.#type = o.subject_token_type;
    this.#file = typeof o.credential_source?.file === 'string' ? o.credential_source.file : null;
  }

  override async retrieveSubjectToken(): Promise<string> {
    if (this.#file !== null) {
      const st = await stat(this.#file).catch(() => null);
      if (!st?.isFile() || st.size > MAX_SUBJECT_TOKEN_BYTES) throw new SubjectTokenRefused();
    }
    const token = await super.retrieveSubjectToken();
    if (!isSubjectToken(token, this.#type)) throw new SubjectTokenRefused();
    return token.trim();
  }
}

export type TokenResult = { ok: true; accessToken: string; expiresAt: string | null } | { ok: false; outcome: ValidationOutcome };

/** The KeydeskError (network failure, timeout, cancel) somewhere in a foreign error's cause chain. */
export function keydeskCause(e: unknown): KeydeskError | null {
  let x: unknown = e;
  for (let i = 0; i < 8 && x && typeof x === 'object'; i++) {
    if (x instanceof KeydeskError) return x;
    const o = x as { cause?: unknown; error?: unknown };
    x = o.cause ?? o.error;
  }
  return null;
}

/** The HTTP answer a google-auth-library / gaxios error carries, if any. */
export function responseOf(e: unknown): { status: number; data: unknown } | null {
  const r = (e as { response?: { status?: unknown; data?: unknown } } | null)?.response;
  return r && typeof r.status === 'number' ? { status: r.status, data: r.data } : null;
}

function oauthFields(data: unknown): { error: string | null; description: string } {
  if (!data || typeof data !== 'object') return { error: null, description: '' };
  const o = data as { error?: unknown; error_description?: unknown };
  const error = typeof o.error === 'string' && /^[a-z_]{1,64}$/.test(o.error) ? o.error : null;
  return { error, description: typeof o.error_description === 'string' ? o.error_description : '' };
}

export interface TokenErrorContext {
  /** Which grant was refused, for the message. */
  grant: 'service_account' | 'delegation' | 'sts';
}

/**
 * Google's token endpoint / STS answer → an honest status. Pure.
 * - `invalid_grant` "Invalid JWT Signature." is what Google says for a deleted, disabled *or expired* key, and for
 *   a key that is not this account's: failed. (The validation service turns a `failed` into `expired` when the
 *   credential's recorded expiry — e.g. the date the analyst entered for the key — has passed.)
 * - `invalid_grant` that says the token is stale / expired (STS: the external identity token) → expired.
 * - `invalid_grant` about iat/exp ("Token must be a short-lived token … reasonable timeframe"): this computer's
 *   clock is off. That says nothing about the credential, so → unknown (it must not block runs), with the fix.
 * - `unauthorized_client` (domain-wide delegation missing for the client id or for a scope) → failed.
 * - other 4xx → failed; 429, 5xx → unknown; an answer that is not Google's JSON → unknown.
 */
export function googleTokenOutcome(status: number, data: unknown, ctx: TokenErrorContext): ValidationOutcome {
  const down = unavailable(status, "Google's token service");
  if (down) return down;
  const { error, description } = oauthFields(data);
  if (!error) {
    if (status >= 200 && status < 300)
      return outcome(
        'unknown',
        'MALFORMED_RESPONSE',
        'Google’s token service answered, but not with a token Keydesk could read (check the token URL override). Validate again later.'
      );
    return outcome(
      status >= 400 && status < 500 ? 'failed' : 'unknown',
      `HTTP_${status}`,
      `Google's token service refused the request (HTTP ${status}) without saying why.`
    );
  }
  const d = description.toLowerCase();
  if (error === 'invalid_grant') {
    if (/short-lived token|reasonable timeframe|iat and exp/.test(d)) {
      return outcome(
        'unknown',
        error,
        'Google refused the request’s timestamps: this computer’s clock is off by more than a few minutes. Correct the clock, then validate again.'
      );
    }
    if (ctx.grant === 'sts') {
      if (/stale|expired/.test(d))
        return outcome(
          'expired',
          error,
          'The external identity token from the credential source has expired. Make sure the source serves a fresh token, then validate again.'
        );
      return outcome(
        'failed',
        error,
        'Google’s STS refused the external identity token: its signature, issuer or audience does not match the workload identity provider.'
      );
    }
    if (/expired/.test(d))
      return outcome('expired', error, 'Google says the service account key has expired. Create a new key and update the credential.');
    if (/invalid jwt signature/.test(d)) {
      return outcome(
        'failed',
        error,
        'Google does not accept this key’s signature: the key was deleted, disabled or has expired (Google answers all three alike), or it is not this service account’s key. Create a new key and update the credential.'
      );
    }
    if (/account not found|robot is disabled|disabled/.test(d))
      return outcome('failed', error, 'The service account was deleted or disabled in its Google Cloud project.');
    if (ctx.grant === 'delegation' && /email|user id/.test(d))
      return outcome('failed', error, 'The delegated admin email is not a user of this Google Workspace. Check the address.');
    return outcome(
      'failed',
      error,
      'Google refused the token request (invalid_grant). Check the key and, for delegation, the admin email.'
    );
  }
  if (error === 'unauthorized_client') {
    return outcome(
      'failed',
      error,
      'Domain-wide delegation is not authorised for this service account’s client ID and scopes. In the Admin console → Security → API controls → Domain-wide delegation, add the client ID with the scopes Keydesk needs.'
    );
  }
  if (error === 'invalid_target')
    return outcome(
      'failed',
      error,
      'Google’s STS does not know the workload identity pool or provider in "audience": it is disabled, deleted or mistyped.'
    );
  if (error === 'invalid_scope') return outcome('failed', error, 'Google refused the requested scopes (invalid_scope).');
  if (error === 'invalid_client') return outcome('failed', error, 'Google does not know this client (invalid_client).');
  if (status === 429 || status >= 500)
    return outcome('unknown', error, `Google's token service is unavailable (${error}). Validate again later.`);
  return outcome('failed', error, `Google refused the token request (${error}).`);
}

/** A failure that is not Google's answer: our own network error, or a fault inside the client library. */
export function transportOutcome(e: unknown): ValidationOutcome {
  return outcomeFromThrown(keydeskCause(e) ?? e);
}

/**
 * An access token for a service account key: the RS256 JWT bearer grant (google-auth-library's JWT client), as the
 * service account itself, or as `subject` through domain-wide delegation.
 */
export async function serviceAccountToken(
  http: ProviderHttp,
  key: ServiceAccountKey,
  scopes: readonly string[],
  opts: { subject?: string | undefined; tokenUrl?: string | undefined }
): Promise<TokenResult> {
  const { transporter } = googleTransport(http, { tokenUrl: opts.tokenUrl });
  const client = new JWT({
    email: key.client_email,
    key: key.private_key,
    ...(key.private_key_id ? { keyId: key.private_key_id } : {}),
    scopes: [...scopes],
    ...(opts.subject ? { subject: opts.subject } : {}),
    transporter
  });
  try {
    const creds = await client.authorize();
    if (typeof creds.access_token !== 'string' || creds.access_token === '') {
      return {
        ok: false,
        outcome: outcome(
          'unknown',
          'MALFORMED_RESPONSE',
          'Google’s token service sent an answer without an access token. Validate again later.'
        )
      };
    }
    return {
      ok: true,
      accessToken: creds.access_token,
      expiresAt: typeof creds.expiry_date === 'number' ? new Date(creds.expiry_date).toISOString() : null
    };
  } catch (e) {
    const r = responseOf(e);
    if (r) return { ok: false, outcome: googleTokenOutcome(r.status, r.data, { grant: opts.subject ? 'delegation' : 'service_account' }) };
    return { ok: false, outcome: transportOutcome(e) };
  }
}

/**
 * An access token for a workload identity federation configuration (url or file credential source): STS token
 * exchange, then service account impersonation when the configuration names one. `tokenUrl` overrides the
 * configuration's STS `token_url`.
 */
export async function externalAccountToken(
  http: ProviderHttp,
  config: Record<string, unknown>,
  scopes: readonly string[],
  opts: { tokenUrl?: string | undefined } = {}
): Promise<TokenResult> {
  const src = config.credential_source as Record<string, unknown> | undefined;
  if (
    !src ||
    typeof src !== 'object' ||
    'executable' in src ||
    'environment_id' in src ||
    'certificate' in src ||
    !('url' in src || 'file' in src)
  ) {
    return {
      ok: false,
      outcome: outcome(
        'failed',
        'UNSUPPORTED_SOURCE',
        'Only url and file credential sources are supported; executable, certificate and cloud-metadata sources are refused.'
      )
    };
  }
  if (!(SUBJECT_TOKEN_TYPES as readonly unknown[]).includes(config.subject_token_type)) {
    return {
      ok: false,
      outcome: outcome(
        'failed',
        'UNSUPPORTED_TOKEN_TYPE',
        `Keydesk exchanges OIDC (jwt, id_token) and SAML 2 subject tokens; set subject_token_type to one of ${SUBJECT_TOKEN_TYPES.join(', ')}.`
      )
    };
  }
  const { transporter, calls } = googleTransport(http);
  const stsUrl = opts.tokenUrl ?? (typeof config.token_url === 'string' ? config.token_url : 'https://sts.googleapis.com/v1/token');
  let client: IdentityPoolClient;
  try {
    client = new CheckedIdentityPoolClient(
      { ...(config as object), token_url: stsUrl, scopes: [...scopes] } as ConstructorParameters<typeof IdentityPoolClient>[0],
      transporter
    );
  } catch {
    return {
      ok: false,
      outcome: outcome(
        'failed',
        'invalid_configuration',
        'The external account configuration is not usable: check its audience, token type and credential source.'
      )
    };
  }
  try {
    const t = await client.getAccessToken();
    if (typeof t.token !== 'string' || t.token === '')
      return {
        ok: false,
        outcome: outcome('unknown', 'MALFORMED_RESPONSE', 'Google answered without an access token. Validate again later.')
      };
    const expiry = client.credentials.expiry_date;
    return { ok: true, accessToken: t.token, expiresAt: typeof expiry === 'number' ? new Date(expiry).toISOString() : null };
  } catch (e) {
    return { ok: false, outcome: externalAccountFailure(e, calls, stsUrl, config) };
  }
}

function sameEndpoint(a: URL, b: string | undefined): boolean {
  if (!b) return false;
  try {
    const u = new URL(b);
    return a.origin === u.origin && a.pathname === u.pathname;
  } catch {
    return false;
  }
}

function externalAccountFailure(e: unknown, calls: GoogleCall[], stsUrl: string, config: Record<string, unknown>): ValidationOutcome {
  if (e instanceof SubjectTokenRefused) {
    return outcome(
      'failed',
      'SUBJECT_TOKEN_INVALID',
      'The credential source did not hold a token of the configured subject_token_type (or the file is not a regular file under 64 KiB); nothing was sent to STS.'
    );
  }
  const last = calls.at(-1);
  const r = responseOf(e);
  const k = keydeskCause(e);
  if (k && last) return outcomeFromThrown(k);
  const src = config.credential_source as { url?: string; file?: string };
  if (!last) {
    // Nothing reached the network: the file source could not be read (or the library refused the configuration).
    if (src.file)
      return outcome(
        'failed',
        'SUBJECT_TOKEN_UNAVAILABLE',
        'The credential source file could not be read or holds no token. Check that the file exists and is readable.'
      );
    return transportOutcome(e);
  }
  if (sameEndpoint(last.url, src.url)) {
    if (r && (r.status >= 500 || r.status === 429))
      return outcome('unknown', `HTTP_${r.status}`, `The credential source answered ${r.status}. Validate again later.`);
    return outcome(
      'failed',
      'SUBJECT_TOKEN_UNAVAILABLE',
      `The credential source URL did not return a token${r ? ` (HTTP ${r.status})` : ''}. Check the source.`
    );
  }
  if (sameEndpoint(last.url, stsUrl)) {
    if (!r) return transportOutcome(e);
    return googleTokenOutcome(r.status, r.data, { grant: 'sts' });
  }
  if (
    sameEndpoint(
      last.url,
      typeof config.service_account_impersonation_url === 'string' ? config.service_account_impersonation_url : undefined
    )
  ) {
    if (!r) return transportOutcome(e);
    if (r.status === 429 || r.status >= 500)
      return outcome('unknown', `HTTP_${r.status}`, `Google's IAM Credentials API answered ${r.status}. Validate again later.`);
    if (r.status === 401 || r.status === 403 || r.status === 404) {
      return outcome(
        'failed',
        'PERMISSION_DENIED',
        'The federated identity may not impersonate the service account: grant it roles/iam.workloadIdentityUser on that service account (or check the account exists).'
      );
    }
    return outcome('failed', `HTTP_${r.status}`, `Google's IAM Credentials API refused to issue a token (HTTP ${r.status}).`);
  }
  return r
    ? outcome(r.status >= 500 || r.status === 429 ? 'unknown' : 'failed', `HTTP_${r.status}`, `Google answered HTTP ${r.status}.`)
    : transportOutcome(e);
}

/** Google API error JSON (`{"error":{"code","message","status","errors":[{"reason"}]}}`): status and reason only. */
export function googleApiError(data: unknown): { status: string | null; reason: string | null } {
  const err = data && typeof data === 'object' ? (data as { error?: unknown }).error : null;
  if (!err || typeof err !== 'object') return { status: null, reason: null };
  const o = err as { status?: unknown; errors?: unknown };
  const status = typeof o.status === 'string' && /^[A-Z_]{1,64}$/.test(o.status) ? o.status : null;
  const first = Array.isArray(o.errors) ? (o.errors[0] as { reason?: unknown } | undefined) : undefined;
  const reason = typeof first?.reason === 'string' && /^[A-Za-z_]{1,64}$/.test(first.reason) ? first.reason : null;
  return { status, reason };
}

/** GET a Google REST resource with a bearer token; the body parsed as JSON (undefined when it is not JSON). */
export async function googleGet(
  http: ProviderHttp,
  url: string,
  accessToken: string
): Promise<{ status: number; json: unknown } | { status: null; outcome: ValidationOutcome }> {
  try {
    const res = await http(url, { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' } });
    return { status: res.status, json: parseJson(await readText(res)) };
  } catch (e) {
    return { status: null, outcome: transportOutcome(e) };
  }
}
