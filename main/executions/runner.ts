import { KeydeskError } from '../errors.ts';
import { actionFailure, openCall, type ActionFailure } from '../providers/call.ts';
import { capabilityInfo, type CapabilityId } from '../providers/capabilities.ts';
import type { ActionInput, CapabilityHandler, JsonObject } from '../providers/plugin.ts';
import { printable } from '../text.ts';
import type { CredentialMaterial, CredentialSummary } from '../vault/credential-store.ts';
import type { WriteContext } from '../vault/vault.ts';
import { CREDENTIAL_BLOCKING, type ExecutionCore } from './core.ts';
import { dedupeKey, paramsJson, runParams, validateRunRequest, type RunRequestInput } from './inputs.ts';
import { pickResourceCredential } from '../routing/resources.ts';
import { assertExecutionIntact, executionIntact, executionMac } from './integrity.ts';
import type { FailureReason } from './lifecycle.ts';
import { enterWait } from './reauth.ts';
import type { Recovery } from './recovery.ts';
import {
  appendSteps,
  createRun,
  getRow,
  inEffectRow,
  latestEarlierRun,
  raisePrompt,
  storeRevertContext,
  transition,
  type ExecutionEvent,
  type ExecutionRow
} from './store.ts';
import { executionView, revertContextOf, type ExecutionView, type StepEntry } from './view.ts';
import { newId } from '../builtins.ts';

const TAMPER_CODES = new Set(['HEADER_TAMPERED', 'SECRET_TAMPERED', 'SECRET_SWAPPED', 'NOT_FOUND']);
const ACTOR_RE = /^(analyst|agent):[\w.@-]{1,64}( \([\w .-]{1,32}\))?$/;

/**
 * The runner: checks and routes a run request, records it (superseded, waiting, or claimed — one transaction with its
 * audit entry), and executes the runs this process claimed: revert context captured before the provider call, the
 * handler's outcome recorded with a compare-and-set on the claim. A rejected credential hands the run to the re-auth
 * waits.
 */
export class Runner {
  readonly #core: ExecutionCore;
  readonly #recovery: Recovery;

  constructor(core: ExecutionCore, recovery: Recovery) {
    this.#core = core;
    this.#recovery = recovery;
  }

