import { OAuth2Client, type Credentials } from 'google-auth-library';
import * as oidc from 'openid-client';
import { KeydeskError } from '../../errors.ts';
import { googleTransport } from '../gcp/google-auth.ts';
import { WORKSPACE_SCOPES } from './spec.ts';
import { accountFromIdToken, hostOf, scopeList, tokenEndpointError, type TokenSet } from '../../oauth/flow/tokens.ts';
import { keydeskCause, libraryFailure } from '../../oauth/drivers/errors.ts';
import type { DriverDeps, FlowDriver, OAuthSource } from '../../oauth/drivers/types.ts';

/**
 * google_workspace `oauth_user` on google-auth-library's OAuth2Client (its endpoint overrides point it at a proxy, or a
 * test server). OAuth2Client builds the authorization URL (access_type=offline, prompt=consent: Google issues a
 * refresh token only then), exchanges the code with the PKCE verifier and refreshes. Revocation does not use
 * OAuth2Client.revokeToken, which puts the token in the URL's query string (where proxies and logs keep it): it goes
 * through openid-client's RFC 7009 request (token in the POST body), which Google's revoke endpoint accepts.
 */

const LIBRARY = 'google-auth-library';

export const GOOGLE_DEFAULTS = {
  authorizationUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
  tokenUrl: 'https://oauth2.googleapis.com/token',
  revocationUrl: 'https://oauth2.googleapis.com/revoke'
} as const;

/** What oauth_user asks for unless the credential lists its own scopes: identity plus what the capabilities need. */
export const GOOGLE_DEFAULT_SCOPES = [
  'openid',
  'email',
  WORKSPACE_SCOPES.userRead,
  WORKSPACE_SCOPES.userWrite,
  WORKSPACE_SCOPES.domainRead,
  WORKSPACE_SCOPES.gmailSettings
];

/** OAuth2Client with its protected, uncached refresh call exposed (it returns the raw answer, rotated token included). */
class KeydeskGoogleClient extends OAuth2Client {
  refreshWith(refreshToken: string) {
    return this.refreshTokenNoCache(refreshToken);
  }
}

interface GaxiosLike {
  response?: { status?: number; data?: unknown };
}

function fail(what: 'exchange' | 'refresh', host: string, e: unknown): KeydeskError {
  const own = keydeskCause(e);
  if (own) return own;
  const res = (e as GaxiosLike | null)?.response;
  const data = res?.data as { error?: unknown; error_description?: unknown; error_subtype?: unknown } | undefined;
  if (res && data && typeof data === 'object' && typeof data.error === 'string') {
    return tokenEndpointError(what, {
      error: data.error,
      description: data.error_description,
      subtype: data.error_subtype,
      status: res.status ?? null,
      host
    });
  }
  if (res?.status && res.status >= 500)
    return new KeydeskError('PROVIDER_UNREACHABLE', `${host} failed to answer (HTTP ${res.status}); try again later.`);
  return libraryFailure(what === 'exchange' ? 'The code exchange' : 'The token refresh', host, e, LIBRARY);
}

/**
 * The `nonce` claim of an ID token, read without checking its signature: the token came straight from the token
 * endpoint over TLS (OpenID Connect Core §3.1.3.7 allows TLS validation in place of the signature there), and it is
 * only compared with the nonce this sign-in sent.
 */
export function idTokenNonce(idToken: string): string | null {
  try {
    const claims = JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { nonce?: unknown };
    return typeof claims.nonce === 'string' ? claims.nonce : null;
  } catch {
    return null;
  }
}

function toTokenSet(t: Credentials, now: Date, requested: string[] | null): TokenSet {
  if (typeof t.access_token !== 'string' || t.access_token === '')
    throw new KeydeskError('OAUTH_FAILED', 'The token endpoint answered without an access token. Nothing was stored.');
  // OAuth2Client turns expires_in into expiry_date with the real clock; carry the remaining lifetime over to ours.
  const expiresAt =
    typeof t.expiry_date === 'number' && Number.isFinite(t.expiry_date)
      ? new Date(now.getTime() + Math.max(0, t.expiry_date - Date.now())).toISOString()
      : null;
  return {
    accessToken: t.access_token,
    refreshToken: typeof t.refresh_token === 'string' && t.refresh_token ? t.refresh_token : null,
    expiresAt,
    scopes: scopeList(t.scope) ?? (requested ? [...requested].sort() : null),
    tokenType: typeof t.token_type === 'string' ? t.token_type.toLowerCase() : 'bearer',
    account: accountFromIdToken(t.id_token)
  };
}

