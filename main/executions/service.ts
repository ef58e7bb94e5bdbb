import { randomUUID } from 'node:crypto';
import { KeydeskError, describeForeignError } from '../errors.ts';
import { modeSpec, printable } from '../providers/catalog.ts';
import { providerHttp } from '../providers/http.ts';
import { ActionError, type ActionContext, type ActionInput, type CapabilityHandler, type JsonObject } from '../providers/plugin.ts';
import { cleanErrorCode, cleanProviderText, makeScrubber, scrubDeep, type Scrubber } from '../providers/scrub.ts';
import type { CapabilityId } from '../providers/spec.ts';
import { credentialCapabilities, supportsCapability } from '../routing/resolve.ts';
import type { RoutingService } from '../routing/service.ts';
import type { CredentialMaterial, CredentialStore, CredentialSummary } from '../vault/credentials.ts';
import type { Secret } from '../vault/secret.ts';
import type { Vault, WriteContext } from '../vault/vault.ts';
import { capabilityHandler, loadCapabilities, type CapabilityLoader } from './capabilities.ts';
import { assertExecutionIntact, executionIntact, executionMac } from './integrity.ts';
import { CAPABILITY_SHAPES, dedupeKey, validateRunRequest, type RunRequestInput } from './inputs.ts';
import {
  DEFAULT_REAUTH_CUTOFF_MS,
  IN_EFFECT_STATUSES,
  REVERTIBLE_STATUSES,
  isExecutionStatus,
  type ExecutionStatus,
  type FailureReason
} from './lifecycle.ts';
import { LEASE_MS, claimAbandoned, formatOwner, newOwner, type Owner } from './owner.ts';
import {
  appendSteps,
  clearPrompt,
  leftBehind,
  createRun,
  getRow,
  raisePrompt,
  toView,
  transition,
  type ExecutionEvent,
  type ExecutionRow,
  type ExecutionView,
  type PromptFacts,
  type PromptRow,
  type StepEntry
} from './store.ts';
import type { PromptView } from '../../preload/contract.ts';

export interface ExecutionServiceOptions {
  vault: Vault;
  credentials: CredentialStore;
  routing: RoutingService;
  /** How long a run waits for re-authentication (default 1 hour). */
  cutoffMs?: number;
  /** Per-request timeout for provider calls. */
  timeoutMs?: number;
  /** OAuth modes: the current access token, refreshed if needed (app.oauth.accessToken). */
  accessToken?: (credentialId: string) => Promise<Secret>;
  /** Validates a credential and records the result (app.validation). Static re-auth needs it. */
  validate?: (credentialId: string) => Promise<CredentialSummary>;
  loadCapabilities?: CapabilityLoader;
  owner?: Owner;
}

export interface ExecutionFilter {
  status?: ExecutionStatus;
  credential?: string;
  limit?: number;
}

/** The contract's own type: one definition for main, CLI, IPC and renderer. */
export type { PromptView };

export interface ResumeReport {
  credential: { id: string; name: string };
  /** Runs this process resumed (same execution ids), in their state after the provider call. */
  resumed: ExecutionView[];
  /** Waiting runs another process claimed first. */
  claimedElsewhere: string[];
}

const CREDENTIAL_BLOCKING = new Set(['failed', 'expired']);
const TAMPER_CODES = new Set(['HEADER_TAMPERED', 'SECRET_TAMPERED', 'SECRET_SWAPPED', 'NOT_FOUND']);
const ACTOR_RE = /^(analyst|agent):[\w.@-]{1,64}( \([\w .-]{1,32}\))?$/;

interface Failure {
  kind: 'reauth' | FailureReason;
  code: string;
  message: string;
  credentialStatus: 'failed' | 'expired';
}

/**
 * Capability runs and their lifecycle (DESIGN.md "Executions and re-authentication"). Every transition is one
 * vault.write with its audit entry, guarded by a compare-and-set on the run's status (and on the process that
 * claimed it), so the app and the CLI sharing a vault never act twice. Reading works locked; anything that writes
 * needs the vault key (the audit MAC key), so deadlines that pass while the vault is locked are shown at once and
 * written at the next unlock.
 */
export class ExecutionService {
  readonly vault: Vault;
  readonly credentials: CredentialStore;
  readonly routing: RoutingService;
  readonly owner: Owner;
  readonly cutoffMs: number;
  #ownerId: string;
  #timeoutMs: number | undefined;
  #accessToken: ExecutionServiceOptions['accessToken'];
  #validate: ExecutionServiceOptions['validate'];
  #load: CapabilityLoader;
  /** Runs (and reverts) this process is executing now: recovery never takes them for interrupted. */
  #inFlight = new Set<string>();
  /** Final writes that found the vault locked (auto-lock mid-call): written at the next unlock. */
  #deferred: (() => void)[] = [];
  #timer: NodeJS.Timeout | null = null;
  #aborter = new AbortController();
  #unsubscribe: () => void;

