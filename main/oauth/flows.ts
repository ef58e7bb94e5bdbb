import type { ErrorCode, KeydeskEvents } from '../../preload/contract.ts';
import type { Clock } from '../clock.ts';
import { KeydeskError, toErrorShape } from '../errors.ts';
import type { EventBus } from '../events.ts';
import { validateName } from '../credentials/fields.ts';
import type { CredentialService } from '../credentials/service.ts';
import { openCall, type CallSettings } from '../providers/call.ts';
import { REDACTED, WITHHELD, cleanProviderText, makeScrubber } from '../providers/scrub.ts';
import { printable } from '../text.ts';
import type { CredentialSummary, HealthUpdate } from '../vault/credential-store.ts';
import { Secret } from '../vault/secret.ts';
import type { Vault } from '../vault/vault.ts';
import type { FlowDriver, OAuthDrivers, OAuthSource } from './drivers/types.ts';
import { openExternalChecked, type OpenExternal } from './flow/external.ts';
import { LEASE_TTL_MS, withRefreshLease, type HeldLease, type LeaseOptions } from './lease.ts';
import { DEFAULT_FLOW_TIMEOUT_MS, startLoopback } from './flow/loopback.ts';
import { createPkce, newNonce, newState } from './flow/pkce.ts';
import { systemTimers, type Timers } from './flow/timers.ts';
import { TOKEN_SECRET_NAMES, TokenEndpointError, needsRefresh, type TokenSet } from './flow/tokens.ts';
import { newId } from '../builtins.ts';

/**
 * The OAuth flows behind `app.oauth` (service.ts loads this module on first use): sign-in flows, refresh, pasted
 * tokens, revocation. Secrets never leave it except as a `Secret` from `accessToken()` (for provider calls in this
 * process); its events and errors carry ids, names, stages and codes only.
 */

export type FlowStage = KeydeskEvents['oauth.flow']['stage'];

export interface ConnectOptions {
  /** Opens the authorization URL: Electron's shell.openExternal, the CLI's OS opener, a test browser. */
  openExternal: OpenExternal;
  signal?: AbortSignal;
  /** How long to wait for the browser (default 5 minutes). */
  timeoutMs?: number;
}

export interface NewOAuthCredential {
  name: string;
  provider: string;
  mode: string;
  values: Readonly<Record<string, unknown>>;
}

export interface PastedTokens {
  access_token?: unknown;
  refresh_token?: unknown;
}

export interface RevokeResult {
  credential: CredentialSummary;
  /** True when the provider confirmed the revocation (RFC 7009); false when only Keydesk's copy was removed. */
  revokedAtProvider: boolean;
  /** Why the provider was not asked (it has no endpoint), with what to do instead; or what it did not confirm. */
  note: string | null;
}

/** Called after a credential was (re)connected: the execution service resumes the runs waiting on it. */
export type ReauthListener = (credential: CredentialSummary) => void | Promise<void>;

export interface OAuthServiceOptions {
  vault: Vault;
  credentials: CredentialService;
  /** Which provider modes sign in, and the driver of each (the provider registry). */
  drivers: OAuthDrivers;
  events: EventBus;
  clock: Clock;
  /** The provider-call settings (per-request timeout for token endpoint calls) of this process. */
  calls: CallSettings;
  /** How long a sign-in waits for the browser (default 5 minutes). */
  flowTimeoutMs?: number;
  /** Runs a sign-in's timeout (default: the system timers); a test's manual clock is both `clock` and `timers`. */
  timers?: Timers;
  /** The refresh lease; its times are wall-clock time shared with other processes, so it has its own clock and timers. */
  lease?: LeaseOptions;
}

const TOKEN_RE = /^[\x21-\x7E]{1,16384}$/;

function checkPastedToken(v: unknown, name: string, required: boolean): string | null {
  if (v === undefined || v === null || v === '') {
    if (required) throw new KeydeskError('INPUT_INVALID', `The pasted tokens need a ${name}.`, { fields: { [name]: 'Required' } });
    return null;
  }
  if (typeof v !== 'string' || !TOKEN_RE.test(v.trim())) {
    throw new KeydeskError('INPUT_INVALID', `The pasted ${name} is not a token (printable characters without spaces, at most 16,384).`, {
      fields: { [name]: 'Not a token' }
    });
  }
  return v.trim();
}

