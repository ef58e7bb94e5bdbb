import {
  AuthError,
  LogLevel,
  PublicClientApplication,
  ResponseMode,
  type AuthenticationResult,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse
} from '@azure/msal-node';
import { KeydeskError } from '../../errors.ts';
import type { ProviderHttp } from '../http.ts';
import { parseJson, readText } from '../answers.ts';
import { PRESETS } from '../oauth/presets.ts';
import { accountFromIdToken, printableScopes, tokenEndpointError, type TokenSet } from '../../oauth/flow/tokens.ts';
import { keydeskCause, libraryFailure } from '../../oauth/drivers/errors.ts';
import type { DriverDeps, FlowDriver, OAuthSource } from '../../oauth/drivers/types.ts';

/**
 * microsoft_365 `oauth_delegated` on MSAL Node's PublicClientApplication.
 *
 * MSAL Node 6 removed the custom loopback client (`ILoopbackClient`) from `acquireTokenInteractive`, which now always
 * starts MSAL's own listener; so Keydesk drives MSAL's two halves of the same flow instead — `getAuthCodeUrl` (PKCE
 * S256, state, nonce, response_mode=form_post as MSAL itself now uses) and `acquireTokenByCode` (state, nonce and the
 * token response checked by MSAL) — with Keydesk's loopback listener in between, on `http://localhost` as Entra
 * registrations expect. Refresh is `acquireTokenByRefreshToken` (forceCache, so MSAL keeps the rotated refresh token
 * in its in-memory cache, from where it is read into the vault). MSAL never persists anything itself here.
 *
 * MSAL gets `knownAuthorities` and `cloudDiscoveryMetadata` built from the credential's own authority host, so it
 * never calls Microsoft's instance-discovery service; it reads the tenant's OpenID configuration from
 * `{authority}/v2.0/.well-known/openid-configuration` like any MSAL app. All its HTTP goes through Keydesk's fetch
 * wrapper (timeouts, secret-free network errors). Entra has no RFC 7009 endpoint: revocation says so.
 */

const LIBRARY = 'msal-node';
export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
export const DEFAULT_GRAPH_ENDPOINT = 'https://graph.microsoft.com';

/** The delegated Graph permissions the microsoft_365 capabilities and validation need. */
export const GRAPH_DELEGATED_PERMISSIONS = ['User.Read', 'User.ReadWrite.All', 'Directory.Read.All', 'MailboxSettings.ReadWrite'] as const;

export function defaultMicrosoftScopes(graphEndpoint: string | undefined): string[] {
  const base = (graphEndpoint ?? DEFAULT_GRAPH_ENDPOINT).replace(/\/+$/, '');
  return GRAPH_DELEGATED_PERMISSIONS.map((p) => `${base}/${p}`);
}

/** The HTTP status of the last answer MSAL got: its errors do not carry it (ServerError.status stays unset). */
export interface LastStatus {
  status: number | null;
}

/** MSAL's network interface over Keydesk's fetch wrapper; `last` records each answer's status. */
export function msalNetwork(http: ProviderHttp, last: LastStatus = { status: null }): INetworkModule {
  const send = async <T>(method: 'GET' | 'POST', url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> => {
    last.status = null;
    const res = await http(url, { method, headers: options?.headers ?? {}, ...(method === 'POST' ? { body: options?.body ?? '' } : {}) });
    last.status = res.status;
    // At most 1 MiB is read: a token answer is small, and a huge one is not Entra's.
    const parsed = parseJson(await readText(res));
    const body = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => (headers[k] = v));
    return { headers, body: body as T, status: res.status };
  };
  return {
    sendGetRequestAsync: (url, options) => send('GET', url, options),
    sendPostRequestAsync: (url, options) => send('POST', url, options)
  };
}

function fail(what: 'exchange' | 'refresh', host: string, e: unknown, last: LastStatus): KeydeskError {
  const own = keydeskCause(e);
  if (own) return own;
  if (e instanceof AuthError) {
    const server = (e as AuthError & { status?: number }).status ?? last.status;
    // ServerError / InteractionRequiredAuthError carry the token endpoint's OAuth error code in errorCode.
    if (e.name === 'ServerError' || e.name === 'InteractionRequiredAuthError') {
      const description = /Description: ([^-]*?)(?: - |$)/.exec(e.errorMessage)?.[1] ?? e.errorMessage;
      return tokenEndpointError(what, {
        error: e.errorCode,
        description,
        subtype: e.subError || null,
        status: typeof server === 'number' ? server : null,
        host
      });
    }
  }
  return libraryFailure(what === 'exchange' ? 'The code exchange' : 'The token refresh', host, e, LIBRARY);
}

