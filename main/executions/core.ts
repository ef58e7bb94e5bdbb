import type { CredentialService } from '../credentials/service.ts';
import { KeydeskError } from '../errors.ts';
import type { CapabilityId } from '../providers/capabilities.ts';
import type { CallSettings, ProviderCall } from '../providers/call.ts';
import { ActionError, type ActionContext, type ActionInput, type JsonObject } from '../providers/plugin.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { RoutingService } from '../routing/service.ts';
import type { CredentialMaterial, CredentialSummary } from '../vault/credential-store.ts';
import type { Secret } from '../vault/secret.ts';
import type { Vault, WriteContext } from '../vault/vault.ts';
import { DEFAULT_REAUTH_CUTOFF_MS } from './lifecycle.ts';
import { LEASE_MS, formatOwner, newOwner, type Owner } from './owner.ts';
import { appendSteps, getRow, rowsByPrefix, setSteps, type ExecutionEvent, type ExecutionRow, type PromptFacts } from './store.ts';
import { paramsOf, type StepEntry } from './view.ts';

export interface ExecutionServiceOptions {
  vault: Vault;
  credentials: CredentialService;
  routing: RoutingService;
  /** The provider-call settings (per-request timeout) of this process. */
  calls: CallSettings;
  /** How long a run waits for re-authentication (default 1 hour). */
  cutoffMs?: number;
  /** OAuth modes: the current access token, refreshed if needed (app.oauth.accessToken). */
  accessToken?: (credentialId: string) => Promise<Secret>;
  /** Validates a credential and records the result (app.validation). Static re-auth needs it. */
  validate?: (credentialId: string) => Promise<CredentialSummary>;
  owner?: Owner;
}

/** Statuses of a credential that make no provider call: a run on it waits for re-authentication. */
export const CREDENTIAL_BLOCKING: ReadonlySet<string> = new Set(['failed', 'expired']);

/**
 * What the runner, the re-auth waits, revert and recovery share in one process: the services they call, this
 * process's identity as a claimant (its owner id and leases), the runs it is executing now, the final writes that
 * found the vault locked, and the helpers every transition uses (emit after commit, finish or defer, audit a refusal).
 */
export class ExecutionCore {
  readonly vault: Vault;
  readonly credentials: CredentialService;
  readonly routing: RoutingService;
  readonly registry: ProviderRegistry;
  readonly calls: CallSettings;
  #owner: Owner | undefined;
  #ownerId: string | undefined;
  readonly cutoffMs: number;
  accessToken: ExecutionServiceOptions['accessToken'];
  validate: ExecutionServiceOptions['validate'];
  /** Runs (and reverts) this process is executing now: recovery never takes them for interrupted. */
  readonly inFlight = new Set<string>();
  /** Final writes that found the vault locked (auto-lock mid-call): written at the next unlock. */
  readonly deferred: (() => void)[] = [];
  /** Cancels provider calls in flight (app shutdown). */
  readonly aborter = new AbortController();

  constructor(opts: ExecutionServiceOptions) {
    this.vault = opts.vault;
    this.credentials = opts.credentials;
    this.routing = opts.routing;
    this.registry = opts.credentials.registry;
    this.calls = opts.calls;
    this.#owner = opts.owner;
    this.cutoffMs = opts.cutoffMs ?? DEFAULT_REAUTH_CUTOFF_MS;
    this.accessToken = opts.accessToken;
    this.validate = opts.validate;
  }

