import type { Clock } from '../../clock.ts';
import type { ProviderHttp } from '../../providers/http.ts';
import type { Secret } from '../../vault/secret.ts';
import type { RedirectHost, ResponseMode } from '../flow/loopback.ts';
import type { Pkce } from '../flow/pkce.ts';
import type { TokenSet } from '../flow/tokens.ts';

/**
 * One driver per library: openid-client (generic `oauth`), google-auth-library's OAuth2Client (`google_workspace`
 * oauth_user) and MSAL's PublicClientApplication (`microsoft_365` oauth_delegated). The service owns the flow (loopback,
 * browser, state, storage, leases); a driver only speaks its provider's protocol through its library.
 */

/** The authenticated half of a credential that a driver needs (CredentialMaterial fits). */
export interface OAuthSource {
  provider: string;
  mode: string;
  fields: Readonly<Record<string, string>>;
  secrets: Readonly<Record<string, Secret>>;
}

export interface DriverDeps {
  /** fetch with Keydesk's timeout, cancel signal and secret-free network errors. */
  http: ProviderHttp;
  timeoutMs: number;
  clock: Clock;
}

export interface AuthorizationRequest {
  redirectUri: string;
  state: string;
  nonce: string;
  pkce: Pkce;
}

export interface LoopbackShape {
  redirectHost: RedirectHost;
  path: string;
  responseMode: ResponseMode;
}

export interface FlowDriver {
  /** "openid-client", "google-auth-library", "msal-node": which library speaks for this credential. */
  readonly library: string;
  /** Where the token endpoint is, for messages ("oauth2.googleapis.com"). */
  readonly host: string;
  readonly loopback: LoopbackShape;
  /** The scopes this credential asks for. */
  readonly scopes: string[];
  authorizationUrl(req: AuthorizationRequest): Promise<string>;
  /** Exchanges the authorization response (already checked for state by the loopback) for tokens. */
  exchange(req: AuthorizationRequest, response: URLSearchParams): Promise<TokenSet>;
  refresh(refreshToken: string): Promise<TokenSet>;
  /** RFC 7009 revocation, or null when the provider has no endpoint (`revocationNote` says what to do instead). */
  readonly revoke: ((token: string, hint: 'refresh_token' | 'access_token') => Promise<void>) | null;
  readonly revocationNote: string | null;
}

/** Builds the driver for one credential (a manifest's `oauth[mode]` loads one of these). */
export type DriverFactory = (source: OAuthSource, deps: DriverDeps) => Promise<FlowDriver>;

/**
 * Which provider modes sign in, and their drivers: the provider registry answers this, handed to the OAuth service by
 * the composition root, so main/oauth/ names no provider.
 */
export interface OAuthDrivers {
  isOAuthMode(provider: string, mode: string): boolean;
  /** "provider/mode" of every OAuth mode, for messages. */
  oauthModes(): string[];
  /** The driver for a credential; UNSUPPORTED for a mode that is not OAuth. */
  driver(source: OAuthSource, deps: DriverDeps): Promise<FlowDriver>;
}
