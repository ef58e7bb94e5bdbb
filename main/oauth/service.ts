import type { Secret } from '../vault/secret.ts';
import type { CredentialSummary } from '../vault/credential-store.ts';
import type {
  ConnectOptions,
  NewOAuthCredential,
  OAuthFlows,
  OAuthServiceOptions,
  PastedTokens,
  ReauthListener,
  RevokeResult
} from './flows.ts';

export type {
  ConnectOptions,
  FlowStage,
  NewOAuthCredential,
  OAuthServiceOptions,
  PastedTokens,
  ReauthListener,
  RevokeResult
} from './flows.ts';

/**
 * The OAuth service (`app.oauth`): sign-in flows, refresh, pasted tokens, revocation. Every operation is async, so
 * the flows (flows.ts, with the loopback listener, PKCE, leases and the token plumbing) load on the first one: the many
 * commands that never sign in or refresh do not pay for them. One OAuthFlows serves every call, so in-process refresh
 * collapsing and leases work as before.
 */
export class OAuthService {
  readonly #opts: OAuthServiceOptions;
  readonly #listeners = new Set<ReauthListener>();
  #flows: Promise<OAuthFlows> | null = null;

  constructor(opts: OAuthServiceOptions) {
    this.#opts = opts;
  }

  #load(): Promise<OAuthFlows> {
    this.#flows ??= import('./flows.ts').then(
      (m) => new m.OAuthFlows(this.#opts, this.#listeners),
      (e: unknown) => {
        this.#flows = null;
        throw e;
      }
    );
    return this.#flows;
  }

  /**
   * The re-authentication hook: `fn` runs after every successful connect, reauth or pasted-token replacement of an
   * existing credential (the execution service resumes the runs waiting on it). A throwing listener is ignored here.
   */
  onReauthenticated(fn: ReauthListener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Signs an existing OAuth credential in (connect, or re-authenticate) in the browser and stores its tokens. */
  async connect(ref: string, opts: ConnectOptions): Promise<CredentialSummary> {
    return (await this.#load()).connect(ref, opts);
  }

  /** Creates an OAuth credential by signing in: it is stored only with its tokens. */
  async connectNew(input: NewOAuthCredential, opts: ConnectOptions): Promise<CredentialSummary> {
    return (await this.#load()).connectNew(input, opts);
  }

  /** Refreshes the access token now (a rotated refresh token is stored atomically). */
  async refresh(ref: string, opts: { signal?: AbortSignal } = {}): Promise<CredentialSummary> {
    return (await this.#load()).refresh(ref, opts);
  }

  /** The current access token, refreshed when within 5 minutes of expiry (concurrent callers share one refresh). */
  async accessToken(ref: string, opts: { signal?: AbortSignal } = {}): Promise<Secret> {
    return (await this.#load()).accessToken(ref, opts);
  }

  /** Replaces the tokens with a pasted pair, stored only after a successful refresh. */
  async pasteTokens(ref: string, pasted: PastedTokens): Promise<CredentialSummary> {
    return (await this.#load()).pasteTokens(ref, pasted);
  }

  /** Creates an OAuth credential from pasted tokens, stored only after a successful refresh. */
  async addWithPastedTokens(input: NewOAuthCredential, pasted: PastedTokens): Promise<CredentialSummary> {
    return (await this.#load()).addWithPastedTokens(input, pasted);
  }

  /** Revokes the tokens at the provider (RFC 7009) where it has an endpoint, and forgets them. */
  async revoke(ref: string, opts: { localOnly?: boolean } = {}): Promise<RevokeResult> {
    return (await this.#load()).revoke(ref, opts);
  }
}