  #view(id: string): ExecutionView {
    return executionView(getRow(this.#core.vault, id)!, this.#core.vault.clock.now());
  }

  /**
   * Runs a capability. Inputs are checked and the action routed before anything is recorded: a bad request is
   * refused (INPUT_INVALID, NO_BINDING, AMBIGUOUS_BINDING, BINDING_TAMPERED, UNSUPPORTED) with nothing changed and no
   * provider call. Otherwise the run is recorded and, in the same transaction, either superseded by an identical run
   * already in effect, set waiting (its credential is failed or expired: no provider call), or claimed and executed.
   */
  async run(input: RunRequestInput, opts: { actor?: string; cutoffMs?: number } = {}): Promise<ExecutionView> {
    const req = validateRunRequest(input);
    const actor = opts.actor === undefined ? this.#core.vault.actor : opts.actor;
    if (!ACTOR_RE.test(actor))
      throw new KeydeskError('INPUT_INVALID', 'The actor is "analyst:NAME" or "agent:NAME".', {
        fields: { actor: 'analyst:NAME or agent:NAME' }
      });
    const cutoffMs = opts.cutoffMs ?? this.#core.cutoffMs;
    this.#core.vault.requireUnlocked();

    let cred: CredentialSummary;
    let binding: { id: string; domain: string } | null = null;
    let picked: string | null = null;
    if (capabilityInfo(req.capability).tenant) {
      let res;
      try {
        res = this.#core.routing.resolve(req.capability, req.host!);
      } catch (e) {
        if (e instanceof KeydeskError && e.code === 'BINDING_TAMPERED') this.#core.auditRefusal(req.capability, req.target, e, actor);
        throw e;
      }
      cred = this.#core.credentials.get(res.credentialId);
      if (req.credential !== null) {
        const named = this.#core.credentials.get(req.credential);
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
      if (req.credential === null) {
        const pick = await pickResourceCredential(this.#core.credentials, req.capability, req.target);
        cred = this.#core.credentials.get(pick.credentialId);
        picked = pick.why;
      } else cred = this.#core.credentials.get(req.credential);
      if (!this.#core.registry.supports(cred.provider, cred.mode, req.capability)) {
        const can = this.#core.registry.capabilitiesOf(cred.provider, cred.mode);
        throw new KeydeskError(
          'INPUT_INVALID',
          `"${printable(cred.name)}" (${cred.provider}/${cred.mode}) cannot run ${req.capability}${can.length ? `; it can run ${can.join(', ')}` : ''}.`,
          {
            fields: { capability: `Not a capability of ${cred.provider}` }
          }
        );
      }
    }
    const handler = await this.#core.registry.capabilityHandler(cred.provider, req.capability);
    const { scope, options } = runParams(this.#core.registry.spec(cred.provider), req, cred);
    const actionInput: ActionInput = { capability: req.capability, target: req.target, host: req.host, reason: req.reason, scope, options };
    const problem = handler.checkInput?.(actionInput, { mode: cred.mode });
    if (problem) throw new KeydeskError('INPUT_INVALID', problem, { fields: { [/scope/i.test(problem) ? 'scope' : 'target']: problem } });

    const id = newId();
    const key = dedupeKey({ ...req, scope }, cred.id);
    const firstSteps: StepEntry[] = [];
    const now = () => this.#core.vault.clock.now().toISOString();
    firstSteps.push({
      at: now(),
      message: binding
        ? `Routed ${req.host!.value} to "${cred.name}" (${cred.provider}/${cred.mode}) by its binding to ${binding.domain}.`
        : picked
          ? `Runs with "${cred.name}" (${cred.provider}/${cred.mode}): ${picked}.`
          : `Runs with "${cred.name}" (${cred.provider}/${cred.mode}), named by the ${actor.startsWith('agent:') ? 'agent' : 'analyst'}.`
    });
    if (scope !== null)
      firstSteps.push({ at: now(), message: `Scope: ${scope}${req.scope === null ? ' (the credential’s default)' : ''}.` });
    const record = (w: WriteContext) => {
      const evts: ExecutionEvent[] = [];
      const inEffectRun = inEffectRow(w.db, key);
      // A row edited in the file must not decide that this action is "already done" (nothing recorded if it fails).
      if (inEffectRun) assertExecutionIntact(w.vaultKey('header_mac'), inEffectRun, 'taken as the run already in effect');
      const inEffect = inEffectRun ? { id: inEffectRun.id, status: inEffectRun.status } : undefined;
      const live = this.#core.credentials.header(cred.id);
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
            params: paramsJson(scope, options),
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
          this.#core.must(
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
            this.#core.promptFacts(cred.id, live.name, cred.provider, cred.mode),
            deadline,
            live.status === 'expired' ? 'CREDENTIAL_EXPIRED' : 'CREDENTIAL_FAILED',
            message
          )
        );
        return { events: evts, claimed: false };
      }
      evts.push(
        this.#core.must(
          transition(w, id, 'pending', 'running', {
            actor,
            patch: { claimed_by: this.#core.ownerId, lease_until: this.#core.lease(w.now), attempts: 1 },
            steps: [{ at: w.now, message: `Started (credential status ${live.status}).` }]
          })
        )
      );
      return { events: evts, claimed: true };
    };
    let recorded: ReturnType<typeof record>;
    try {
      recorded = this.#core.vault.write(record);
    } catch (e) {
      if (e instanceof KeydeskError && e.code === 'EXECUTION_TAMPERED') this.#core.auditRefusal(req.capability, req.target, e, actor);
      throw e;
    }
    const { events, claimed } = recorded;
    this.#core.emit(events);
    this.#recovery.arm();
    if (!claimed) return this.#view(id);
    return this.execute(id, handler, cutoffMs);
  }

  /**
   * The record of the latest earlier identical run, when that run stopped part-way after recording it (failed, or
   * interrupted when its process died) and its row verifies: the prior state it saw is the true one, and what it
   * created is this run's to keep or undo.
   */
  #unfinished(row: ExecutionRow, step: (message: string) => void): JsonObject | null {
    const prev = latestEarlierRun(this.#core.vault.db, row.dedupe_key, row.id, row.created_at);
    if (!prev || prev.status !== 'failed' || prev.revert_context === null) return null;
    if (!executionIntact(this.#core.vault.vaultKey('header_mac'), prev)) {
      step(
        `Execution ${prev.id} stopped part-way, but its record was changed in the vault file, so it was not used: check the provider for what that run may have changed.`
      );
      return null;
    }
    step(
      `Continues execution ${prev.id}, which stopped part-way (${prev.marker === 'interrupted' ? 'its process stopped mid-call' : (prev.error_code ?? 'failed')}): its record of the prior state is kept, so a revert of this run restores the state before both.`
    );
    return revertContextOf(prev);
  }

  /** Executes a run this process has claimed (status running, claimed_by us). */
  async execute(id: string, handler?: CapabilityHandler, cutoffMs = this.#core.cutoffMs): Promise<ExecutionView> {
    this.#core.inFlight.add(id);
    const row = getRow(this.#core.vault, id)!;
    const steps: StepEntry[] = [];
    const step = (message: string) => steps.push({ at: this.#core.vault.clock.now().toISOString(), message });
    const failWith = (reason: FailureReason, code: string, message: string) =>
      this.#core.finish(id, (w) => [
        transition(w, id, 'running', 'failed', {
          owner: this.#core.ownerId,
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
      handler ??= await this.#core.registry.capabilityHandler(row.provider, row.capability as CapabilityId);
      if (!row.credential_id) {
        failWith('credential_invalid', 'NOT_FOUND', 'Its credential was removed. Nothing was done.');
        return this.#view(id);
      }
      if (!executionIntact(this.#core.vault.vaultKey('header_mac'), row)) {
        try {
          assertExecutionIntact(this.#core.vault.vaultKey('header_mac'), row, 'run');
        } catch (e) {
          failWith('input_invalid', 'EXECUTION_TAMPERED', (e as KeydeskError).message);
          return this.#view(id);
        }
      }
      let material: CredentialMaterial;
      try {
        material = this.#core.credentials.material(row.credential_id);
        if (material.provider !== row.provider || material.mode !== row.mode) {
          throw new KeydeskError(
            'HEADER_TAMPERED',
            `Execution ${id} names ${row.provider}/${row.mode}, but its credential is ${material.provider}/${material.mode}.`
          );
        }
      } catch (e) {
        if (e instanceof KeydeskError && TAMPER_CODES.has(e.code)) {
          failWith('credential_invalid', e.code, `${e.message} Nothing was sent to the provider.`);
          return this.#view(id);
        }
        if (e instanceof KeydeskError && e.code === 'KEY_ROTATED') {
          // Claimed, but the key changed under us before any call: say so (written at the next unlock), not "interrupted".
          failWith(
            'cloud_api_error',
            e.code,
            'The vault key was rotated by another Keydesk process as this run started. Nothing was sent to the provider: run it again.'
          );
          return this.#view(id);
        }
        throw e;
      }
      const call = openCall(this.#core.calls, { secrets: Object.values(material.secrets), signal: this.#core.aborter.signal });
      const ctx = this.#core.actionContext(
        material,
        call,
        steps,
        (revertContext) => {
          this.#core.vault.write((w) => {
            const r = getRow(w, id);
            if (!r || r.status !== 'running' || r.claimed_by !== this.#core.ownerId) return;
            const key = w.vaultKey('header_mac');
            assertExecutionIntact(key, r, 'continued'); // never bless a row edited in the file with a fresh MAC
            const json = JSON.stringify(revertContext);
            steps.push({ at: w.now, message: 'Revert context recorded.' });
            storeRevertContext(w, id, {
              revertContext: json,
              mac: executionMac(key, { ...r, revert_context: json }),
              steps: appendSteps(r.steps, steps.splice(0)),
              leaseUntil: this.#core.lease(w.now)
            });
          });
        },
        { run: row, previous: row.attempts > 1 ? revertContextOf(row) : handler.continuesUnfinished ? this.#unfinished(row, step) : null }
      );
      step(`Calling ${row.provider} for ${row.capability} on ${row.target}.`);
      let outcome:
        { ok: true; summary: string; details: JsonObject | undefined; revert: JsonObject } | { ok: false; failure: ActionFailure };
      try {
        const res = await handler.execute(ctx, this.#core.actionInput(row));
        outcome = {
          ok: true,
          summary: call.text(res.summary),
          details: res.details ? call.clean(res.details) : undefined,
          revert: call.clean(res.revertContext)
        };
      } catch (e) {
        if (e instanceof KeydeskError && e.code === 'VAULT_LOCKED') throw e;
        outcome = { ok: false, failure: actionFailure(e, call) };
      }
      if (outcome.ok) {
        const o = outcome;
        this.#core.finish(id, (w) => [
          this.#core.late(
            w,
            id,
            transition(w, id, 'running', 'succeeded', {
              owner: this.#core.ownerId,
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
        enterWait(this.#core, id, row, outcome.failure, steps, cutoffMs);
      } else {
        const f = outcome.failure;
        this.#core.finish(id, (w) => [
          this.#core.late(
            w,
            id,
            transition(w, id, 'running', 'failed', {
              owner: this.#core.ownerId,
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
      this.#core.inFlight.delete(id);
      throw e;
    }
    this.#recovery.arm();
    return this.#view(id);
  }
}