/**
 * Provider answers are untrusted: an error description may quote what it was sent (a refresh token, the code).
 * Every error out of a driver passes through here before it is thrown, stored, audited or emitted: the secrets in
 * play are redacted from its message (keeping its code and, for token endpoint errors, what they mean).
 */
export function scrubError(e: unknown, secrets: readonly (string | null | undefined)[]): unknown {
  if (!(e instanceof KeydeskError)) return e;
  const scrubber = makeScrubber(secrets.filter((x): x is string => typeof x === 'string' && x.length > 0));
  const message = scrubber.scrub(e.message);
  if (message === e.message) return e;
  if (e instanceof TokenEndpointError)
    return new TokenEndpointError(e.code, message, { oauthError: e.oauthError, httpStatus: e.httpStatus, expiredReason: e.expiredReason });
  return new KeydeskError(e.code, message, e.fields ? { fields: e.fields } : undefined);
}

async function scrubbing<T>(secrets: readonly (string | null | undefined)[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw scrubError(e, secrets);
  }
}

/**
 * A token answer with its readable facts (granted scopes, account) cleaned of the secrets in play: a provider that
 * echoes a token or the client secret into `scope` or an ID token claim must not turn it into readable metadata (or
 * an audit entry). A scope or account that quoted a secret is dropped. Pure.
 */
export function withReadableFacts(tokens: TokenSet, secrets: readonly (string | null | undefined)[]): TokenSet {
  const scrubber = makeScrubber(secrets.filter((x): x is string => typeof x === 'string' && x.length > 0));
  const clean = (v: string): string | null => {
    const c = cleanProviderText(v, scrubber, 512);
    return c && !c.includes(REDACTED) && c !== WITHHELD ? c : null;
  };
  const scopes = tokens.scopes ? tokens.scopes.map(clean).filter((x): x is string => x !== null) : null;
  return { ...tokens, scopes, account: tokens.account ? clean(tokens.account) : null };
}

/** Readable facts about the tokens, merged into the credential's `observed`. Never a token. */
function observedFor(
  tokens: TokenSet,
  previous: Record<string, unknown>,
  driver: FlowDriver,
  reason: 'connect' | 'refresh' | 'paste',
  now: string
): Record<string, unknown> {
  const prevOauth = (previous.oauth && typeof previous.oauth === 'object' ? previous.oauth : {}) as Record<string, unknown>;
  const prevIdentity = (previous.identity && typeof previous.identity === 'object' ? previous.identity : {}) as Record<string, unknown>;
  return {
    ...(tokens.scopes ? { granted: tokens.scopes } : {}),
    ...(tokens.account ? { identity: { ...prevIdentity, account: tokens.account } } : {}),
    oauth: {
      ...prevOauth,
      library: driver.library,
      token_type: tokens.tokenType,
      has_refresh_token: tokens.refreshToken !== null || prevOauth.has_refresh_token === true,
      ...(reason === 'refresh' ? { refreshed_at: now } : { connected_at: now, refreshed_at: null })
    }
  };
}

export class OAuthFlows {
  readonly #vault: Vault;
  readonly #credentials: CredentialService;
  readonly #drivers: OAuthDrivers;
  readonly #events: EventBus;
  readonly #clock: Clock;
  readonly #calls: CallSettings;
  readonly #timeoutMs: number;
  readonly #flowTimeoutMs: number;
  readonly #timers: Timers;
  readonly #lease: LeaseOptions;
  /** In-process collapse: one refresh per credential at a time; others await it. */
  readonly #inflight = new Map<string, Promise<CredentialSummary>>();
  readonly #reauthListeners: ReadonlySet<ReauthListener>;