  constructor(opts: ExecutionServiceOptions) {
    this.vault = opts.vault;
    this.credentials = opts.credentials;
    this.routing = opts.routing;
    this.owner = opts.owner ?? newOwner();
    this.#ownerId = formatOwner(this.owner);
    this.cutoffMs = opts.cutoffMs ?? DEFAULT_REAUTH_CUTOFF_MS;
    this.#timeoutMs = opts.timeoutMs;
    this.#accessToken = opts.accessToken;
    this.#validate = opts.validate;
    this.#load = opts.loadCapabilities ?? loadCapabilities;
    // Start-up work needs the key: it runs whenever the vault is unlocked (the first unlock is the app's start).
    this.#unsubscribe = this.vault.events.on('vault.lock', ({ locked }) => {
      if (locked) this.#disarm();
      else this.housekeeping();
    });
  }

  /** Late wiring (the OAuth and validation services are built after this one). */
  connect(deps: Pick<ExecutionServiceOptions, 'accessToken' | 'validate'>): void {
    if (deps.accessToken) this.#accessToken = deps.accessToken;
    if (deps.validate) this.#validate = deps.validate;
  }

  // ------------------------------------------------------------------------------------------ reading (no key)

  get(id: string): ExecutionView {
    return toView(this.#findRow(id), this.vault.clock.now());
  }

  /** By id or unique prefix. The id is checked first: it goes into a LIKE pattern, where % or _ would match any run. */
  #findRow(id: unknown): ExecutionRow {
    if (typeof id !== 'string' || !/^[0-9a-f-]{8,36}$/i.test(id))
      throw new KeydeskError('INPUT_INVALID', 'An execution id is the UUID keydesk executions shows (or its first 8 or more characters).', {
        fields: { id: 'An execution id' }
      });
    const exact = getRow(this.vault, id);
    if (exact) return exact;
    // A unique prefix (at least 8 characters) is enough, as in git.
    const rows = this.vault.db.prepare("SELECT * FROM executions WHERE id LIKE ? || '%' LIMIT 2").all(id.toLowerCase()) as ExecutionRow[];
    if (rows.length === 1) return rows[0]!;
    if (rows.length > 1) throw new KeydeskError('INPUT_INVALID', `More than one execution starts with ${id}; give more of the id.`);
    throw new KeydeskError('NOT_FOUND', `No execution ${id}.`);
  }

  list(filter: ExecutionFilter = {}): ExecutionView[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const now = this.vault.clock.now();
    if (filter.status !== undefined) {
      if (!isExecutionStatus(filter.status))
        throw new KeydeskError('INPUT_INVALID', `Unknown status "${printable(String(filter.status))}".`, {
          fields: { status: 'Unknown status' }
        });
      // Effective statuses: a wait past its deadline is expired even before that is written.
      if (filter.status === 'awaiting_reauth') {
        where.push("status = 'awaiting_reauth' AND deadline > ?");
        args.push(now.toISOString());
      } else if (filter.status === 'expired_awaiting_reauth') {
        where.push("(status = 'expired_awaiting_reauth' OR (status = 'awaiting_reauth' AND deadline <= ?))");
        args.push(now.toISOString());
      } else {
        where.push('status = ?');
        args.push(filter.status);
      }
    }
    if (filter.credential) {
      const c = this.credentials.get(filter.credential);
      where.push('credential_id = ?');
      args.push(c.id);
    }
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 10_000);
    const rows = this.vault.db
      .prepare(
        `SELECT * FROM executions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, rowid DESC LIMIT ?`
      )
      .all(...args, limit) as ExecutionRow[];
    return rows.map((r) => toView(r, now));
  }

  /** Pending re-auth prompts: credentials with runs still waiting before their deadline. */
  prompts(): PromptView[] {
    const now = this.vault.clock.now().toISOString();
    const rows = this.vault.db
      .prepare(
        "SELECT p.*, c.name, c.provider, c.mode FROM reauth_prompts p JOIN credentials c ON c.id = p.credential_id WHERE p.state = 'pending' ORDER BY p.raised_at"
      )
      .all() as (PromptRow & { name: string; provider: string; mode: string })[];
    const waitingOf = this.vault.db.prepare(
      "SELECT id, capability, target, deadline FROM executions WHERE credential_id = ? AND status = 'awaiting_reauth' AND deadline > ? ORDER BY created_at"
    );
    const out: PromptView[] = [];
    for (const p of rows) {
      const waiting = waitingOf.all(p.credential_id, now) as PromptView['waiting'];
      if (waiting.length === 0) continue; // past the cutoff: the prompt is over even if the vault was locked when it ended
      out.push({
        id: p.id,
        credentialId: p.credential_id,
        credentialName: p.name,
        provider: p.provider,
        mode: p.mode,
        method: this.#method(p.provider, p.mode),
        reasonCode: p.reason_code,
        reason: p.reason,
        raisedAt: p.raised_at,
        deadline: waiting.reduce((m, x) => (x.deadline > m ? x.deadline : m), waiting[0]!.deadline),
        waiting
      });
    }
    return out;
  }

  #method(provider: string, mode: string): 'oauth' | 'secret' {
    try {
      return modeSpec(provider, mode).oauth ? 'oauth' : 'secret';
    } catch {
      return 'secret';
    }
  }

  // ------------------------------------------------------------------------------------------ running

  /**
   * Runs a capability. Inputs are checked and the action routed before anything is recorded: a bad request is
   * refused (INPUT_INVALID, NO_BINDING, AMBIGUOUS_BINDING, BINDING_TAMPERED, UNSUPPORTED) with nothing changed and no
   * provider call. Otherwise the run is recorded and, in the same transaction, either superseded by an identical run
   * already in effect, set waiting (its credential is failed or expired: no provider call), or claimed and executed.
   */
  async run(input: RunRequestInput, opts: { actor?: string; cutoffMs?: number } = {}): Promise<ExecutionView> {
    const req = validateRunRequest(input);
    const actor = opts.actor === undefined ? this.vault.actor : opts.actor;
    if (!ACTOR_RE.test(actor))
      throw new KeydeskError('INPUT_INVALID', 'The actor is "analyst:NAME" or "agent:NAME".', {
        fields: { actor: 'analyst:NAME or agent:NAME' }
      });
    const cutoffMs = opts.cutoffMs ?? this.cutoffMs;
    this.vault.requireUnlocked();

    let cred: CredentialSummary;
    let binding: { id: string; domain: string } | null = null;
    if (CAPABILITY_SHAPES[req.capability].tenant) {
      let res;
      try {
        res = this.routing.resolve(req.capability, req.host!);
      } catch (e) {
        if (e instanceof KeydeskError && e.code === 'BINDING_TAMPERED') this.#auditRefusal(req.capability, req.target, e, actor);
        throw e;
      }
      cred = this.credentials.get(res.credentialId);
      if (req.credential !== null) {
        const named = this.credentials.get(req.credential);
        if (named.id !== cred.id) {
          throw new KeydeskError(
            'INPUT_INVALID',
            `${req.host!.value} routes to "${printable(cred.name)}" (bound to ${res.domain}), not to "${printable(named.name)}". Keydesk acts only through the credential bound to the protected domain.`,
            {
              fields: { credential: 'Not the credential bound to this host' }
            }
          );
        }
      }
      binding = { id: res.bindingId, domain: res.domain };
    } else {
      cred = this.credentials.get(req.credential!);
      if (!supportsCapability(cred.provider, cred.mode, req.capability)) {
        const can = credentialCapabilities(cred.provider, cred.mode);
        throw new KeydeskError(
          'INPUT_INVALID',
          `"${printable(cred.name)}" (${cred.provider}/${cred.mode}) cannot run ${req.capability}${can.length ? `; it can run ${can.join(', ')}` : ''}.`,
          {
            fields: { capability: `Not a capability of ${cred.provider}` }
          }
        );
      }
    }
    const handler = await capabilityHandler(this.#load, cred.provider, req.capability);
    const actionInput: ActionInput = { capability: req.capability, target: req.target, host: req.host, reason: req.reason };
    const problem = handler.checkInput?.(actionInput, { mode: cred.mode });
    if (problem) throw new KeydeskError('INPUT_INVALID', problem, { fields: { target: problem } });

    const id = randomUUID();
    const key = dedupeKey(req, cred.id);
    const firstSteps: StepEntry[] = [];
    const now = () => this.vault.clock.now().toISOString();
    firstSteps.push({
      at: now(),
      message: binding
        ? `Routed ${req.host!.value} to "${cred.name}" (${cred.provider}/${cred.mode}) by its binding to ${binding.domain}.`
        : `Runs with "${cred.name}" (${cred.provider}/${cred.mode}), named by the analyst.`
    });
    const record = (w: WriteContext) => {
      const evts: ExecutionEvent[] = [];
      const inEffectRow = w.db
        .prepare(
          `SELECT * FROM executions WHERE dedupe_key = ? AND status IN (${IN_EFFECT_STATUSES.map(() => '?').join(', ')}) ORDER BY created_at LIMIT 1`
        )
        .get(key, ...IN_EFFECT_STATUSES) as ExecutionRow | undefined;
      // A row edited in the file must not decide that this action is "already done" (nothing recorded if it fails).
      if (inEffectRow) assertExecutionIntact(w.vaultKey('header_mac'), inEffectRow, 'taken as the run already in effect');
      const inEffect = inEffectRow ? { id: inEffectRow.id, status: inEffectRow.status } : undefined;
      const live = w.db.prepare('SELECT status, name FROM credentials WHERE id = ?').get(cred.id) as
        { status: string; name: string } | undefined;
      if (!live) throw new KeydeskError('NOT_FOUND', `Credential "${printable(cred.name)}" was removed meanwhile. Nothing was done.`);
      const steps = [...firstSteps];
      if (inEffect) steps.push({ at: w.now, message: `Superseded: identical run ${inEffect.id} is ${inEffect.status}; not acting twice.` });
      evts.push(
        createRun(
          w,
          {
            id,
            capability: req.capability,
            target: req.target,
            hostEmail: req.host?.kind === 'email' ? req.host.value : null,
            hostDomain: req.host?.kind === 'domain' ? req.host.value : null,
            reason: req.reason,
            actor,
            credentialId: cred.id,
            credentialName: live.name,
            provider: cred.provider,
            mode: cred.mode,
            bindingId: binding?.id ?? null,
            boundDomain: binding?.domain ?? null,
            dedupeKey: key,
            steps,
            supersededBy: inEffect ?? null
          },
          actor
        )
      );
      if (inEffect) return { events: evts, claimed: false };
      if (CREDENTIAL_BLOCKING.has(live.status)) {
        const deadline = new Date(Date.parse(w.now) + cutoffMs).toISOString();
        const message = `"${live.name}" is ${live.status}: no provider call. Waiting for re-authentication until ${deadline}.`;
        evts.push(
          this.#must(
            transition(w, id, 'pending', 'awaiting_reauth', {
              actor,
              patch: {
                deadline,
                error_code: live.status === 'expired' ? 'CREDENTIAL_EXPIRED' : 'CREDENTIAL_FAILED',
                error_message: message
              },
              steps: [{ at: w.now, message }]
            })
          ),
          raisePrompt(
            w,
            this.#promptFacts(cred.id, live.name, cred.provider, cred.mode),
            deadline,
            live.status === 'expired' ? 'CREDENTIAL_EXPIRED' : 'CREDENTIAL_FAILED',
            message
          )
        );
        return { events: evts, claimed: false };
      }
      evts.push(
        this.#must(
          transition(w, id, 'pending', 'running', {
            actor,
            patch: { claimed_by: this.#ownerId, lease_until: this.#lease(w.now), attempts: 1 },
            steps: [{ at: w.now, message: `Started (credential status ${live.status}).` }]
          })
        )
      );
      return { events: evts, claimed: true };
    };
    let recorded: ReturnType<typeof record>;
    try {
      recorded = this.vault.write(record);
    } catch (e) {
      if (e instanceof KeydeskError && e.code === 'EXECUTION_TAMPERED') this.#auditRefusal(req.capability, req.target, e, actor);
      throw e;
    }
    const { events, claimed } = recorded;
    this.#emit(events);
    this.#arm();
    if (!claimed) return this.get(id);
    return this.#execute(id, handler, cutoffMs);
  }

  #must(e: ExecutionEvent | null): ExecutionEvent {
    if (!e) throw new KeydeskError('EXECUTION_CONFLICT', 'The run changed in another process meanwhile. Nothing was done.');
    return e;
  }

  #lease(nowIso: string): string {
    return new Date(Date.parse(nowIso) + LEASE_MS).toISOString();
  }

  #promptFacts(credentialId: string, name: string, provider: string, mode: string): PromptFacts {
    return { credentialId, credentialName: name, method: this.#method(provider, mode) };
  }

  #auditRefusal(capability: CapabilityId, target: string, e: KeydeskError, actor: string, executionId?: string): void {
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

  #emit(events: readonly (ExecutionEvent | null)[]): void {
    for (const e of events) {
      if (!e) continue;
      if (e.name === 'execution.changed') this.vault.events.emit('execution.changed', e.payload);
      else this.vault.events.emit('reauth.prompt', e.payload);
    }
  }

  /** Writes with the events of its transitions; a write that finds the vault locked is kept for the next unlock. */
  #finish(id: string, fn: (w: WriteContext) => (ExecutionEvent | null)[]): void {
    const attempt = () => this.#emit(this.vault.write(fn));
    try {
      attempt();
      this.#inFlight.delete(id);
    } catch (e) {
      // Locked meanwhile (auto-lock), or locked because another process rotated the vault key: keep the outcome.
      if (e instanceof KeydeskError && (e.code === 'VAULT_LOCKED' || e.code === 'KEY_ROTATED')) {
        this.#deferred.push(() => {
          attempt();
          this.#inFlight.delete(id);
        });
        return;
      }
      this.#inFlight.delete(id);
      throw e;
    }
  }

  #actionInput(row: ExecutionRow): ActionInput {
    const host = row.host_email
      ? { kind: 'email' as const, value: row.host_email, domain: row.host_email.slice(row.host_email.lastIndexOf('@') + 1) }
      : row.host_domain
        ? { kind: 'domain' as const, value: row.host_domain, domain: row.host_domain }
        : null;
    return { capability: row.capability as CapabilityId, target: row.target, host, reason: row.reason };
  }

  #context(
    material: CredentialMaterial,
    scrubber: Scrubber,
    steps: StepEntry[],
    persist: (ctx: JsonObject) => void,
    previous: JsonObject | null = null
  ): ActionContext {
    const clock = this.vault.clock;
    return {
      previousRevertContext: previous,
      credential: material,
      http: providerHttp({ ...(this.#timeoutMs !== undefined ? { timeoutMs: this.#timeoutMs } : {}), signal: this.#aborter.signal }),
      timeoutMs: this.#timeoutMs ?? 15_000,
      signal: this.#aborter.signal,
      clock,
      accessToken: async () => {
        if (!this.#accessToken)
          throw new ActionError(
            'credential_invalid',
            'NO_OAUTH',
            'This credential needs an OAuth access token, and OAuth is not available in this process.'
          );
        try {
          return await this.#accessToken(material.id);
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
                { credentialStatus: 'expired' }
              );
            }
            if (e.code === 'PROVIDER_UNREACHABLE' || e.code === 'OAUTH_FAILED') throw new ActionError('cloud_api_error', e.code, e.message);
          }
          throw e;
        }
      },
      captureRevert: (ctx) => persist(scrubDeep(ctx, scrubber) as JsonObject),
      step: (message) => {
        steps.push({ at: clock.now().toISOString(), message: cleanProviderText(message, scrubber, 500) });
      }
    };
  }

  #classify(e: unknown, scrubber: Scrubber): Failure {
    if (e instanceof ActionError) {
      return {
        kind: e.kind,
        code: cleanErrorCode(e.providerCode, scrubber),
        message: cleanProviderText(e.message, scrubber, 500),
        credentialStatus: e.credentialStatus
      };
    }
    if (e instanceof KeydeskError) {
      const message = cleanProviderText(e.message, scrubber, 500);
      switch (e.code) {
        case 'PROVIDER_EXPIRED':
          return { kind: 'reauth', code: e.code, message, credentialStatus: 'expired' };
        case 'PROVIDER_REJECTED':
          return { kind: 'reauth', code: e.code, message, credentialStatus: 'failed' };
        case 'INPUT_INVALID':
          return { kind: 'input_invalid', code: e.code, message, credentialStatus: 'failed' };
        case 'NOT_FOUND':
          return { kind: 'inventory_not_found', code: e.code, message, credentialStatus: 'failed' };
        default:
          return { kind: 'cloud_api_error', code: e.code, message, credentialStatus: 'failed' };
      }
    }
    return {
      kind: 'cloud_api_error',
      code: 'INTERNAL',
      message: `The action stopped on an unexpected error (${describeForeignError(e)}); its effect is unknown. Check the provider before running it again.`,
      credentialStatus: 'failed'
    };
  }

  /** Executes a run this process has claimed (status running, claimed_by us). */
  async #execute(id: string, handler?: CapabilityHandler, cutoffMs = this.cutoffMs): Promise<ExecutionView> {
    this.#inFlight.add(id);
    const row = getRow(this.vault, id)!;
    const steps: StepEntry[] = [];
    const step = (message: string) => steps.push({ at: this.vault.clock.now().toISOString(), message });
    const failWith = (reason: FailureReason, code: string, message: string) =>
      this.#finish(id, (w) => [
        transition(w, id, 'running', 'failed', {
          owner: this.#ownerId,
          patch: {
            failure_reason: reason,
            error_code: code,
            error_message: message,
            claimed_by: null,
            lease_until: null,
            finished_at: w.now
          },
          steps: [...steps.splice(0), { at: w.now, message: `Failed (${reason}): ${message}` }]
        })
      ]);
    try {
      handler ??= await capabilityHandler(this.#load, row.provider, row.capability as CapabilityId);
      if (!row.credential_id) {
        failWith('credential_invalid', 'NOT_FOUND', 'Its credential was removed. Nothing was done.');
        return this.get(id);
      }
      if (!executionIntact(this.vault.vaultKey('header_mac'), row)) {
        try {
          assertExecutionIntact(this.vault.vaultKey('header_mac'), row, 'run');
        } catch (e) {
          failWith('input_invalid', 'EXECUTION_TAMPERED', (e as KeydeskError).message);
          return this.get(id);
        }
      }
      let material: CredentialMaterial;
      try {
        material = this.credentials.material(row.credential_id);
        if (material.provider !== row.provider || material.mode !== row.mode) {
          throw new KeydeskError(
            'HEADER_TAMPERED',
            `Execution ${id} names ${row.provider}/${row.mode}, but its credential is ${material.provider}/${material.mode}.`
          );
        }
      } catch (e) {
        if (e instanceof KeydeskError && TAMPER_CODES.has(e.code)) {
          failWith('credential_invalid', e.code, `${e.message} Nothing was sent to the provider.`);
          return this.get(id);
        }
        if (e instanceof KeydeskError && e.code === 'KEY_ROTATED') {
          // Claimed, but the key changed under us before any call: say so (written at the next unlock), not "interrupted".
          failWith(
            'cloud_api_error',
            e.code,
            'The vault key was rotated by another Keydesk process as this run started. Nothing was sent to the provider: run it again.'
          );
          return this.get(id);
        }
        throw e;
      }
      const scrubber = makeScrubber(Object.values(material.secrets).map((s) => s.reveal()));
      const ctx = this.#context(
        material,
        scrubber,
        steps,
        (revertContext) => {
          this.vault.write((w) => {
            const r = getRow(w, id);
            if (!r || r.status !== 'running' || r.claimed_by !== this.#ownerId) return;
            const key = w.vaultKey('header_mac');
            assertExecutionIntact(key, r, 'continued'); // never bless a row edited in the file with a fresh MAC
            const json = JSON.stringify(revertContext);
            steps.push({ at: w.now, message: 'Revert context recorded.' });
            w.db
              .prepare('UPDATE executions SET revert_context = ?, mac = ?, steps = ?, lease_until = ?, updated_at = ? WHERE id = ?')
              .run(
                json,
                executionMac(key, { ...r, revert_context: json }),
                appendSteps(r.steps, steps.splice(0)),
                this.#lease(w.now),
                w.now,
                id
              );
          });
        },
        row.attempts > 1 ? toView(row, this.vault.clock.now()).revertContext : null
      );
      step(`Calling ${row.provider} for ${row.capability} on ${row.target}.`);
      let outcome: { ok: true; summary: string; details: JsonObject | undefined; revert: JsonObject } | { ok: false; failure: Failure };
      try {
        const res = await handler.execute(ctx, this.#actionInput(row));
        outcome = {
          ok: true,
          summary: cleanProviderText(res.summary, scrubber, 500),
          details: res.details ? (scrubDeep(res.details, scrubber) as JsonObject) : undefined,
          revert: scrubDeep(res.revertContext, scrubber) as JsonObject
        };
      } catch (e) {
        if (e instanceof KeydeskError && e.code === 'VAULT_LOCKED') throw e;
        outcome = { ok: false, failure: this.#classify(e, scrubber) };
      }
      if (outcome.ok) {
        const o = outcome;
        this.#finish(id, (w) => [
          this.#late(
            w,
            id,
            transition(w, id, 'running', 'succeeded', {
              owner: this.#ownerId,
              patch: {
                result: JSON.stringify({ summary: o.summary, ...(o.details ? { details: o.details } : {}) }),
                revert_context: JSON.stringify(o.revert),
                error_code: null,
                error_message: null,
                claimed_by: null,
                lease_until: null,
                finished_at: w.now
              },
              steps: [...steps.splice(0), { at: w.now, message: `Succeeded: ${o.summary}` }]
            }),
            `succeeded (${o.summary})`
          )
        ]);
      } else if (outcome.failure.kind === 'reauth') {
        this.#waitForReauth(id, row, outcome.failure, steps, cutoffMs);
      } else {
        const f = outcome.failure;
        this.#finish(id, (w) => [
          this.#late(
            w,
            id,
            transition(w, id, 'running', 'failed', {
              owner: this.#ownerId,
              patch: {
                failure_reason: f.kind as FailureReason,
                error_code: f.code,
                error_message: f.message,
                claimed_by: null,
                lease_until: null,
                finished_at: w.now
              },
              steps: [...steps.splice(0), { at: w.now, message: `Failed (${f.kind}, ${f.code}): ${f.message}` }]
            }),
            `failed (${f.code})`
          )
        ]);
      }
    } catch (e) {
      // Nothing more will be written for this run here: the next start-up (unlock) takes it for interrupted.
      this.#inFlight.delete(id);
      throw e;
    }
    this.#arm();
    return this.get(id);
  }

  /** A result that arrives after another process took the run for interrupted: recorded as a step, status unchanged. */
  #late(w: WriteContext, id: string, event: ExecutionEvent | null, what: string): ExecutionEvent | null {
    if (event) return event;
    const r = getRow(w, id);
    if (r) {
      w.db
        .prepare('UPDATE executions SET steps = ?, updated_at = ? WHERE id = ?')
        .run(
          appendSteps(r.steps, [
            { at: w.now, message: `The process that ran this finished after it was recorded as ${r.status}: the provider call ${what}.` }
          ]),
          w.now,
          id
        );
    }
    return null;
  }

  #waitForReauth(id: string, row: ExecutionRow, f: Failure, steps: StepEntry[], cutoffMs: number): void {
    this.#finish(id, (w) => {
      const deadline = new Date(Date.parse(w.now) + cutoffMs).toISOString();
      const message = `${row.provider} rejected "${row.credential_name}" (${f.code}): ${f.message} Waiting for re-authentication until ${deadline}.`;
      const moved = transition(w, id, 'running', 'awaiting_reauth', {
        owner: this.#ownerId,
        patch: { deadline, error_code: f.code, error_message: f.message, claimed_by: null, lease_until: null },
        steps: [...steps.splice(0), { at: w.now, message }]
      });
      if (!moved) return [this.#late(w, id, null, `was rejected (${f.code})`)];
      const cred = w.db.prepare('SELECT status, name, provider, mode FROM credentials WHERE id = ?').get(row.credential_id) as
        { status: string; name: string; provider: string; mode: string } | undefined;
      if (cred && !CREDENTIAL_BLOCKING.has(cred.status)) {
        this.credentials.recordHealth(
          row.credential_id!,
          { status: f.credentialStatus, lastError: { code: f.code, message: f.message }, checkedAt: w.now },
          { action: 'credential.rejected_in_action', detail: { execution_id: id } }
        );
      }
      return [
        moved,
        cred ? raisePrompt(w, this.#promptFacts(row.credential_id!, cred.name, cred.provider, cred.mode), deadline, f.code, message) : null
      ];
    });
  }

  // ------------------------------------------------------------------------------------------ re-authentication

  /**
   * Resumes every run waiting on a credential that was just re-authenticated (an OAuth flow, or new secret fields
   * that validated). Each run is claimed with a compare-and-set on its status, so when the app and the CLI resume
   * at once every run still acts once; the same execution ids continue. Clears the credential's prompt.
   */
  async resumeWaiting(credentialRef: string): Promise<ResumeReport> {
    this.vault.requireUnlocked();
    const c = this.credentials.get(credentialRef);
    if (CREDENTIAL_BLOCKING.has(c.status)) {
      throw new KeydeskError(
        'CREDENTIAL_NOT_READY',
        `"${printable(c.name)}" is still ${c.status}; its waiting runs keep waiting. Re-authenticate it (keydesk reauth "${printable(c.name)}").`
      );
    }
    this.expireDue();
    const facts = this.#promptFacts(c.id, c.name, c.provider, c.mode);
    this.#emit(this.vault.write((w) => [clearPrompt(w, facts, 'resolved')]));
    const ids = (
      this.vault.db
        .prepare(
          "SELECT id FROM executions WHERE credential_id = ? AND status = 'awaiting_reauth' AND deadline > ? ORDER BY created_at, rowid"
        )
        .all(c.id, this.vault.clock.now().toISOString()) as { id: string }[]
    ).map((r) => r.id);
    const resumed: ExecutionView[] = [];
    const claimedElsewhere: string[] = [];
    for (const id of ids) {
      const event = this.vault.write((w) => {
        const r = getRow(w, id);
        if (!r || r.status !== 'awaiting_reauth' || r.deadline === null || r.deadline <= w.now) return null;
        return transition(w, id, 'awaiting_reauth', 'running', {
          patch: {
            claimed_by: this.#ownerId,
            lease_until: this.#lease(w.now),
            attempts: r.attempts + 1,
            error_code: null,
            error_message: null
          },
          steps: [{ at: w.now, message: `Resumed after "${c.name}" was re-authenticated (attempt ${r.attempts + 1}).` }]
        });
      });
      if (!event) {
        claimedElsewhere.push(id);
        continue;
      }
      this.#emit([event]);
      resumed.push(await this.#execute(id));
    }
    return { credential: { id: c.id, name: c.name }, resumed, claimedElsewhere };
  }

  /**
   * Static credentials: replaces the secret fields, validates, and — only when validation says ok — resumes the
   * waiting runs. A secret that does not validate is kept (it is what the analyst entered) but nothing resumes.
   */
  async reauthWithSecrets(
    credentialRef: string,
    secrets: Readonly<Record<string, string>>
  ): Promise<ResumeReport & { validation: CredentialSummary }> {
    this.vault.requireUnlocked();
    const c = this.credentials.get(credentialRef);
    if (this.#method(c.provider, c.mode) === 'oauth') {
      throw new KeydeskError(
        'INPUT_INVALID',
        `"${printable(c.name)}" is an OAuth credential: re-authenticate it with the browser flow (keydesk reauth "${printable(c.name)}"), not with secret fields.`
      );
    }
    if (Object.keys(secrets).length === 0)
      throw new KeydeskError('INPUT_INVALID', 'Give the new secret fields (--secrets-from FILE or - for stdin).');
    if (!this.#validate)
      throw new KeydeskError(
        'UNSUPPORTED',
        'Validation is not available in this process, so the new secret cannot be checked before the waiting runs resume.'
      );
    this.credentials.update(c.id, { values: secrets });
    const validated = await this.#validate(c.id);
    if (validated.status !== 'ok') {
      const why = validated.lastError ? `${validated.lastError.code}: ${validated.lastError.message}` : validated.status;
      throw new KeydeskError(
        validated.status === 'unknown' ? 'PROVIDER_UNREACHABLE' : 'PROVIDER_REJECTED',
        `The new secret was saved but did not validate (${why}). Waiting runs keep waiting until their deadline; nothing was resumed.`
      );
    }
    return { ...(await this.resumeWaiting(c.id)), validation: validated };
  }

  // ------------------------------------------------------------------------------------------ revert

  /** Reverts a succeeded run (or retries a failed revert), from the revert context captured before its call. */
  async revert(idInput: string): Promise<ExecutionView> {
    this.vault.requireUnlocked();
    const row = this.#findRow(idInput);
    const id = row.id;
    if (!REVERTIBLE_STATUSES.includes(row.status)) {
      throw new KeydeskError(
        'EXECUTION_CONFLICT',
        row.status === 'reverted'
          ? `Execution ${id} is already reverted.`
          : `Execution ${id} is ${row.status}: only a succeeded run (or one whose revert failed) can be reverted${row.status === 'failed' && row.marker === 'interrupted' ? '; its effect is unknown — check the provider by hand' : ''}.`
      );
    }
    if (!row.credential_id)
      throw new KeydeskError(
        'CREDENTIAL_NOT_READY',
        `The credential of execution ${id} ("${printable(row.credential_name)}") was removed; revert it at the provider by hand.`
      );
    const cred = this.credentials.get(row.credential_id);
    if (CREDENTIAL_BLOCKING.has(cred.status)) {
      throw new KeydeskError(
        'CREDENTIAL_NOT_READY',
        `"${printable(cred.name)}" is ${cred.status}: re-authenticate it (keydesk reauth "${printable(cred.name)}"), then revert again. Nothing was changed.`
      );
    }
    const handler = await capabilityHandler(this.#load, row.provider, row.capability as CapabilityId);
    const from = row.status;
    let verified: ExecutionRow | null;
    try {
      verified = this.vault.write((w) => {
        const r = getRow(w, id)!;
        if (r.status !== from || r.provider !== row.provider || r.capability !== row.capability || r.credential_id !== row.credential_id)
          return null;
        if (
          r.revert_claimed_by !== null &&
          !claimAbandoned(r.revert_claimed_by, r.revert_lease_until, this.owner, new Date(w.now), this.#inFlight.has(id))
        )
          return null;
        // The revert acts on what this row says (credential, target, host, revert context): only if it is authentic.
        assertExecutionIntact(w.vaultKey('header_mac'), r, 'reverted');
        w.db
          .prepare('UPDATE executions SET revert_claimed_by = ?, revert_lease_until = ?, updated_at = ? WHERE id = ?')
          .run(this.#ownerId, this.#lease(w.now), w.now, id);
        return r;
      });
    } catch (e) {
      if (e instanceof KeydeskError && e.code === 'EXECUTION_TAMPERED')
        this.#auditRefusal(row.capability as CapabilityId, row.target, e, this.vault.actor, id);
      throw e;
    }
    if (!verified)
      throw new KeydeskError('EXECUTION_CONFLICT', `A revert of execution ${id} is already in progress (or the run changed meanwhile).`);
    const claimedRow = verified;
    this.#inFlight.add(id);
    const steps: StepEntry[] = [];
    let material: CredentialMaterial;
    try {
      material = this.credentials.material(claimedRow.credential_id!);
      if (material.provider !== claimedRow.provider || material.mode !== claimedRow.mode) {
        throw new KeydeskError(
          'HEADER_TAMPERED',
          `Execution ${id} names ${claimedRow.provider}/${claimedRow.mode}, but its credential is ${material.provider}/${material.mode}.`
        );
      }
    } catch (e) {
      const code = e instanceof KeydeskError ? e.code : 'INTERNAL';
      const message = e instanceof KeydeskError ? e.message : 'The credential could not be opened.';
      this.#finish(id, (w) => [
        transition(w, id, from, 'revert_failed', {
          revertOwner: this.#ownerId,
          patch: { error_code: code, error_message: message, revert_claimed_by: null, revert_lease_until: null },
          steps: [{ at: w.now, message: `Revert failed (${code}): ${message}` }]
        })
      ]);
      return this.get(id);
    }
    const scrubber = makeScrubber(Object.values(material.secrets).map((s) => s.reveal()));
    const ctx = this.#context(material, scrubber, steps, () => undefined);
    const revertContext = toView(claimedRow, this.vault.clock.now()).revertContext ?? {};
    try {
      steps.push({ at: this.vault.clock.now().toISOString(), message: `Reverting ${claimedRow.capability} on ${claimedRow.target}.` });
      const res = await handler.revert(ctx, revertContext, this.#actionInput(claimedRow));
      const summary = cleanProviderText(res.summary, scrubber, 500);
      this.#finish(id, (w) => [
        transition(w, id, from, 'reverted', {
          revertOwner: this.#ownerId,
          patch: { error_code: null, error_message: null, revert_claimed_by: null, revert_lease_until: null, reverted_at: w.now },
          steps: [...steps.splice(0), { at: w.now, message: `Reverted: ${summary}` }]
        })
      ]);
    } catch (e) {
      if (e instanceof KeydeskError && e.code === 'VAULT_LOCKED') throw e;
      const f = this.#classify(e, scrubber);
      this.#finish(id, (w) => {
        if (f.kind === 'reauth') {
          const live = w.db.prepare('SELECT status FROM credentials WHERE id = ?').get(row.credential_id) as { status: string } | undefined;
          if (live && !CREDENTIAL_BLOCKING.has(live.status)) {
            this.credentials.recordHealth(
              row.credential_id!,
              { status: f.credentialStatus, lastError: { code: f.code, message: f.message }, checkedAt: w.now },
              { action: 'credential.rejected_in_action', detail: { execution_id: id } }
            );
          }
        }
        const hint =
          f.kind === 'reauth'
            ? ` Re-authenticate "${row.credential_name}" and retry the revert.`
            : ' Retry the revert (keydesk revert) when the cause is fixed.';
        return [
          transition(w, id, from, 'revert_failed', {
            revertOwner: this.#ownerId,
            patch: { error_code: f.code, error_message: `${f.message}${hint}`, revert_claimed_by: null, revert_lease_until: null },
            steps: [...steps.splice(0), { at: w.now, message: `Revert failed (${f.code}): ${f.message}` }]
          })
        ];
      });
    }
    return this.get(id);
  }

  // ------------------------------------------------------------------------------------------ start-up and deadlines

  /**
   * What start-up must do, and can only do unlocked (each change carries a MAC'd audit entry): write results that
   * found the vault locked, fail runs whose process died mid-call (interrupted, effect unknown), mark reverts that
   * died mid-call revert_failed, and expire waits whose deadline passed — also those that passed while Keydesk was
   * closed or locked. Runs on every unlock; safe to call any time.
   */
  housekeeping(): { interrupted: string[]; expired: string[] } {
    if (!this.vault.isUnlocked()) return { interrupted: [], expired: [] };
    for (const fn of this.#deferred.splice(0)) {
      try {
        fn();
      } catch {
        /* recorded as interrupted below if it cannot be written */
      }
    }
    const interrupted: string[] = [];
    const now = this.vault.clock.now();
    const running = this.vault.db.prepare("SELECT id, claimed_by, lease_until FROM executions WHERE status = 'running'").all() as Pick<
      ExecutionRow,
      'id' | 'claimed_by' | 'lease_until'
    >[];
    for (const r of running) {
      if (!claimAbandoned(r.claimed_by, r.lease_until, this.owner, now, this.#inFlight.has(r.id))) continue;
      const moved = this.#safeWrite((w) => {
        const cur = getRow(w, r.id);
        if (!cur || cur.status !== 'running' || cur.claimed_by !== r.claimed_by) return [];
        return [
          transition(w, r.id, 'running', 'failed', {
            owner: r.claimed_by ?? '',
            patch: {
              marker: 'interrupted',
              error_code: 'INTERRUPTED',
              error_message:
                'The process running this action stopped mid-call. Its effect is unknown: check the provider before running it again.',
              claimed_by: null,
              lease_until: null,
              finished_at: w.now
            },
            steps: [
              {
                at: w.now,
                message:
                  'Interrupted: the process running this stopped during the provider call; the effect is unknown. Check the provider before running it again.'
              }
            ],
            auditDetail: { owner_gone: r.claimed_by }
          })
        ];
      });
      if (moved) interrupted.push(r.id);
    }
    const reverting = this.vault.db
      .prepare(
        "SELECT id, status, revert_claimed_by, revert_lease_until FROM executions WHERE revert_claimed_by IS NOT NULL AND status IN ('succeeded', 'revert_failed')"
      )
      .all() as Pick<ExecutionRow, 'id' | 'status' | 'revert_claimed_by' | 'revert_lease_until'>[];
    for (const r of reverting) {
      if (!claimAbandoned(r.revert_claimed_by, r.revert_lease_until, this.owner, now, this.#inFlight.has(r.id))) continue;
      this.#safeWrite((w) => [
        transition(w, r.id, r.status, 'revert_failed', {
          revertOwner: r.revert_claimed_by ?? '',
          patch: {
            error_code: 'INTERRUPTED',
            error_message: 'The revert stopped mid-call; its effect is unknown. Retry the revert.',
            revert_claimed_by: null,
            revert_lease_until: null
          },
          steps: [
            {
              at: w.now,
              message: 'Revert interrupted: the process stopped during the provider call; the effect is unknown. Retry the revert.'
            }
          ]
        })
      ]);
    }
    const expired = this.expireDue();
    this.#arm();
    return { interrupted, expired };
  }

  #safeWrite(fn: (w: WriteContext) => (ExecutionEvent | null)[]): boolean {
    try {
      const events = this.vault.write(fn);
      this.#emit(events);
      return events.some((e) => e !== null);
    } catch {
      return false;
    }
  }

  /** Ends every wait whose deadline has passed (or whose credential was removed) and clears prompts with nothing left waiting. */
  expireDue(): string[] {
    if (!this.vault.isUnlocked()) return [];
    const nowIso = this.vault.clock.now().toISOString();
    const due = this.vault.db
      .prepare(
        "SELECT id, deadline, credential_id, revert_context FROM executions WHERE status = 'awaiting_reauth' AND (deadline <= ? OR credential_id IS NULL) ORDER BY deadline"
      )
      .all(nowIso) as Pick<ExecutionRow, 'id' | 'deadline' | 'credential_id' | 'revert_context'>[];
    const expired: string[] = [];
    for (const r of due) {
      // "Not taken" only when it is true: a run rejected part-way may have changed something before it waited.
      const partial = leftBehind(r.revert_context);
      const outcome = partial ? `the action was not completed. ${partial}` : 'the action was not taken.';
      const ok = this.#safeWrite((w) => [
        transition(w, r.id, 'awaiting_reauth', 'expired_awaiting_reauth', {
          patch: { finished_at: w.now },
          steps: [
            {
              at: w.now,
              message:
                r.credential_id === null
                  ? `Its credential was removed while the run waited: ${outcome}`
                  : `No re-authentication before the deadline (${r.deadline}): ${outcome}${w.now > (r.deadline ?? '') ? ' (Recorded when the vault was next unlocked.)' : ''}`
            }
          ],
          auditDetail: { deadline: r.deadline, ...(partial ? { partial: true } : {}) }
        })
      ]);
      if (ok) expired.push(r.id);
    }
    const prompts = this.vault.db
      .prepare(
        "SELECT p.credential_id, c.name, c.provider, c.mode FROM reauth_prompts p JOIN credentials c ON c.id = p.credential_id WHERE p.state = 'pending'"
      )
      .all() as {
      credential_id: string;
      name: string;
      provider: string;
      mode: string;
    }[];
    for (const p of prompts) {
      this.#safeWrite((w) => {
        const still = (
          w.db
            .prepare("SELECT count(*) AS n FROM executions WHERE credential_id = ? AND status = 'awaiting_reauth' AND deadline > ?")
            .get(p.credential_id, w.now) as { n: number }
        ).n;
        return still > 0 ? [] : [clearPrompt(w, this.#promptFacts(p.credential_id, p.name, p.provider, p.mode), 'expired')];
      });
    }
    return expired;
  }

  /** Sets a timer for the next deadline (unlocked only; it does not keep a CLI process alive). */
  #arm(): void {
    this.#disarm();
    if (!this.vault.isUnlocked() || !this.vault.db.open) return;
    const next = this.vault.db.prepare("SELECT min(deadline) AS d FROM executions WHERE status = 'awaiting_reauth'").get() as {
      d: string | null;
    };
    if (!next.d) return;
    const wait = Math.max(0, Math.min(Date.parse(next.d) - this.vault.clock.now().getTime(), 2 ** 31 - 1));
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.expireDue();
      this.#arm();
    }, wait + 50);
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Stops timers and cancels provider calls in flight (app shutdown). */
  dispose(): void {
    this.#disarm();
    this.#unsubscribe();
    this.#aborter.abort(new DOMException('Keydesk is closing.', 'AbortError'));
  }
}