export async function googleDriver(source: OAuthSource, deps: DriverDeps): Promise<FlowDriver> {
  const f = source.fields;
  if (!f.client_id) throw new KeydeskError('INPUT_INVALID', 'This Google OAuth credential has no client id.');
  const clientId = f.client_id;
  const clientSecret = source.secrets.client_secret?.reveal();
  const authorizationUrl = f.authorization_url ?? GOOGLE_DEFAULTS.authorizationUrl;
  const tokenUrl = f.token_url ?? GOOGLE_DEFAULTS.tokenUrl;
  const revocationUrl = f.revocation_url ?? GOOGLE_DEFAULTS.revocationUrl;
  const scopes = f.scopes ? f.scopes.split(' ').filter(Boolean) : GOOGLE_DEFAULT_SCOPES;
  const host = hostOf(tokenUrl);
  const openid = scopes.includes('openid');
  // RFC 9207: when the server names itself in the authorization response, it must be the server we sent the user to.
  const expectedIssuer = f.authorization_url ? new URL(authorizationUrl).origin : 'https://accounts.google.com';

  const client = (redirectUri?: string) =>
    new KeydeskGoogleClient({
      clientId,
      ...(clientSecret ? { clientSecret } : {}),
      ...(redirectUri ? { redirectUri } : {}),
      endpoints: { oauth2AuthBaseUrl: authorizationUrl, oauth2TokenUrl: tokenUrl, oauth2RevokeUrl: revocationUrl },
      // Keydesk's transport (the documented AuthClientOptions.transporter): provider fetch with its timeout, and
      // gaxios' own retries off. OAuth2Client asks gaxios to retry its token POSTs (on 5xx, 429 and lost answers),
      // which would send a refresh token — or an authorization code — a second time after the server may already
      // have spent it: a rotating provider then revokes the whole grant. One request per call; Keydesk decides.
      transporter: googleTransport(deps.http).transporter
    });

  return {
    library: LIBRARY,
    host,
    scopes,
    loopback: { redirectHost: '127.0.0.1', path: '/', responseMode: 'query' },
    async authorizationUrl(req) {
      return client(req.redirectUri).generateAuthUrl({
        access_type: 'offline',
        prompt: 'consent',
        scope: scopes,
        state: req.state,
        code_challenge: req.pkce.challenge,
        // google-auth-library types the method as its own enum; the value on the wire is "S256".
        code_challenge_method: req.pkce.method as never,
        redirect_uri: req.redirectUri,
        // OpenID Connect: the ID token must carry this sign-in's nonce (checked in exchange). OAuth2Client passes any
        // option through to the URL; its type does not list nonce.
        ...(openid ? ({ nonce: req.nonce } as object) : {})
      });
    },
    async exchange(req, response) {
      const iss = response.get('iss');
      if (iss !== null && iss !== expectedIssuer) {
        throw new KeydeskError(
          'OAUTH_FAILED',
          `The sign-in answer names another authorization server (${hostOf(iss)}) than the one Keydesk sent you to (${hostOf(expectedIssuer)}). Nothing was stored.`
        );
      }
      const code = response.get('code') ?? '';
      try {
        const { tokens } = await client(req.redirectUri).getToken({ code, codeVerifier: req.pkce.verifier, redirect_uri: req.redirectUri });
        if (openid && typeof tokens.id_token === 'string' && idTokenNonce(tokens.id_token) !== req.nonce) {
          throw new KeydeskError(
            'OAUTH_FAILED',
            `The ID token from ${host} does not carry this sign-in's nonce (a replayed or substituted answer). Nothing was stored.`
          );
        }
        return toTokenSet(tokens, deps.clock.now(), scopes);
      } catch (e) {
        if (e instanceof KeydeskError) throw e;
        throw fail('exchange', host, e);
      }
    },
    async refresh(refreshToken) {
      try {
        const { tokens } = await client().refreshWith(refreshToken);
        return toTokenSet(tokens, deps.clock.now(), null);
      } catch (e) {
        if (e instanceof KeydeskError) throw e;
        throw fail('refresh', host, e);
      }
    },
    async revoke(token, hint) {
      const config = new oidc.Configuration(
        { issuer: expectedIssuer, token_endpoint: tokenUrl, revocation_endpoint: revocationUrl },
        clientId,
        clientSecret ? { client_secret: clientSecret } : undefined,
        clientSecret ? oidc.ClientSecretPost(clientSecret) : oidc.None()
      );
      config[oidc.customFetch] = (url, options) => deps.http(url, options as RequestInit);
      if (new URL(revocationUrl).protocol === 'http:') oidc.allowInsecureRequests(config);
      try {
        await oidc.tokenRevocation(config, token, { token_type_hint: hint });
      } catch (e) {
        if (e instanceof oidc.ResponseBodyError)
          throw tokenEndpointError('revoke', {
            error: e.error,
            description: e.error_description,
            status: e.status,
            host: hostOf(revocationUrl)
          });
        throw libraryFailure(
          'The revocation',
          hostOf(revocationUrl),
          e,
          'openid-client',
          e instanceof oidc.ClientError ? e.message : undefined
        );
      }
    },
    revocationNote: null
  };
}