  /** `listeners` are the service's re-authentication hooks (see OAuthService.onReauthenticated). */
  constructor(opts: OAuthServiceOptions, listeners: ReadonlySet<ReauthListener>) {
    this.#reauthListeners = listeners;
    this.#vault = opts.vault;
    this.#credentials = opts.credentials;
    this.#events = opts.events;
    this.#clock = opts.clock;
    this.#drivers = opts.drivers;
    this.#calls = opts.calls;
    this.#timeoutMs = opts.calls.timeoutMs;
    this.#flowTimeoutMs = opts.flowTimeoutMs ?? DEFAULT_FLOW_TIMEOUT_MS;
    this.#timers = opts.timers ?? systemTimers;
    // The lease outlives one token request, so a holder that is alive but slow is never taken for dead (its heartbeat
    // renews it meanwhile; the TTL matters only when the holder froze or died).
    this.#lease = { ttlMs: Math.max(LEASE_TTL_MS, this.#timeoutMs + 10_000), ...opts.lease };
  }

  /**
   * The driver's dependencies. Under a refresh lease, every request first renews the lease (and is not sent when
   * another process has taken it over), and a lost lease cancels the request in flight.
   */
  #deps(signal?: AbortSignal, lease?: HeldLease) {
    const call = openCall(this.#calls, { signal: [signal, lease?.signal], ...(lease ? { guard: () => lease.assertHeld() } : {}) });
    return { http: call.http, timeoutMs: call.timeoutMs, clock: this.#clock };
  }

  #oauthCredential(ref: string): CredentialSummary {
    const c = this.#credentials.get(ref);
    if (!this.#drivers.isOAuthMode(c.provider, c.mode)) {
      throw new KeydeskError(
        'UNSUPPORTED',
        `"${printable(c.name)}" is a ${c.provider}/${c.mode} credential: it has no OAuth tokens. OAuth modes are ${joinAnd(this.#drivers.oauthModes())}.`
      );
    }
    return c;
  }

