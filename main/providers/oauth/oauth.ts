import * as oidc from 'openid-client';
import { KeydeskError } from '../../errors.ts';
import { endpointUrl } from '../spec.ts';
import { presetById, withTenant, type OAuthPreset } from './presets.ts';
import { accountFromIdToken, expiryFromSeconds, hostOf, scopeList, tokenEndpointError, type TokenSet } from '../../oauth/flow/tokens.ts';
import { libraryFailure } from '../../oauth/drivers/errors.ts';
import type { AuthorizationRequest, DriverDeps, FlowDriver, OAuthSource } from '../../oauth/drivers/types.ts';

/**
 * The generic `oauth` provider (mode authorization_code) on openid-client v6: by a preset, by explicit URLs, or by a
 * discovery document. openid-client builds the authorization URL, validates the authorization response (state,
 * RFC 9207 `iss`), exchanges the code with the PKCE verifier, validates the ID token (issuer, audience, nonce) when
 * `openid` is asked for, refreshes and revokes (RFC 7009).
 */

const LIBRARY = 'openid-client';

function isLoopbackHttp(url: string | undefined): boolean {
  if (!url) return false;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
  } catch {
    return false;
  }
}

/** The endpoints a credential resolves to: its own fields first, then its preset (tenant filled in). */
export function resolveEndpoints(
  fields: Readonly<Record<string, string>>,
  preset: OAuthPreset | null
): {
  authorizationUrl: string | undefined;
  tokenUrl: string | undefined;
  revocationUrl: string | undefined;
  discoveryUrl: string | undefined;
} {
  const tenant = fields.tenant;
  return {
    authorizationUrl: fields.authorization_url ?? (preset ? withTenant(preset.authorizationUrl, tenant) : undefined),
    tokenUrl: fields.token_url ?? (preset ? withTenant(preset.tokenUrl, tenant) : undefined),
    revocationUrl: fields.revocation_url ?? preset?.revocationUrl ?? undefined,
    discoveryUrl: fields.discovery_url
  };
}

function scopesOf(fields: Readonly<Record<string, string>>): string[] {
  return (fields.scopes ?? '').split(' ').filter(Boolean);
}

function toTokenSet(t: oidc.TokenEndpointResponse, now: Date, requested: string[] | null): TokenSet {
  return {
    accessToken: t.access_token,
    refreshToken: typeof t.refresh_token === 'string' && t.refresh_token ? t.refresh_token : null,
    expiresAt: expiryFromSeconds(t.expires_in, now),
    // RFC 6749 §5.1: no scope in the answer means "as requested".
    scopes: scopeList(t.scope) ?? (requested ? [...requested].sort() : null),
    tokenType: typeof t.token_type === 'string' ? t.token_type.toLowerCase() : 'bearer',
    account: accountFromIdToken(t.id_token)
  };
}

function fail(what: 'exchange' | 'refresh' | 'revoke', host: string, e: unknown): KeydeskError {
  if (e instanceof oidc.ResponseBodyError) {
    return tokenEndpointError(what, {
      error: e.error,
      description: e.error_description,
      subtype: e.cause?.error_subtype,
      status: e.status,
      host
    });
  }
  // RFC 6749 §5.2: a 401 to a client that authenticated with a header carries a WWW-Authenticate challenge; the
  // library stops there, before the body. The challenge's own `error` (or the status) is the provider's verdict.
  if (e instanceof oidc.WWWAuthenticateChallengeError) {
    const params = e.cause.find((c) => typeof c.parameters.error === 'string')?.parameters;
    return tokenEndpointError(what, {
      error: params?.error ?? `HTTP_${e.status}`,
      description: params?.error_description,
      status: e.status,
      host
    });
  }
  // openid-client reports a 5xx without an OAuth error body as "unexpected HTTP response status code" (cause: the
  // Response): the server failed, nothing is known about the credential.
  const cause = (e as { cause?: unknown } | null)?.cause;
  if (cause instanceof Response && cause.status >= 500)
    return new KeydeskError('PROVIDER_UNREACHABLE', `${host} failed to answer (HTTP ${cause.status}); try again later.`);
  const label = what === 'exchange' ? 'The code exchange' : what === 'refresh' ? 'The token refresh' : 'The revocation';
  return libraryFailure(label, host, e, LIBRARY, e instanceof oidc.ClientError ? e.message : undefined);
}

/**
 * The endpoints a discovery document names get the rule the credential's own endpoint fields get: https, or plain
 * http only to 127.0.0.1/localhost. (openid-client enforces https by itself, but not once plain http is allowed for a
 * local test server: a local discovery document must not send the client secret or a code to a remote http host.)
 */
export function checkServerEndpoints(meta: {
  authorization_endpoint?: string | undefined;
  token_endpoint?: string | undefined;
  revocation_endpoint?: string | undefined;
}): void {
  for (const [name, value] of [
    ['authorization_endpoint', meta.authorization_endpoint],
    ['token_endpoint', meta.token_endpoint],
    ['revocation_endpoint', meta.revocation_endpoint]
  ] as const) {
    if (value === undefined) continue;
    if (endpointUrl(name)(value) !== null) {
      throw new KeydeskError(
        'OAUTH_FAILED',
        `The discovery document's ${name} (${hostOf(value)}) is neither https nor a loopback address; Keydesk sends nothing there. Nothing was stored.`
      );
    }
  }
}

