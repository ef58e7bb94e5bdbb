import type { CredentialSummary } from '../vault/credential-store.ts';
import type { Vault } from '../vault/vault.ts';
import { ExecutionCore, type ExecutionServiceOptions } from './core.ts';
import type { RunRequestInput } from './inputs.ts';
import type { Owner } from './owner.ts';
import { ExecutionQueries, type ExecutionFilter } from './queries.ts';
import type { ReauthWaits, ResumeReport } from './reauth.ts';
import { Recovery } from './recovery.ts';
import type { Runner } from './runner.ts';
import type { ExecutionView, PromptView } from './view.ts';
import type { ResourcePickView } from '../routing/resources.ts';

export type { ExecutionFilter, ExecutionServiceOptions, ExecutionView, PromptView, ResumeReport };

/**
 * Capability runs and their lifecycle (DESIGN.md "Executions and re-authentication"), one job per module: the runner
 * (runner.ts), re-auth waits (reauth.ts), revert (revert.ts), restart recovery and deadlines (recovery.ts) and
 * queries (queries.ts), over one store holding all SQL on the executions and prompt tables (store.ts). Every
 * transition is one vault.write with its audit entry, guarded by a compare-and-set on the run's status (and on the
 * process that claimed it), so the app and the CLI sharing a vault never act twice. Reading works locked; anything
 * that writes needs the vault key (the audit MAC key), so deadlines that pass while the vault is locked are shown at
 * once and written at the next unlock.
 *
 * Reading and recovery are synchronous and load with the service; the runner, the re-auth waits and revert (and
 * the provider-call plumbing they bring) load on the first run, resume or revert.
 */
export class ExecutionService {
  readonly #core: ExecutionCore;
  readonly #queries: ExecutionQueries;
  readonly #recovery: Recovery;
  #runner: Promise<Runner> | null = null;
  #waits: Promise<ReauthWaits> | null = null;
  readonly #unsubscribe: () => void;

  constructor(opts: ExecutionServiceOptions) {
    this.#core = new ExecutionCore(opts);
    this.#queries = new ExecutionQueries(this.#core);
    this.#recovery = new Recovery(this.#core);
    // Start-up work needs the key: it runs whenever the vault is unlocked (the first unlock is the app's start).
    this.#unsubscribe = this.#core.vault.events.on('vault.lock', ({ locked }) => {
      if (locked) this.#recovery.disarm();
      else this.housekeeping();
    });
  }

  #loadRunner(): Promise<Runner> {
    this.#runner ??= import('./runner.ts').then(
      (m) => new m.Runner(this.#core, this.#recovery),
      (e: unknown) => {
        this.#runner = null;
        throw e;
      }
    );
    return this.#runner;
  }

  #loadWaits(): Promise<ReauthWaits> {
    this.#waits ??= import('./reauth.ts').then(
      (m) => new m.ReauthWaits(this.#core, this.#recovery, async (id) => (await this.#loadRunner()).execute(id)),
      (e: unknown) => {
        this.#waits = null;
        throw e;
      }
    );
    return this.#waits;
  }

  get vault(): Vault {
    return this.#core.vault;
  }

  get owner(): Owner {
    return this.#core.owner;
  }

  get cutoffMs(): number {
    return this.#core.cutoffMs;
  }

  /** Late wiring (the OAuth and validation services are built after this one). */
  connect(deps: Pick<ExecutionServiceOptions, 'accessToken' | 'validate'>): void {
    if (deps.accessToken) this.#core.accessToken = deps.accessToken;
    if (deps.validate) this.#core.validate = deps.validate;
  }

  // ------------------------------------------------------------------------------------------ reading (no key)

  get(id: string): ExecutionView {
    return this.#queries.get(id);
  }

  list(filter: ExecutionFilter = {}): ExecutionView[] {
    return this.#queries.list(filter);
  }

  /** Pending re-auth prompts: credentials with runs still waiting before their deadline. */
  prompts(): PromptView[] {
    return this.#queries.prompts();
  }

  // ------------------------------------------------------------------------------------------ running

  /**
   * Runs a capability. Inputs are checked and the action routed before anything is recorded: a bad request is
   * refused (INPUT_INVALID, NO_BINDING, AMBIGUOUS_BINDING, BINDING_TAMPERED, UNSUPPORTED) with nothing changed and no
   * provider call. Otherwise the run is recorded and, in the same transaction, either superseded by an identical run
   * already in effect, set waiting (its credential is failed or expired: no provider call), or claimed and executed.
   */
  async run(input: RunRequestInput, opts: { actor?: string; cutoffMs?: number } = {}): Promise<ExecutionView> {
    return (await this.#loadRunner()).run(input, opts);
  }

  // ------------------------------------------------------------------------------------------ re-authentication

  /** Resumes every run waiting on a credential that was just re-authenticated (same execution ids). */
  async resumeWaiting(credentialRef: string): Promise<ResumeReport> {
    return (await this.#loadWaits()).resumeWaiting(credentialRef);
  }

  /** Static credentials: new secret fields, validated; only when ok do the waiting runs resume. */
  async reauthWithSecrets(
    credentialRef: string,
    secrets: Readonly<Record<string, string>>
  ): Promise<ResumeReport & { validation: CredentialSummary }> {
    return (await this.#loadWaits()).reauthWithSecrets(credentialRef, secrets);
  }

  // ------------------------------------------------------------------------------------------ revert

  /** Reverts a succeeded run (or retries a failed revert), from the revert context captured before its call. */
  async revert(idInput: string, opts: { force?: boolean } = {}): Promise<ExecutionView> {
    return (await import('./revert.ts')).revertRun(this.#core, idInput, opts);
  }

  /**
   * Which credential a resource capability would run with on this target when none is named (the run form shows it
   * before Run): NO_BINDING or AMBIGUOUS_BINDING, naming the candidates, when there is not exactly one.
   */
  async pickCredential(capabilityInput: unknown, targetInput: unknown): Promise<ResourcePickView> {
    const [{ validateResourceTarget }, { pickResourceCredential }] = await Promise.all([
      import('./inputs.ts'),
      import('../routing/resources.ts')
    ]);
    const { capability, target } = validateResourceTarget(capabilityInput, targetInput);
    return pickResourceCredential(this.#core.credentials, capability, target);
  }

  // ------------------------------------------------------------------------------------------ start-up and deadlines

  /**
   * What start-up must do, and can only do unlocked (each change carries a MAC'd audit entry): write results that
   * found the vault locked, fail runs whose process died mid-call (interrupted, effect unknown), mark reverts that
   * died mid-call revert_failed, and expire waits whose deadline passed — also those that passed while Keydesk was
   * closed or locked. Runs on every unlock; safe to call any time.
   */
  housekeeping(): { interrupted: string[]; expired: string[] } {
    return this.#recovery.housekeeping();
  }

  /** Ends every wait whose deadline has passed (or whose credential was removed) and clears prompts with nothing left waiting. */
  expireDue(): string[] {
    return this.#recovery.expireDue();
  }

  /** Stops timers and cancels provider calls in flight (app shutdown). */
  dispose(): void {
    this.#recovery.disarm();
    this.#unsubscribe();
    this.#core.aborter.abort(new DOMException('Keydesk is closing.', 'AbortError'));
  }
}