  #emit(p: KeydeskEvents['oauth.flow']): void {
    this.#events.emit('oauth.flow', p);
  }

  /** The refresh token stored now (read inside a transaction, it is the one that will be replaced). */
  #storedRefreshToken(id: string): string | null {
    return this.#credentials.material(id).secrets[TOKEN_SECRET_NAMES.refresh]?.reveal() ?? null;
  }

  /**
   * Writes tokens and health in one transaction (the tokens, their expiry and the status never disagree). With
   * `spent` (a refresh), only if the stored refresh token is still the one this refresh spent: otherwise another
   * process stored a newer token set (or the tokens were revoked) meanwhile, and that stays — the current credential
   * is returned unchanged.
   */
  #store(
    id: string,
    tokens: TokenSet,
    keepRefreshToken: string | null,
    driver: FlowDriver,
    reason: 'connect' | 'refresh' | 'paste',
    spent?: string
  ): CredentialSummary {
    return this.#transaction(() =>
      spent !== undefined && this.#storedRefreshToken(id) !== spent
        ? this.#credentials.get(id)
        : this.#write(id, tokens, keepRefreshToken, driver, reason)
    );
  }

  #write(
    id: string,
    answer: TokenSet,
    keepRefreshToken: string | null,
    driver: FlowDriver,
    reason: 'connect' | 'refresh' | 'paste'
  ): CredentialSummary {
    const current = this.#credentials.get(id);
    const now = this.#clock.now().toISOString();
    const refreshToken = answer.refreshToken ?? keepRefreshToken;
    const tokens = withReadableFacts(answer, [
      answer.accessToken,
      refreshToken,
      keepRefreshToken,
      this.#credentials.material(id).secrets.client_secret?.reveal()
    ]);
    const extra: Record<string, string> = {
      [TOKEN_SECRET_NAMES.access]: tokens.accessToken,
      ...(refreshToken ? { [TOKEN_SECRET_NAMES.refresh]: refreshToken } : {})
    };
    const action = reason === 'refresh' ? 'oauth.refresh' : reason === 'paste' ? 'oauth.paste_tokens' : 'oauth.connect';
    const detail = {
      library: driver.library,
      scopes: tokens.scopes ?? [],
      expires_at: tokens.expiresAt,
      refresh_token: tokens.refreshToken ? (reason === 'refresh' ? 'rotated' : 'issued') : refreshToken ? 'kept' : 'none'
    };
    this.#credentials.setExtraSecrets(id, extra, { action, detail }, observedFor(tokens, current.observed, driver, reason, now));
    return this.#credentials.recordHealth(
      id,
      { status: 'ok', lastError: null, checkedAt: now, expiresAt: tokens.expiresAt, expirySource: 'provider' },
      { action: 'oauth.status', detail: { after: action } }
    );
  }

  /** Several vault writes as one IMMEDIATE transaction (each write becomes a savepoint inside it). */
  #transaction<T>(fn: () => T): T {
    try {
      return this.#vault.db.transaction(fn).immediate();
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_BUSY')
        throw new KeydeskError('VAULT_BUSY', 'The vault is busy in another Keydesk process; try again in a moment. Nothing was changed.');
      throw e;
    }
  }

  #recordFailure(id: string, e: KeydeskError, action: string): void {
    const now = this.#clock.now().toISOString();
    let health: HealthUpdate | null = null;
    if (e instanceof TokenEndpointError && e.expiredReason) {
      // The access token's own expiry means nothing once the grant is dead (nothing uses it any more): lists say
      // "expired", not "expired: invalid_grant … expires in 59 min".
      health = { status: 'expired', lastError: { code: e.expiredReason, message: e.message }, checkedAt: now, expiresAt: null };
    } else if (e.code === 'PROVIDER_REJECTED') {
      health = {
        status: 'failed',
        lastError: { code: e instanceof TokenEndpointError ? e.oauthError : e.code, message: e.message },
        checkedAt: now
      };
    } else if (e.code === 'PROVIDER_UNREACHABLE' || e.code === 'OAUTH_FAILED') {
      // A network failure, a 5xx or an answer the library could not use: nothing is known about the credential.
      health = { status: 'unknown', lastError: { code: e.code, message: e.message }, checkedAt: now };
    }
    if (health) this.#credentials.recordHealth(id, health, { action });
  }

  // ------------------------------------------------------------------------------------------- sign-in flows

  /**
   * Runs the authorization code + PKCE flow for an existing OAuth credential (connect, or reauth of an expired one)
   * and stores the tokens. The browser is opened through `openExternal` only; nothing is stored unless the flow
   * succeeds.
   */
  async connect(ref: string, opts: ConnectOptions): Promise<CredentialSummary> {
    const c = this.#oauthCredential(ref);
    const material = this.#credentials.material(c.id);
    const who = { id: c.id, name: c.name };
    const { tokens, driver, flowId } = await this.#flow(material, who, opts);
    const stored = this.#finish(flowId, who, () => this.#store(c.id, tokens, null, driver, 'connect'));
    await this.#notifyReauthenticated(stored);
    return stored;
  }

  /**
   * Creates a new OAuth credential by signing in: the fields are checked first, the flow runs, and the credential is
   * stored only with its tokens (a failed or abandoned sign-in leaves nothing behind).
   */
  async connectNew(input: NewOAuthCredential, opts: ConnectOptions): Promise<CredentialSummary> {
    const source = this.#newSource(input);
    const who = { id: null, name: source.name };
    const { tokens, driver, flowId } = await this.#flow(source, who, opts);
    return this.#finish(flowId, who, () => this.#addWithTokens(input, source, tokens, null, driver, 'connect'));
  }

  /** Stores a flow's result and reports the flow completed (or failed, when storing failed). */
  #finish(flowId: string, who: { id: string | null; name: string }, store: () => CredentialSummary): CredentialSummary {
    try {
      const stored = store();
      this.#emit({ flowId, credentialId: stored.id, credentialName: stored.name, stage: 'completed' });
      return stored;
    } catch (e) {
      const shape = toErrorShape(e);
      this.#emit({
        flowId,
        credentialId: who.id,
        credentialName: who.name,
        stage: 'failed',
        error: { code: shape.code, message: shape.message }
      });
      throw e;
    }
  }

  async #flow(
    source: OAuthSource,
    who: { id: string | null; name: string },
    opts: ConnectOptions
  ): Promise<{ tokens: TokenSet; driver: FlowDriver; flowId: string }> {
    if (typeof opts?.openExternal !== 'function') throw new KeydeskError('INPUT_INVALID', 'A sign-in needs a way to open the browser.');
    const flowId = newId();
    const emit = (stage: FlowStage, error?: { code: ErrorCode; message: string }) =>
      this.#emit({ flowId, credentialId: who.id, credentialName: who.name, stage, ...(error ? { error } : {}) });
    emit('started');
    let loop: Awaited<ReturnType<typeof startLoopback>> | null = null;
    try {
      const driver = await this.#drivers.driver(source, this.#deps(opts.signal));
      const pkce = await createPkce();
      const req = { state: await newState(), nonce: await newNonce(), pkce };
      loop = await startLoopback({
        expectedState: req.state,
        redirectHost: driver.loopback.redirectHost,
        path: driver.loopback.path,
        responseMode: driver.loopback.responseMode,
        timeoutMs: opts.timeoutMs ?? this.#flowTimeoutMs,
        timers: this.#timers,
        ...(opts.signal ? { signal: opts.signal } : {})
      });
      const full = { ...req, redirectUri: loop.redirectUri };
      const url = await driver.authorizationUrl(full);
      await openExternalChecked(url, opts.openExternal);
      emit('waiting_for_browser');
      const flowLoop = loop;
      const response = await scrubbing(
        [source.secrets.client_secret?.reveal(), req.state, req.nonce, pkce.verifier],
        () => flowLoop.result
      );
      const inPlay = [source.secrets.client_secret?.reveal(), response.get('code'), pkce.verifier, req.state, req.nonce];
      const tokens = await scrubbing(inPlay, () => driver.exchange(full, response));
      return { tokens, driver, flowId };
    } catch (e) {
      const shape = toErrorShape(e);
      emit('failed', { code: shape.code, message: shape.message });
      if (who.id) {
        const outcome = shape.code === 'OAUTH_DENIED' ? 'denied' : 'failed';
        try {
          this.#vault.write((w) =>
            w.audit({
              action: 'oauth.connect',
              outcome,
              credentialId: who.id,
              credentialName: who.name,
              detail: { error_code: shape.code }
            })
          );
        } catch {
          /* the failure itself is what the caller needs to see */
        }
      }
      throw e;
    } finally {
      await loop?.close();
    }
  }

  #newSource(input: NewOAuthCredential): OAuthSource & { name: string } {
    if (!input || typeof input !== 'object')
      throw new KeydeskError('INPUT_INVALID', 'A new credential needs a name, a provider, a mode and its fields.');
    validateName(input.name);
    this.#credentials.registry.mode(input.provider, input.mode);
    if (!this.#drivers.isOAuthMode(input.provider, input.mode))
      throw new KeydeskError('UNSUPPORTED', `${input.provider}/${input.mode} is not an OAuth mode.`);
    const { name, mode, values } = this.#credentials.checkNew({ ...input, values: input.values ?? {} });
    const exists = this.#credentials.list().some((c) => c.name.toLowerCase() === name.toLowerCase());
    if (exists)
      throw new KeydeskError('NAME_TAKEN', `A credential named "${printable(name)}" already exists; connect it with its name.`, {
        fields: { name: 'This name is taken' }
      });
    const fields: Record<string, string> = {};
    const secrets: Record<string, Secret> = {};
    for (const f of mode.fields) {
      const v = values[f.name];
      if (v === undefined) continue;
      if (f.secret) secrets[f.name] = new Secret(v);
      else fields[f.name] = v;
    }
    return { name, provider: input.provider, mode: input.mode, fields, secrets };
  }

  #addWithTokens(
    input: NewOAuthCredential,
    source: OAuthSource & { name: string },
    answer: TokenSet,
    keepRefreshToken: string | null,
    driver: FlowDriver,
    reason: 'connect' | 'paste'
  ): CredentialSummary {
    const now = this.#clock.now().toISOString();
    const refreshToken = answer.refreshToken ?? keepRefreshToken;
    const tokens = withReadableFacts(answer, [answer.accessToken, refreshToken, keepRefreshToken, source.secrets.client_secret?.reveal()]);
    return this.#transaction(() => {
      const added = this.#credentials.add({
        name: source.name,
        provider: input.provider,
        mode: input.mode,
        values: input.values,
        extra: { [TOKEN_SECRET_NAMES.access]: tokens.accessToken, ...(refreshToken ? { [TOKEN_SECRET_NAMES.refresh]: refreshToken } : {}) },
        observed: observedFor(tokens, {}, driver, reason, now)
      });
      return this.#credentials.recordHealth(
        added.id,
        { status: 'ok', lastError: null, checkedAt: now, expiresAt: tokens.expiresAt, expirySource: 'provider' },
        {
          action: 'oauth.status',
          detail: {
            after: reason === 'paste' ? 'oauth.paste_tokens' : 'oauth.connect',
            scopes: tokens.scopes ?? [],
            library: driver.library
          }
        }
      );
    });
  }

  async #notifyReauthenticated(c: CredentialSummary): Promise<void> {
    for (const fn of [...this.#reauthListeners]) {
      try {
        await fn(c);
      } catch {
        /* a listener's failure is its own (it reports through its own events) */
      }
    }
  }

  // ------------------------------------------------------------------------------------------- refresh

  /**
   * Refreshes now (the analyst asked, or validation). Concurrent calls for one credential share one request, in this
   * process (an in-flight map) and across processes (the lease row): a caller that waited for another process's
   * refresh gets its result instead of spending the refresh token again.
   */
  async refresh(ref: string, opts: { signal?: AbortSignal } = {}): Promise<CredentialSummary> {
    const c = this.#oauthCredential(ref);
    return this.#collapsed(c.id, 'force', opts.signal);
  }

  /**
   * The current access token for a provider call, refreshed first when it expires within 5 minutes. A credential that
   * is expired or failed makes no provider call (CREDENTIAL_NOT_READY: sign in again).
   */
  async accessToken(ref: string, opts: { signal?: AbortSignal } = {}): Promise<Secret> {
    let c = this.#oauthCredential(ref);
    if (c.status === 'expired' || c.status === 'failed') {
      throw new KeydeskError(
        'CREDENTIAL_NOT_READY',
        `"${printable(c.name)}" is ${c.status}${c.lastError ? ` (${c.lastError.code})` : ''}: sign in again (keydesk reauth ${printable(c.name)}) before it is used.`
      );
    }
    let m = this.#credentials.material(c.id);
    if (!m.secrets[TOKEN_SECRET_NAMES.access])
      throw new KeydeskError(
        'CREDENTIAL_NOT_READY',
        `"${printable(c.name)}" has no tokens yet: sign in first (keydesk connect ${printable(c.name)}).`
      );
    if (needsRefresh(c.expiresAt, this.#clock.now())) {
      if (m.secrets[TOKEN_SECRET_NAMES.refresh]) {
        c = await this.#collapsed(c.id, 'if-needed', opts.signal);
        m = this.#credentials.material(c.id);
      } else if (c.expiresAt && Date.parse(c.expiresAt) <= this.#clock.now().getTime()) {
        const e = new KeydeskError(
          'PROVIDER_EXPIRED',
          `The access token of "${printable(c.name)}" expired and there is no refresh token to renew it: sign in again.`
        );
        this.#credentials.recordHealth(
          c.id,
          { status: 'expired', lastError: { code: 'token_expired', message: e.message }, checkedAt: this.#clock.now().toISOString() },
          { action: 'oauth.refresh' }
        );
        throw e;
      }
    }
    const at = m.secrets[TOKEN_SECRET_NAMES.access];
    if (!at) throw new KeydeskError('CREDENTIAL_NOT_READY', `"${printable(c.name)}" has no access token: sign in again.`);
    return at;
  }

  #collapsed(id: string, mode: 'force' | 'if-needed', signal?: AbortSignal): Promise<CredentialSummary> {
    const running = this.#inflight.get(id);
    if (running) return running;
    const p = this.#refreshUnderLease(id, mode, signal).finally(() => this.#inflight.delete(id));
    this.#inflight.set(id, p);
    return p;
  }

  async #refreshUnderLease(id: string, mode: 'force' | 'if-needed', signal?: AbortSignal): Promise<CredentialSummary> {
    const before = this.#credentials.material(id);
    const accessBefore = before.secrets[TOKEN_SECRET_NAMES.access]?.reveal() ?? null;
    if (!before.secrets[TOKEN_SECRET_NAMES.refresh]) {
      throw new KeydeskError(
        'CREDENTIAL_NOT_READY',
        `"${printable(before.name)}" has no refresh token${accessBefore ? '' : ' (it was never connected)'}: sign in again (keydesk connect ${printable(before.name)}).`
      );
    }
    return withRefreshLease(
      this.#vault.db,
      id,
      async (_waited, lease) => {
        // Re-read under the lease: another process may have refreshed (and rotated the refresh token) meanwhile.
        const now = this.#credentials.material(id);
        const summary = this.#credentials.get(id);
        const accessNow = now.secrets[TOKEN_SECRET_NAMES.access]?.reveal() ?? null;
        if (accessNow !== accessBefore) return summary;
        if (mode === 'if-needed' && !needsRefresh(summary.expiresAt, this.#clock.now())) return summary;
        const refreshToken = now.secrets[TOKEN_SECRET_NAMES.refresh];
        if (!refreshToken) throw new KeydeskError('CREDENTIAL_NOT_READY', `"${printable(now.name)}" has no refresh token: sign in again.`);
        const spent = refreshToken.reveal();
        let driver: FlowDriver;
        let tokens: TokenSet;
        try {
          driver = await this.#drivers.driver(now, this.#deps(signal, lease));
          const d = driver;
          tokens = await scrubbing([spent, accessNow, now.secrets.client_secret?.reveal()], () => d.refresh(spent));
        } catch (e) {
          // A lost lease: another process owns this refresh now; what this one saw is not the credential's state.
          if (lease.signal.aborted) throw lease.signal.reason instanceof KeydeskError ? lease.signal.reason : e;
          // Only a verdict on the refresh token still stored is recorded (another process may have replaced it).
          if (e instanceof KeydeskError && this.#storedRefreshToken(id) === spent) this.#recordFailure(id, e, 'oauth.refresh');
          throw e;
        }
        return this.#store(id, tokens, spent, driver, 'refresh', spent);
      },
      { ...this.#lease, ...(signal ? { signal } : {}) }
    );
  }

  // ------------------------------------------------------------------------------------------- pasted tokens

  /**
   * Replaces an existing credential's tokens with a pasted pair, after proving the refresh token with a refresh
   * against the token endpoint (its answer is what is stored: a fresh access token and, if it rotated, the new
   * refresh token). Refused with the provider's error otherwise; nothing is stored and the status is unchanged.
   */
  async pasteTokens(ref: string, pasted: PastedTokens): Promise<CredentialSummary> {
    const c = this.#oauthCredential(ref);
    checkPastedToken(pasted?.access_token, 'access_token', false);
    const refreshToken = checkPastedToken(pasted?.refresh_token, 'refresh_token', true) ?? '';
    const material = this.#credentials.material(c.id);
    const driver = await this.#drivers.driver(material, this.#deps());
    const stored = await withRefreshLease(
      this.#vault.db,
      c.id,
      async () => {
        const tokens = await this.#proveRefreshToken(driver, refreshToken, pasted, material.secrets.client_secret?.reveal());
        return this.#store(c.id, tokens, refreshToken, driver, 'paste');
      },
      this.#lease
    );
    await this.#notifyReauthenticated(stored);
    return stored;
  }

  /** Creates a credential from its fields and a pasted token pair, stored only after a successful refresh. */
  async addWithPastedTokens(input: NewOAuthCredential, pasted: PastedTokens): Promise<CredentialSummary> {
    checkPastedToken(pasted?.access_token, 'access_token', false);
    const refreshToken = checkPastedToken(pasted?.refresh_token, 'refresh_token', true) ?? '';
    const source = this.#newSource(input);
    const driver = await this.#drivers.driver(source, this.#deps());
    const tokens = await this.#proveRefreshToken(driver, refreshToken, pasted, source.secrets.client_secret?.reveal());
    return this.#addWithTokens(input, source, tokens, refreshToken, driver, 'paste');
  }

  async #proveRefreshToken(
    driver: FlowDriver,
    refreshToken: string,
    pasted: PastedTokens,
    clientSecret: string | undefined
  ): Promise<TokenSet> {
    try {
      return await scrubbing([refreshToken, typeof pasted.access_token === 'string' ? pasted.access_token : null, clientSecret], () =>
        driver.refresh(refreshToken)
      );
    } catch (e) {
      if (e instanceof KeydeskError && e.code !== 'PROVIDER_UNREACHABLE') {
        throw new KeydeskError(
          'PROVIDER_REJECTED',
          `The pasted refresh token was not accepted: ${e.message.replace(/ Sign in again to reconnect this credential\.$/, '')} Nothing was stored.`
        );
      }
      throw e;
    }
  }

  // ------------------------------------------------------------------------------------------- revocation

  /**
   * RFC 7009 revocation of the refresh token (and the access token) where the provider has an endpoint, then Keydesk
   * forgets its copy; the credential becomes expired ("revoked") until someone signs in again. Where the provider has
   * no endpoint (Microsoft, GitHub, Slack), UNSUPPORTED says so and what to do instead, unless `localOnly` asks to
   * just forget the tokens.
   */
  async revoke(ref: string, opts: { localOnly?: boolean } = {}): Promise<RevokeResult> {
    const c = this.#oauthCredential(ref);
    const material = this.#credentials.material(c.id);
    const driver = await this.#drivers.driver(material, this.#deps());
    const at = material.secrets[TOKEN_SECRET_NAMES.access];
    const rt = material.secrets[TOKEN_SECRET_NAMES.refresh];
    if (!at && !rt) throw new KeydeskError('CREDENTIAL_NOT_READY', `"${printable(c.name)}" holds no tokens: there is nothing to revoke.`);
    let revokedAtProvider = false;
    let partial: string | null = null;
    if (!opts.localOnly) {
      if (!driver.revoke) {
        throw new KeydeskError(
          'UNSUPPORTED',
          `${driver.revocationNote ?? 'This provider has no RFC 7009 revocation endpoint.'} Nothing was changed; to forget Keydesk's copy of the tokens, revoke with --local-only.`
        );
      }
      const revoke = driver.revoke;
      const inPlay = [rt?.reveal(), at?.reveal(), material.secrets.client_secret?.reveal()];
      if (rt) await scrubbing(inPlay, () => revoke(rt.reveal(), 'refresh_token'));
      if (at) {
        try {
          await scrubbing(inPlay, () => revoke(at.reveal(), 'access_token'));
        } catch (e) {
          // The refresh token is revoked already (and with it, at most providers, the grant): keeping a dead refresh
          // token would only make the credential look connected. Forget both, and say what was not confirmed.
          if (!rt) throw e;
          const shape = toErrorShape(e);
          partial = `The refresh token was revoked, but revoking the access token failed (${shape.code}: ${shape.message}); the access token stops working when it expires${c.expiresAt ? ` (${c.expiresAt})` : ''}.`;
        }
      }
      revokedAtProvider = true;
    }
    const now = this.#clock.now().toISOString();
    const message = revokedAtProvider
      ? 'The tokens were revoked at the provider; sign in again to use this credential.'
      : 'Keydesk’s copy of the tokens was removed; sign in again to use this credential.';
    const credential = this.#transaction(() => {
      this.#credentials.setExtraSecrets(
        c.id,
        {},
        {
          action: 'oauth.revoke',
          detail: { at_provider: revokedAtProvider, library: driver.library, ...(partial ? { access_token_revoked: false } : {}) }
        },
        { oauth: { ...((c.observed.oauth as object | undefined) ?? {}), has_refresh_token: false, revoked_at: now } }
      );
      return this.#credentials.recordHealth(
        c.id,
        { status: 'expired', lastError: { code: 'revoked', message }, checkedAt: now, expiresAt: null },
        { action: 'oauth.status', detail: { after: 'oauth.revoke' } }
      );
    });
    return { credential, revokedAtProvider, note: revokedAtProvider ? partial : driver.revocationNote };
  }
}

/** "a, b and c". */
function joinAnd(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? 'none') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