/** The refresh token MSAL cached (it keeps refresh tokens out of AuthenticationResult by design). */
function cachedRefreshToken(pca: PublicClientApplication): string | null {
  try {
    const cache = JSON.parse(pca.getTokenCache().serialize()) as { RefreshToken?: Record<string, { secret?: unknown }> };
    const entries = Object.values(cache.RefreshToken ?? {});
    const secret = entries[entries.length - 1]?.secret;
    return typeof secret === 'string' && secret ? secret : null;
  } catch {
    return null;
  }
}

function toTokenSet(r: AuthenticationResult | null, refreshToken: string | null): TokenSet {
  if (!r?.accessToken) throw new KeydeskError('OAUTH_FAILED', 'Microsoft Entra answered without an access token. Nothing was stored.');
  return {
    accessToken: r.accessToken,
    refreshToken,
    expiresAt: r.expiresOn ? r.expiresOn.toISOString() : null,
    scopes: printableScopes(r.scopes),
    tokenType: (r.tokenType || 'Bearer').toLowerCase(),
    account: r.account?.username || accountFromIdToken(r.idToken)
  };
}

export async function microsoftDriver(source: OAuthSource, deps: DriverDeps): Promise<FlowDriver> {
  const f = source.fields;
  if (!f.client_id || !f.tenant_id)
    throw new KeydeskError('INPUT_INVALID', 'This Microsoft 365 OAuth credential needs a tenant id and a client id.');
  const authorityHost = (f.authority_host ?? DEFAULT_AUTHORITY_HOST).replace(/\/+$/, '');
  const authority = `${authorityHost}/${encodeURIComponent(f.tenant_id)}`;
  const host = new URL(authorityHost).host;
  const scopes = f.scopes ? f.scopes.split(' ').filter(Boolean) : defaultMicrosoftScopes(f.graph_endpoint);
  const last: LastStatus = { status: null };
  const network = msalNetwork(deps.http, last);

  const pca = () =>
    new PublicClientApplication({
      auth: {
        clientId: f.client_id ?? '',
        authority,
        knownAuthorities: [host],
        cloudDiscoveryMetadata: JSON.stringify({
          tenant_discovery_endpoint: `${authority}/v2.0/.well-known/openid-configuration`,
          'api-version': '1.1',
          metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }]
        })
      },
      system: {
        networkClient: network,
        // MSAL's own log lines never leave this process's memory: nothing of it is printed.
        loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => undefined }
      }
    });

  return {
    library: LIBRARY,
    host,
    scopes,
    loopback: { redirectHost: PRESETS.microsoft.redirectHost, path: '/', responseMode: 'form_post' },
    async authorizationUrl(req) {
      try {
        return await pca().getAuthCodeUrl({
          scopes,
          redirectUri: req.redirectUri,
          codeChallenge: req.pkce.challenge,
          codeChallengeMethod: req.pkce.method,
          state: req.state,
          nonce: req.nonce,
          responseMode: ResponseMode.FORM_POST
        });
      } catch (e) {
        throw libraryFailure('Preparing the sign-in', host, e, LIBRARY);
      }
    },
    async exchange(req, response) {
      const app = pca();
      try {
        const result = await app.acquireTokenByCode(
          {
            code: response.get('code') ?? '',
            codeVerifier: req.pkce.verifier,
            redirectUri: req.redirectUri,
            scopes,
            state: req.state,
            nonce: req.nonce
          },
          { ...Object.fromEntries(response), code: response.get('code') ?? '' }
        );
        return toTokenSet(result, cachedRefreshToken(app));
      } catch (e) {
        if (e instanceof KeydeskError) throw e;
        throw fail('exchange', host, e, last);
      }
    },
    async refresh(refreshToken) {
      const app = pca();
      try {
        const result = await app.acquireTokenByRefreshToken({ refreshToken, scopes, forceCache: true });
        return toTokenSet(result, cachedRefreshToken(app));
      } catch (e) {
        if (e instanceof KeydeskError) throw e;
        throw fail('refresh', host, e, last);
      }
    },
    revoke: null,
    revocationNote: PRESETS.microsoft.revocationNote ?? null
  };
}
