import { KeydeskError } from '../errors.ts';
import { actionFailure, openCall } from '../providers/call.ts';
import type { CapabilityId } from '../providers/capabilities.ts';
import { RevertDrift } from '../providers/plugin.ts';
import { printable } from '../text.ts';
import type { CredentialMaterial } from '../vault/credential-store.ts';
import { CREDENTIAL_BLOCKING, type ExecutionCore } from './core.ts';
import { assertExecutionIntact } from './integrity.ts';
import { REVERTIBLE_STATUSES } from './lifecycle.ts';
import { claimAbandoned } from './owner.ts';
import { claimRevert, getRow, releaseRevert, transition, type ExecutionRow } from './store.ts';
import { executionView, revertContextOf, type ExecutionView, type StepEntry } from './view.ts';

/**
 * Revert: undoes a succeeded run (or retries a failed revert) from the revert context captured before its provider
 * call. The revert is claimed like a run (compare-and-set on the row, a lease), so two processes never revert twice,
 * and it acts only on a row whose MAC verifies.
 */
export async function revertRun(core: ExecutionCore, idInput: string, opts: { force?: boolean } = {}): Promise<ExecutionView> {
  core.vault.requireUnlocked();
  const row = core.findRow(idInput);
  const id = row.id;
  const view = () => executionView(getRow(core.vault, id)!, core.vault.clock.now());
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
  const cred = core.credentials.get(row.credential_id);
  if (CREDENTIAL_BLOCKING.has(cred.status)) {
    throw new KeydeskError(
      'CREDENTIAL_NOT_READY',
      `"${printable(cred.name)}" is ${cred.status}: re-authenticate it (keydesk reauth "${printable(cred.name)}"), then revert again. Nothing was changed.`
    );
  }
  const capability = row.capability as CapabilityId;
  const handler = await core.registry.capabilityHandler(row.provider, capability);
  const from = row.status;
  let verified: ExecutionRow | null;
  try {
    verified = core.vault.write((w) => {
      const r = getRow(w, id)!;
      if (r.status !== from || r.provider !== row.provider || r.capability !== row.capability || r.credential_id !== row.credential_id)
        return null;
      if (
        r.revert_claimed_by !== null &&
        !claimAbandoned(r.revert_claimed_by, r.revert_lease_until, core.owner, new Date(w.now), core.inFlight.has(id))
      )
        return null;
      // The revert acts on what this row says (credential, target, host, revert context): only if it is authentic.
      assertExecutionIntact(w.vaultKey('header_mac'), r, 'reverted');
      claimRevert(w, id, core.ownerId, core.lease(w.now));
      return r;
    });
  } catch (e) {
    if (e instanceof KeydeskError && e.code === 'EXECUTION_TAMPERED') core.auditRefusal(capability, row.target, e, core.vault.actor, id);
    throw e;
  }
  if (!verified)
    throw new KeydeskError('EXECUTION_CONFLICT', `A revert of execution ${id} is already in progress (or the run changed meanwhile).`);
  const claimedRow = verified;
  core.inFlight.add(id);
  const steps: StepEntry[] = [];
  let material: CredentialMaterial;
  try {
    material = core.materialFor(claimedRow);
  } catch (e) {
    const code = e instanceof KeydeskError ? e.code : 'INTERNAL';
    const message = e instanceof KeydeskError ? e.message : 'The credential could not be opened.';
    core.finish(id, (w) => [
      transition(w, id, from, 'revert_failed', {
        revertOwner: core.ownerId,
        patch: { error_code: code, error_message: message, revert_claimed_by: null, revert_lease_until: null },
        steps: [{ at: w.now, message: `Revert failed (${code}): ${message}` }]
      })
    ]);
    return view();
  }
  const call = openCall(core.calls, { secrets: Object.values(material.secrets), signal: core.aborter.signal });
  const ctx = core.actionContext(material, call, steps, () => undefined, { run: claimedRow, force: opts.force === true });
  const revertContext = revertContextOf(claimedRow) ?? {};
  try {
    steps.push({ at: core.nowIso(), message: `Reverting ${claimedRow.capability} on ${claimedRow.target}.` });
    const res = await handler.revert(ctx, revertContext, core.actionInput(claimedRow));
    const summary = call.text(res.summary);
    core.finish(id, (w) => [
      transition(w, id, from, 'reverted', {
        revertOwner: core.ownerId,
        patch: { error_code: null, error_message: null, revert_claimed_by: null, revert_lease_until: null, reverted_at: w.now },
        steps: [...steps.splice(0), { at: w.now, message: `Reverted: ${summary}` }]
      })
    ]);
  } catch (e) {
    if (e instanceof KeydeskError && e.code === 'VAULT_LOCKED') throw e;
    if (e instanceof RevertDrift) {
      // The resource changed since the run: reverting would overwrite someone's change. Nothing was changed; the run
      // stays in effect, and the analyst decides (keydesk revert --force, or the app's confirm step).
      const differences = e.differences.map((d) => call.text(d));
      core.finish(id, (w) => [
        releaseRevert(w, id, core.ownerId, [...steps.splice(0), { at: w.now, message: `Revert refused: ${differences.join('; ')}.` }], {
          actor: core.vault.actor,
          differences
        })
      ]);
      throw new KeydeskError(
        'REVERT_DRIFT',
        `Not reverted: ${claimedRow.target} changed since execution ${id.slice(0, 8)} ran — ${differences.join('; ')}. Reverting would overwrite that change. Nothing was changed. Check the resource; to revert anyway: keydesk revert ${id.slice(0, 8)} --force (in the app: Revert anyway).`
      );
    }
    const f = actionFailure(e, call);
    core.finish(id, (w) => {
      if (f.kind === 'reauth') {
        const live = core.credentials.header(row.credential_id!);
        if (live && !CREDENTIAL_BLOCKING.has(live.status)) {
          core.credentials.recordHealth(
            live.id,
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
          revertOwner: core.ownerId,
          patch: { error_code: f.code, error_message: `${f.message}${hint}`, revert_claimed_by: null, revert_lease_until: null },
          steps: [...steps.splice(0), { at: w.now, message: `Revert failed (${f.code}): ${f.message}` }]
        })
      ];
    });
  }
  return view();
}