export async function genericDriver(source: OAuthSource, deps: DriverDeps): Promise<FlowDriver> {
  const f = source.fields;
  const preset = presetById(f.preset);
  const ep = resolveEndpoints(f, preset);
  const clientId = f.client_id;
  if (!clientId) throw new KeydeskError('INPUT_INVALID', 'This OAuth credential has no client id.');
  const secret = source.secrets.client_secret?.reveal();
  const clientAuth = secret
    ? preset?.clientAuth === 'basic'
      ? oidc.ClientSecretBasic(secret)
      : oidc.ClientSecretPost(secret)
    : oidc.None();
  const insecure = [ep.authorizationUrl, ep.tokenUrl, ep.revocationUrl, ep.discoveryUrl].some(isLoopbackHttp);
  const customFetch: oidc.CustomFetch = (url, options) => deps.http(url, options as RequestInit);
  const timeout = Math.max(1, Math.ceil(deps.timeoutMs / 1000));

  let config: oidc.Configuration;
  if (ep.discoveryUrl) {
    try {
      config = await oidc.discovery(new URL(ep.discoveryUrl), clientId, secret ? { client_secret: secret } : undefined, clientAuth, {
        [oidc.customFetch]: customFetch,
        timeout,
        ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {})
      });
    } catch (e) {
      throw libraryFailure(
        'Reading the discovery document',
        hostOf(ep.discoveryUrl),
        e,
        LIBRARY,
        e instanceof oidc.ClientError ? e.message : undefined
      );
    }
    // Fields the analyst filled in win over the discovered ones.
    const { supportsPKCE: _helper, ...discovered } = config.serverMetadata();
    if (f.authorization_url || f.token_url || f.revocation_url) {
      config = new oidc.Configuration(
        {
          ...discovered,
          ...(f.authorization_url ? { authorization_endpoint: f.authorization_url } : {}),
          ...(f.token_url ? { token_endpoint: f.token_url } : {}),
          ...(f.revocation_url ? { revocation_endpoint: f.revocation_url } : {})
        },
        clientId,
        secret ? { client_secret: secret } : undefined,
        clientAuth
      );
    }
  } else {
    if (!ep.authorizationUrl || !ep.tokenUrl)
      throw new KeydeskError(
        'INPUT_INVALID',
        'This OAuth credential needs a preset, a discovery URL, or both the authorization and token URLs.'
      );
    config = new oidc.Configuration(
      {
        // Without discovery the issuer is the preset's, or the authorization server's origin (what oidc-provider,
        // Keycloak and most single-tenant servers use); RFC 9207 `iss` and ID tokens are checked against it.
        issuer: preset?.issuer ?? new URL(ep.authorizationUrl).origin,
        authorization_endpoint: ep.authorizationUrl,
        token_endpoint: ep.tokenUrl,
        ...(ep.revocationUrl ? { revocation_endpoint: ep.revocationUrl } : {})
      },
      clientId,
      secret ? { client_secret: secret } : undefined,
      clientAuth
    );
  }
  config[oidc.customFetch] = customFetch;
  config.timeout = timeout;
  if (insecure) oidc.allowInsecureRequests(config);

  const meta = config.serverMetadata();
  checkServerEndpoints(meta);
  const host = hostOf(meta.token_endpoint ?? ep.tokenUrl ?? '');
  const scopes = scopesOf(f);
  const openid = scopes.includes('openid');
  const revocationEndpoint = meta.revocation_endpoint;

  return {
    library: LIBRARY,
    host,
    scopes,
    loopback: { redirectHost: preset?.redirectHost ?? '127.0.0.1', path: preset?.redirectPath ?? '/callback', responseMode: 'query' },
    async authorizationUrl(req: AuthorizationRequest) {
      const params: Record<string, string> = {
        redirect_uri: req.redirectUri,
        scope: scopes.join(' '),
        state: req.state,
        code_challenge: req.pkce.challenge,
        code_challenge_method: req.pkce.method,
        ...(openid ? { nonce: req.nonce } : {}),
        // OpenID Connect §11: offline_access is honoured only with prompt=consent.
        ...(scopes.includes('offline_access') ? { prompt: 'consent' } : {}),
        ...(preset?.authorizationParams ?? {})
      };
      return oidc.buildAuthorizationUrl(config, params).href;
    },
    async exchange(req, response) {
      const currentUrl = new URL(req.redirectUri);
      currentUrl.search = response.toString();
      try {
        const t = await oidc.authorizationCodeGrant(config, currentUrl, {
          pkceCodeVerifier: req.pkce.verifier,
          expectedState: req.state,
          ...(openid ? { expectedNonce: req.nonce, idTokenExpected: true } : {})
        });
        return toTokenSet(t, deps.clock.now(), scopes);
      } catch (e) {
        throw fail('exchange', host, e);
      }
    },
    async refresh(refreshToken) {
      try {
        return toTokenSet(await oidc.refreshTokenGrant(config, refreshToken), deps.clock.now(), null);
      } catch (e) {
        throw fail('refresh', host, e);
      }
    },
    revoke: revocationEndpoint
      ? async (token, hint) => {
          try {
            await oidc.tokenRevocation(config, token, { token_type_hint: hint });
          } catch (e) {
            throw fail('revoke', hostOf(revocationEndpoint), e);
          }
        }
      : null,
    revocationNote: revocationEndpoint
      ? null
      : (preset?.revocationNote ??
        'This provider has no RFC 7009 revocation endpoint configured (set revocation_url if it has one); Keydesk can only forget its copy of the tokens.')
  };
}
