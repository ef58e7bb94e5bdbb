import type { ErrorShape, ValidationProgress, ValidationRunView } from '../../preload/contract.ts';
import type { Clock } from '../clock.ts';
import { KeydeskError } from '../errors.ts';
import type { EventBus } from '../events.ts';
import type { CallSettings } from '../providers/call.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { CredentialSummary } from '../vault/credential-store.ts';
import type { CredentialService } from './service.ts';

/** "validate all" must not flood: at most this many credentials are checked at once unless configured. */
export const DEFAULT_CONCURRENCY = 8;
export const MAX_CONCURRENCY = 32;

export interface ValidationServiceOptions {
  credentials: CredentialService;
  registry: ProviderRegistry;
  events: EventBus;
  clock: Clock;
  /** The provider-call settings (per-request timeout) every call of this process uses. */
  calls: CallSettings;
  /** Credentials checked at once by validateAll (default 8). */
  concurrency?: number;
}

export interface ValidateOptions {
  signal?: AbortSignal;
  /** Overrides the service's per-request timeout for this run. */
  timeoutMs?: number;
  onProgress?: (p: ValidationProgress) => void;
}

export interface ValidateAllOptions extends ValidateOptions {
  concurrency?: number;
  /** Only these credentials (ids or names); default every credential. */
  refs?: string[];
}

export interface ValidationResult {
  /** The credential after the result was recorded (or as it was, when nothing was recorded). */
  credential: CredentialSummary;
  /** False when nothing was recorded: see `skipped`. */
  recorded: boolean;
  /** Why the credential was not checked: its provider cannot validate yet (UNSUPPORTED), or the run was cancelled. */
  skipped: ErrorShape | null;
  durationMs: number;
}

/** How many credentials a run checked, by outcome: the counts of the contract's ValidationRunView. */
export type ValidationSummary = Pick<ValidationRunView, 'total' | 'ok' | 'failed' | 'expired' | 'unknown' | 'skipped'>;

export interface ValidationRun {
  runId: string;
  results: ValidationResult[];
  summary: ValidationSummary;
  /** Set when the run stopped early: the vault was locked or its key rotated meanwhile, or the run was cancelled. */
  stopped: ErrorShape | null;
  durationMs: number;
}

/**
 * Proves credentials still work: loads each one's plugin, decrypts it, calls the provider with a per-request timeout
 * and host-wide Retry-After, and records `status / lastError / checkedAt / expiresAt / observed` (audited). At most
 * `concurrency` credentials are in flight at once; progress goes to `onProgress` and to `validation.progress` events.
 * A locked vault fails with VAULT_LOCKED and changes nothing.
 */
export class ValidationService {
  readonly #credentials: CredentialService;
  readonly #registry: ProviderRegistry;
  readonly #events: EventBus;
  readonly #clock: Clock;
  readonly #calls: CallSettings;
  readonly timeoutMs: number;
  readonly concurrency: number;

  constructor(opts: ValidationServiceOptions) {
    this.#credentials = opts.credentials;
    this.#registry = opts.registry;
    this.#events = opts.events;
    this.#clock = opts.clock;
    this.#calls = opts.calls;
    this.timeoutMs = opts.calls.timeoutMs;
    this.concurrency = checkConcurrency(opts.concurrency ?? DEFAULT_CONCURRENCY);
  }

  /** Validates one credential (by name or id) and records the result. Throws for a provider that cannot validate yet. */
  async validate(ref: string, opts: ValidateOptions = {}): Promise<ValidationResult> {
    this.#credentials.vault.requireUnlocked();
    const summary = this.#credentials.get(ref);
    const run = await this.#run([summary], 1, opts);
    if (run.stopped) throw new KeydeskError(run.stopped.code, run.stopped.message);
    const result = run.results[0];
    if (!result) throw new KeydeskError('INTERNAL', 'Validation produced no result.');
    if (result.skipped) throw new KeydeskError(result.skipped.code, result.skipped.message);
    return result;
  }

  /** Validates every credential (or `refs`), at most `concurrency` at once. Credentials whose provider cannot validate yet are skipped. */
  async validateAll(opts: ValidateAllOptions = {}): Promise<ValidationRun> {
    this.#credentials.vault.requireUnlocked();
    const concurrency = checkConcurrency(opts.concurrency ?? this.concurrency);
    const list = opts.refs ? opts.refs.map((r) => this.#credentials.get(r)) : this.#credentials.list();
    return this.#run(list, concurrency, opts);
  }

  /**
   * Guided rotation: proves the new secret values at the provider first, then stores them and records the result, so
   * the old secret is replaced only by one that works. A new secret the provider rejects (or cannot be asked about)
   * changes nothing. Secret fields only; not for OAuth credentials (sign in again instead).
   */
  async rotateWithSecrets(ref: string, secrets: Readonly<Record<string, string>>): Promise<ValidationResult> {
    this.#credentials.vault.requireUnlocked();
    const summary = this.#credentials.get(ref);
    const candidate = this.#credentials.candidate(summary.id, secrets);
    const { proveThenStore } = await import('./validation-run.ts');
    return proveThenStore(this.#deps(), summary, candidate, () => this.#credentials.update(summary.id, { values: secrets }));
  }

  #deps() {
    return {
      credentials: this.#credentials,
      registry: this.#registry,
      events: this.#events,
      clock: this.#clock,
      calls: this.#calls,
      timeoutMs: this.timeoutMs
    };
  }

  /** The run itself (validation-run.ts, with the provider-call plumbing) loads on the first validation. */
  async #run(list: readonly CredentialSummary[], concurrency: number, opts: ValidateOptions): Promise<ValidationRun> {
    const { runValidation } = await import('./validation-run.ts');
    return runValidation(this.#deps(), list, concurrency, opts);
  }
}

function checkConcurrency(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_CONCURRENCY)
    throw new KeydeskError('INPUT_INVALID', `Concurrency is a whole number from 1 to ${MAX_CONCURRENCY}.`);
  return n;
}