  /** This process as a claimant of runs (made on first use: only a process that runs or recovers needs one). */
  get owner(): Owner {
    return (this.#owner ??= newOwner());
  }

  get ownerId(): string {
    return (this.#ownerId ??= formatOwner(this.owner));
  }

  nowIso(): string {
    return this.vault.clock.now().toISOString();
  }

  lease(nowIso: string): string {
    return new Date(Date.parse(nowIso) + LEASE_MS).toISOString();
  }

  /** How a credential is re-authenticated: a browser sign-in, or its secret fields again. */
  method(provider: string, mode: string): 'oauth' | 'secret' {
    return this.registry.modeOrNull(provider, mode)?.oauth ? 'oauth' : 'secret';
  }

  promptFacts(credentialId: string, name: string, provider: string, mode: string): PromptFacts {
    return { credentialId, credentialName: name, method: this.method(provider, mode) };
  }

  /** By id or unique prefix. The id is checked first: it goes into a LIKE pattern, where % or _ would match any run. */
  findRow(id: unknown): ExecutionRow {
    if (typeof id !== 'string' || !/^[0-9a-f-]{8,36}$/i.test(id))
      throw new KeydeskError('INPUT_INVALID', 'An execution id is the UUID keydesk executions shows (or its first 8 or more characters).', {
        fields: { id: 'An execution id' }
      });
    const exact = getRow(this.vault, id);
    if (exact) return exact;
    // A unique prefix (at least 8 characters) is enough, as in git.
    const rows = rowsByPrefix(this.vault.db, id);
    if (rows.length === 1) return rows[0]!;
    if (rows.length > 1) throw new KeydeskError('INPUT_INVALID', `More than one execution starts with ${id}; give more of the id.`);
    throw new KeydeskError('NOT_FOUND', `No execution ${id}.`);
  }

  must(e: ExecutionEvent | null): ExecutionEvent {
    if (!e) throw new KeydeskError('EXECUTION_CONFLICT', 'The run changed in another process meanwhile. Nothing was done.');
    return e;
  }

  auditRefusal(capability: CapabilityId, target: string, e: KeydeskError, actor: string, executionId?: string): void {
    try {
      this.vault.write((w) =>
        w.audit({
          action: 'execution.refused',
          outcome: 'denied',
          actor,
          detail: { capability, target, error_code: e.code, ...(executionId ? { execution_id: executionId } : {}) }
        })
      );
    } catch {
      /* the refusal itself is what matters */
    }
  }

  emit(events: readonly (ExecutionEvent | null)[]): void {
    for (const e of events) {
      if (!e) continue;
      if (e.name === 'execution.changed') this.vault.events.emit('execution.changed', e.payload);
      else this.vault.events.emit('reauth.prompt', e.payload);
    }
  }

  /** Writes with the events of its transitions; a write that finds the vault locked is kept for the next unlock. */
  finish(id: string, fn: (w: WriteContext) => (ExecutionEvent | null)[]): void {
    const attempt = () => this.emit(this.vault.write(fn));
    try {
      attempt();
      this.inFlight.delete(id);
    } catch (e) {
      // Locked meanwhile (auto-lock), or locked because another process rotated the vault key: keep the outcome.
      if (e instanceof KeydeskError && (e.code === 'VAULT_LOCKED' || e.code === 'KEY_ROTATED')) {
        this.deferred.push(() => {
          attempt();
          this.inFlight.delete(id);
        });
        return;
      }
      this.inFlight.delete(id);
      throw e;
    }
  }

  /** A write of housekeeping transitions: true when one of them moved a run; a failure is left for the next pass. */
  safeWrite(fn: (w: WriteContext) => (ExecutionEvent | null)[]): boolean {
    try {
      const events = this.vault.write(fn);
      this.emit(events);
      return events.some((e) => e !== null);
    } catch {
      return false;
    }
  }

  actionInput(row: ExecutionRow): ActionInput {
    const host = row.host_email
      ? { kind: 'email' as const, value: row.host_email, domain: row.host_email.slice(row.host_email.lastIndexOf('@') + 1) }
      : row.host_domain
        ? { kind: 'domain' as const, value: row.host_domain, domain: row.host_domain }
        : null;
    const { scope, options } = paramsOf(row);
    return { capability: row.capability as CapabilityId, target: row.target, host, reason: row.reason, scope, options };
  }

  /** What a capability handler gets: the call's fetch, the credential, and the hooks that record steps and revert context. */
  actionContext(
    material: CredentialMaterial,
    call: ProviderCall,
    steps: StepEntry[],
    persist: (ctx: JsonObject) => void,
    opts: { run: Pick<ExecutionRow, 'id' | 'actor'>; previous?: JsonObject | null; force?: boolean }
  ): ActionContext {
    const clock = this.vault.clock;
    const run = { id: opts.run.id, actor: opts.run.actor };
    return {
      previousRevertContext: opts.previous ?? null,
      run,
      force: opts.force ?? false,
      sleep: (ms) =>
        this.calls.sleep
          ? this.calls.sleep(ms, call.signal)
          : new Promise<void>((resolve, reject) => {
              if (call.signal.aborted) return reject(new KeydeskError('CANCELLED', 'Cancelled.'));
              const t = setTimeout(resolve, ms);
              call.signal.addEventListener('abort', () => (clearTimeout(t), reject(new KeydeskError('CANCELLED', 'Cancelled.'))), {
                once: true
              });
            }),
      session: (info) => {
        const name = call.text(info.name);
        steps.push({
          at: clock.now().toISOString(),
          message: `Made a ${call.text(info.kind)} for this run: ${name}${info.expiresAt ? `, expires ${info.expiresAt}` : ''}.`
        });
        // The audit log says which provider session acted (its name, kind and expiry — never its keys).
        this.vault.write((w) =>
          w.audit({
            action: 'execution.session',
            outcome: 'ok',
            actor: run.actor,
            credentialId: material.id,
            credentialName: material.name,
            detail: { execution_id: run.id, kind: call.text(info.kind), session_name: name, expires_at: info.expiresAt }
          })
        );
      },
      credential: material,
      http: call.http,
      timeoutMs: call.timeoutMs,
      signal: call.signal,
      clock,
      accessToken: async () => {
        if (!this.accessToken)
          throw new ActionError(
            'credential_invalid',
            'NO_OAUTH',
            'This credential needs an OAuth access token, and OAuth is not available in this process.'
          );
        try {
          return await this.accessToken(material.id);
        } catch (e) {
          if (e instanceof KeydeskError) {
            // A refresh the provider refused (invalid_grant …: the OAuth service has marked the credential expired), or a
            // credential already expired or failed: re-authentication is what fixes it. A refresh that failed for
            // another reason (network, a 5xx, an unusable answer) says nothing about the credential.
            if (['PROVIDER_EXPIRED', 'PROVIDER_REJECTED', 'CREDENTIAL_NOT_READY'].includes(e.code)) {
              throw new ActionError(
                'reauth',
                e.code,
                `The OAuth token could not be refreshed (${e.code}): re-authenticate "${material.name}".`,
                {
                  credentialStatus: 'expired'
                }
              );
            }
            if (e.code === 'PROVIDER_UNREACHABLE' || e.code === 'OAUTH_FAILED') throw new ActionError('cloud_api_error', e.code, e.message);
          }
          throw e;
        }
      },
      captureRevert: (ctx) => persist(call.clean(ctx)),
      step: (message) => {
        steps.push({ at: clock.now().toISOString(), message: call.text(message) });
      }
    };
  }

  /** Opens a run's credential and checks it is the provider and mode the run names (a row edited in the file is not). */
  materialFor(row: Pick<ExecutionRow, 'id' | 'credential_id' | 'provider' | 'mode'>): CredentialMaterial {
    const material = this.credentials.material(row.credential_id!);
    if (material.provider !== row.provider || material.mode !== row.mode) {
      throw new KeydeskError(
        'HEADER_TAMPERED',
        `Execution ${row.id} names ${row.provider}/${row.mode}, but its credential is ${material.provider}/${material.mode}.`
      );
    }
    return material;
  }

  /** A result that arrives after another process took the run for interrupted: recorded as a step, status unchanged. */
  late(w: WriteContext, id: string, event: ExecutionEvent | null, what: string): ExecutionEvent | null {
    if (event) return event;
    const r = getRow(w, id);
    if (r) {
      setSteps(
        w,
        id,
        appendSteps(r.steps, [
          { at: w.now, message: `The process that ran this finished after it was recorded as ${r.status}: the provider call ${what}.` }
        ])
      );
    }
    return null;
  }
}
