import { KeydeskError } from '../../errors.ts';
import type { ErrorCode } from '../../../preload/contract.ts';
import { printableProviderText } from './loopback.ts';

/**
 * Token sets, expiry arithmetic and what a token endpoint's refusal means. Pure functions; no I/O.
 *
 * Where tokens live: the access and refresh tokens are extra secrets of the credential (sealed with its other
 * secrets, written atomically with a new expiry), under the names below. What is readable: the expiry
 * (`expiresAt`), the granted scopes (`observed.granted`), the account (`observed.identity.account`) and
 * `observed.oauth` (connected/refreshed times, whether a refresh token is held).
 */

/** Access tokens are refreshed when they expire within this margin (DESIGN.md: 5 minutes). */
export const REFRESH_MARGIN_MS = 5 * 60_000;

export const TOKEN_SECRET_NAMES = { access: 'access_token', refresh: 'refresh_token' } as const;

export interface TokenSet {
  accessToken: string;
  /** Absent when the provider issued none (or kept the old one: then the caller keeps the old one). */
  refreshToken: string | null;
  /** ISO time, or null when the provider did not say. */
  expiresAt: string | null;
  /** Granted scopes as the provider reported them; null when it did not say. */
  scopes: string[] | null;
  tokenType: string;
  /** Who signed in, for display (an email, a preferred_username or a subject), when an ID token said. */
  account: string | null;
}

/** True when the token should be refreshed before use. An unknown expiry is treated as "still valid". */
export function needsRefresh(expiresAt: string | null, now: Date, marginMs: number = REFRESH_MARGIN_MS): boolean {
  if (!expiresAt) return false;
  const t = Date.parse(expiresAt);
  return Number.isNaN(t) || t - now.getTime() <= marginMs;
}

/** `expires_in` seconds (as a provider sent it) to an ISO time; null for absent or unusable values. */
export function expiryFromSeconds(expiresIn: unknown, now: Date): string | null {
  const n = typeof expiresIn === 'string' && /^\d+$/.test(expiresIn) ? Number(expiresIn) : expiresIn;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || n > 10 * 365 * 24 * 3600) return null;
  return new Date(now.getTime() + Math.floor(n) * 1000).toISOString();
}

/** A scope string ("a b c") to a sorted, de-duplicated list; null when absent. */
export function scopeList(scope: unknown): string[] | null {
  if (typeof scope !== 'string') return null;
  const list = [...new Set(scope.split(/\s+/).filter((s) => s.length > 0 && s.length <= 512))];
  return list.sort();
}

/** Display-only facts from an ID token payload (decoded, not verified: it is never used to decide anything). */
export function accountFromIdToken(idToken: unknown): string | null {
  if (typeof idToken !== 'string') return null;
  const part = idToken.split('.')[1];
  if (!part) return null;
  try {
    const claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
    for (const k of ['email', 'preferred_username', 'upn', 'sub']) {
      const v = claims[k];
      if (typeof v === 'string' && v.length > 0 && v.length <= 320) return printableProviderText(v, 320);
    }
  } catch {
    /* not a JWT we can read: no account shown */
  }
  return null;
}

/** Why a refresh token no longer works, when the provider said so. */
export type ExpiredReason = 'invalid_grant' | 'invalid_rapt';

/**
 * A token endpoint's OAuth error (RFC 6749 §5.2), kept structured so the service can decide what it means.
 * The message quotes the provider's error code and (printable, bounded) description, never a token.
 */
export class TokenEndpointError extends KeydeskError {
  readonly oauthError: string;
  readonly httpStatus: number | null;
  readonly expiredReason: ExpiredReason | null;

  constructor(
    code: ErrorCode,
    message: string,
    info: { oauthError: string; httpStatus: number | null; expiredReason: ExpiredReason | null }
  ) {
    super(code, message);
    this.name = 'TokenEndpointError';
    this.oauthError = info.oauthError;
    this.httpStatus = info.httpStatus;
    this.expiredReason = info.expiredReason;
  }
}

/**
 * What a refusal means. `invalid_grant` means the refresh token is dead (revoked, expired, reused); Google says
 * `invalid_rapt` (as `error_subtype`, or inside the description) when the user must re-authenticate.
 * Both mean: the credential is expired until someone signs in again.
 */
export function classifyTokenError(error: string, description: string | null, subtype: string | null): ExpiredReason | null {
  if (subtype === 'invalid_rapt' || error === 'invalid_rapt' || (error === 'invalid_grant' && /invalid_rapt/i.test(description ?? '')))
    return 'invalid_rapt';
  if (error === 'invalid_grant') return 'invalid_grant';
  return null;
}

/**
 * OAuth error codes that say the server could not handle the request now (RFC 6749 §4.1.2.1 defines them; Entra and
 * Google also answer them from their token endpoints): they say nothing about the credential.
 */
const UNAVAILABLE_ERRORS: ReadonlySet<string> = new Set(['temporarily_unavailable', 'server_error']);

/** Builds the error for a token endpoint's OAuth error answer. */
export function tokenEndpointError(
  what: 'refresh' | 'exchange' | 'revoke',
  info: { error: unknown; description?: unknown; subtype?: unknown; status?: number | null; host: string }
): TokenEndpointError {
  const error = typeof info.error === 'string' && info.error ? printableProviderText(info.error, 100) : 'unknown_error';
  const description = typeof info.description === 'string' && info.description ? printableProviderText(info.description) : null;
  const subtype = typeof info.subtype === 'string' ? info.subtype : null;
  const expiredReason = classifyTokenError(error, description, subtype);
  const said = `${error}${description ? ` — ${description}` : ''}`;
  const status = info.status ?? null;
  if (what === 'exchange') {
    return new TokenEndpointError(
      'OAUTH_FAILED',
      `${info.host} refused to exchange the authorization code (${said}). Nothing was stored.`,
      { oauthError: error, httpStatus: status, expiredReason: null }
    );
  }
  if (what === 'revoke') {
    if ((status !== null && (status >= 500 || status === 429)) || UNAVAILABLE_ERRORS.has(error)) {
      return new TokenEndpointError(
        'PROVIDER_UNREACHABLE',
        `${info.host} could not take the revocation now (${status !== null ? `HTTP ${status}: ` : ''}${said}); try again later.`,
        { oauthError: error, httpStatus: status, expiredReason: null }
      );
    }
    return new TokenEndpointError('PROVIDER_REJECTED', `${info.host} refused the revocation (${said}).`, {
      oauthError: error,
      httpStatus: status,
      expiredReason: null
    });
  }
  if (expiredReason) {
    return new TokenEndpointError(
      'PROVIDER_EXPIRED',
      `${info.host} no longer accepts the refresh token (${said}). Sign in again to reconnect this credential.`,
      {
        oauthError: error,
        httpStatus: status,
        expiredReason
      }
    );
  }
  if ((status !== null && status >= 500) || UNAVAILABLE_ERRORS.has(error)) {
    return new TokenEndpointError(
      'PROVIDER_UNREACHABLE',
      `${info.host} failed to answer the token request (${status !== null ? `HTTP ${status}: ` : ''}${said}); try again later.`,
      { oauthError: error, httpStatus: status, expiredReason: null }
    );
  }
  if (status === 429) {
    return new TokenEndpointError(
      'PROVIDER_UNREACHABLE',
      `${info.host} is rate-limiting token requests (HTTP 429: ${said}); try again later.`,
      { oauthError: error, httpStatus: status, expiredReason: null }
    );
  }
  return new TokenEndpointError('PROVIDER_REJECTED', `${info.host} refused the token request (${said}).`, {
    oauthError: error,
    httpStatus: status,
    expiredReason: null
  });
}

/** The host of a URL for messages ("oauth2.googleapis.com"), never its path or query. */
export function hostOf(url: string | URL): string {
  try {
    return new URL(String(url)).host || 'the provider';
  } catch {
    return 'the provider';
  }
}

/** A scope list from a library (MSAL's `scopes`): strings only, sorted, de-duplicated; null when absent. */
export function printableScopes(list: unknown): string[] | null {
  if (!Array.isArray(list)) return null;
  return scopeList(list.filter((s): s is string => typeof s === 'string').join(' '));
}
