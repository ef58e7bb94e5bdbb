import type { KeydeskEvents } from '../../preload/contract.ts';
import { KeydeskError } from '../errors.ts';
import { stmt, type Db } from '../vault/db.ts';
import type { WriteContext } from '../vault/vault.ts';
import { executionIntact, executionMac } from './integrity.ts';
import { IN_EFFECT_STATUSES, assertTransition, type ExecutionStatus, type FailureReason, type Marker } from './lifecycle.ts';
import { MAX_STEP_LENGTH, MAX_STEPS, parseSteps, type StepEntry } from './view.ts';
import { newId } from '../builtins.ts';

/**
 * The executions and re-auth prompt tables: every SQL statement on them lives here (no other module reads or writes
 * them). Rows, the queries the services ask, and the writes that move a run: every status change goes through
 * `transition` — a compare-and-set on the status (and, for a run in progress, on the process that claimed it) plus
 * its audit entry, inside the caller's vault.write.
 */

export type { StepEntry };

export interface ExecutionRow {
  id: string;
  capability: string;
  target: string;
  host_email: string | null;
  host_domain: string | null;
  reason: string;
  actor: string;
  actor_kind: 'analyst' | 'agent';
  credential_id: string | null;
  credential_name: string;
  provider: string;
  mode: string;
  binding_id: string | null;
  bound_domain: string | null;
  status: ExecutionStatus;
  failure_reason: FailureReason | null;
  marker: Marker | null;
  related_id: string | null;
  error_code: string | null;
  error_message: string | null;
  result: string | null;
  revert_context: string | null;
  steps: string;
  dedupe_key: string;
  deadline: string | null;
  attempts: number;
  claimed_by: string | null;
  lease_until: string | null;
  revert_claimed_by: string | null;
  revert_lease_until: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  reverted_at: string | null;
  /** HMAC over the columns that steer provider calls (integrity.ts); null on rows recorded before schema 4. */
  mac: Buffer | null;
  /** Scope and options as JSON (schema 5): `{"scope": …, "options": {…}}`, or null when the run has neither. */
  params: string | null;
}

export interface PromptRow {
  id: string;
  credential_id: string;
  state: 'pending' | 'resolved' | 'expired';
  reason_code: string;
  reason: string;
  raised_at: string;
  deadline: string;
  cleared_at: string | null;
}

export function appendSteps(current: string, add: readonly StepEntry[]): string {
  const steps = [
    ...parseSteps(current),
    ...add.map((s) => ({
      at: s.at,
      message: s.message.length > MAX_STEP_LENGTH ? `${s.message.slice(0, MAX_STEP_LENGTH - 1)}…` : s.message
    }))
  ];
  // Keep the first steps (what was asked) and the latest ones (what happened last) when a run is very chatty.
  const kept =
    steps.length > MAX_STEPS
      ? [
          ...steps.slice(0, 20),
          { at: steps[20]!.at, message: `… ${steps.length - MAX_STEPS} steps omitted …` },
          ...steps.slice(-(MAX_STEPS - 21))
        ]
      : steps;
  return JSON.stringify(kept);
}

export function getRow(w: Pick<WriteContext, 'db'>, id: string): ExecutionRow | undefined {
  return w.db.prepare('SELECT * FROM executions WHERE id = ?').get(id) as ExecutionRow | undefined;
}

export type ExecutionEvent =
  | { name: 'execution.changed'; payload: KeydeskEvents['execution.changed'] }
  | { name: 'reauth.prompt'; payload: KeydeskEvents['reauth.prompt'] };

/** Columns a transition may set besides status. */
export interface TransitionPatch {
  failure_reason?: FailureReason | null;
  marker?: Marker | null;
  related_id?: string | null;
  error_code?: string | null;
  error_message?: string | null;
  result?: string | null;
  revert_context?: string | null;
  deadline?: string | null;
  claimed_by?: string | null;
  lease_until?: string | null;
  revert_claimed_by?: string | null;
  revert_lease_until?: string | null;
  finished_at?: string | null;
  reverted_at?: string | null;
  credential_id?: string | null;
  attempts?: number;
}

const PATCHABLE = new Set<keyof TransitionPatch>([
  'failure_reason',
  'marker',
  'related_id',
  'error_code',
  'error_message',
  'result',
  'revert_context',
  'deadline',
  'claimed_by',
  'lease_until',
  'revert_claimed_by',
  'revert_lease_until',
  'finished_at',
  'reverted_at',
  'credential_id',
  'attempts'
]);

const AUDIT_OUTCOME: Record<ExecutionStatus, 'ok' | 'error' | 'failed' | 'denied'> = {
  pending: 'ok',
  running: 'ok',
  succeeded: 'ok',
  failed: 'failed',
  reverted: 'ok',
  revert_failed: 'failed',
  awaiting_reauth: 'error',
  expired_awaiting_reauth: 'failed'
};

/**
 * Moves run `id` from `from` to `to` — only if it is still `from` (and, with `owner`, still claimed by that
 * process): the compare-and-set that makes two processes act once. Appends `steps`, writes the audit entry and
 * returns the event to emit after the commit, or null when the run was no longer in `from` (someone else moved it).
 */
export function transition(
  w: WriteContext,
  id: string,
  from: ExecutionStatus,
  to: ExecutionStatus,
  opts: {
    patch?: TransitionPatch;
    steps?: readonly StepEntry[];
    owner?: string;
    revertOwner?: string;
    auditDetail?: Record<string, unknown>;
    actor?: string;
  } = {}
): ExecutionEvent | null {
  const patch = opts.patch ?? {};
  assertTransition(from, to, { failureReason: patch.failure_reason ?? null, marker: patch.marker ?? null });
  const row = getRow(w, id);
  if (!row) throw new KeydeskError('NOT_FOUND', `No execution ${id}.`);
  if (row.status !== from) return null;
  if (opts.owner !== undefined && row.claimed_by !== opts.owner) return null;
  if (opts.revertOwner !== undefined && row.revert_claimed_by !== opts.revertOwner) return null;
  const sets = ['status = ?', 'updated_at = ?', 'steps = ?'];
  const args: (string | number | null)[] = [to, w.now, appendSteps(row.steps, opts.steps ?? [])];
  for (const [k, v] of Object.entries(patch) as [keyof TransitionPatch, string | number | null | undefined][]) {
    if (v === undefined || !PATCHABLE.has(k)) continue;
    sets.push(`${k} = ?`);
    args.push(v);
  }
  const cas = ['id = ?', 'status = ?'];
  const casArgs: (string | null)[] = [id, from];
  if (opts.owner !== undefined) {
    cas.push('claimed_by IS ?');
    casArgs.push(opts.owner);
  }
  if (opts.revertOwner !== undefined) {
    cas.push('revert_claimed_by IS ?');
    casArgs.push(opts.revertOwner);
  }
  const changed = w.db.prepare(`UPDATE executions SET ${sets.join(', ')} WHERE ${cas.join(' AND ')}`).run(...args, ...casArgs).changes;
  if (changed !== 1) return null;
  const after = getRow(w, id)!;
  if (patch.revert_context !== undefined || patch.credential_id !== undefined) reseal(w, row, after);
  w.audit({
    action: `execution.${to}`,
    outcome: AUDIT_OUTCOME[to],
    credentialId: after.credential_id,
    credentialName: after.credential_name,
    ...(opts.actor ? { actor: opts.actor } : {}),
    detail: {
      execution_id: id,
      capability: after.capability,
      target: after.target,
      ...(after.host_email ? { host_email: after.host_email } : {}),
      ...(after.host_domain ? { host_domain: after.host_domain } : {}),
      from,
      to,
      ...(after.failure_reason && to === 'failed' ? { failure_reason: after.failure_reason } : {}),
      ...(after.marker && (to === 'failed' || to === 'revert_failed') ? { marker: after.marker } : {}),
      ...(after.related_id && after.marker === 'superseded' ? { superseded_by: after.related_id } : {}),
      ...(patch.error_code ? { error_code: patch.error_code } : {}),
      ...(to === 'awaiting_reauth' && after.deadline ? { deadline: after.deadline } : {}),
      ...(opts.auditDetail ?? {})
    }
  });
  return { name: 'execution.changed', payload: eventPayload(after, from) };
}

/**
 * Re-MACs a run whose steering columns this process just changed (the revert context it captured) — only if the row
 * verified before the change, so a row edited in the file is never blessed by the next legitimate write.
 */
export function reseal(w: Pick<WriteContext, 'db' | 'vaultKey'>, before: ExecutionRow, after: ExecutionRow): void {
  const key = w.vaultKey('header_mac');
  if (!executionIntact(key, before)) return;
  w.db.prepare('UPDATE executions SET mac = ? WHERE id = ?').run(executionMac(key, after), after.id);
}

export function eventPayload(r: ExecutionRow, previous: ExecutionStatus | null): KeydeskEvents['execution.changed'] {
  return {
    id: r.id,
    capability: r.capability,
    target: r.target,
    status: r.status,
    previous,
    credentialId: r.credential_id,
    failureReason: r.failure_reason,
    marker: r.marker,
    deadline: r.status === 'awaiting_reauth' ? r.deadline : null
  };
}

export interface NewRun {
  id: string;
  capability: string;
  target: string;
  hostEmail: string | null;
  hostDomain: string | null;
  reason: string;
  actor: string;
  credentialId: string;
  credentialName: string;
  provider: string;
  mode: string;
  bindingId: string | null;
  boundDomain: string | null;
  dedupeKey: string;
  /** Scope and options (RunParams as JSON), or null. */
  params: string | null;
  steps: StepEntry[];
  /** Set when an identical run is already in effect: the new run is recorded failed, superseded by it. */
  supersededBy?: { id: string; status: ExecutionStatus } | null;
}

export function actorKind(actor: string): 'analyst' | 'agent' {
  return actor.startsWith('agent:') ? 'agent' : 'analyst';
}

/** Records a new run (pending, or failed when superseded) with its audit entry. */
export function createRun(w: WriteContext, r: NewRun, actor: string): ExecutionEvent {
  const superseded = r.supersededBy ?? null;
  const status: ExecutionStatus = superseded ? 'failed' : 'pending';
  assertTransition(null, status, { marker: superseded ? 'superseded' : null });
  w.db
    .prepare(
      `INSERT INTO executions (id, capability, target, host_email, host_domain, reason, actor, actor_kind, credential_id, credential_name, provider, mode,
         binding_id, bound_domain, status, marker, related_id, error_code, error_message, steps, dedupe_key, params, created_at, updated_at, finished_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
    )
    .run(
      r.id,
      r.capability,
      r.target,
      r.hostEmail,
      r.hostDomain,
      r.reason,
      actor,
      actorKind(actor),
      r.credentialId,
      r.credentialName,
      r.provider,
      r.mode,
      r.bindingId,
      r.boundDomain,
      status,
      superseded ? 'superseded' : null,
      superseded?.id ?? null,
      superseded ? 'SUPERSEDED' : null,
      superseded
        ? `An identical run is already ${superseded.status === 'succeeded' || superseded.status === 'revert_failed' ? 'in effect' : 'under way'}: execution ${superseded.id} (${superseded.status}). Nothing was done twice.`
        : null,
      appendSteps('[]', r.steps),
      r.dedupeKey,
      r.params,
      w.now,
      w.now,
      superseded ? w.now : null
    );
  const row = getRow(w, r.id)!;
  w.db.prepare('UPDATE executions SET mac = ? WHERE id = ?').run(executionMac(w.vaultKey('header_mac'), row), r.id);
  w.audit({
    action: `execution.${status}`,
    outcome: superseded ? 'failed' : 'ok',
    actor,
    credentialId: r.credentialId,
    credentialName: r.credentialName,
    detail: {
      execution_id: r.id,
      capability: r.capability,
      target: r.target,
      ...(r.hostEmail ? { host_email: r.hostEmail } : {}),
      ...(r.hostDomain ? { host_domain: r.hostDomain } : {}),
      ...(r.boundDomain ? { bound_domain: r.boundDomain } : {}),
      ...(r.params ? { params: JSON.parse(r.params) as Record<string, unknown> } : {}),
      reason: r.reason,
      from: null,
      to: status,
      ...(superseded ? { marker: 'superseded', superseded_by: superseded.id } : {})
    }
  });
  return { name: 'execution.changed', payload: eventPayload(row, null) };
}

export interface PromptFacts {
  credentialId: string;
  credentialName: string;
  method: 'oauth' | 'secret';
}

export function waitingCount(w: Pick<WriteContext, 'db'>, credentialId: string, now: string): number {
  return (
    w.db
      .prepare("SELECT count(*) AS n FROM executions WHERE credential_id = ? AND status = 'awaiting_reauth' AND deadline > ?")
      .get(credentialId, now) as { n: number }
  ).n;
}

/** Raises the credential's re-auth prompt, or extends the pending one to the latest waiting deadline. */
export function raisePrompt(w: WriteContext, p: PromptFacts, deadline: string, reasonCode: string, reason: string): ExecutionEvent {
  const pending = w.db.prepare("SELECT * FROM reauth_prompts WHERE credential_id = ? AND state = 'pending'").get(p.credentialId) as
    PromptRow | undefined;
  let until = deadline;
  if (pending) {
    until = Date.parse(pending.deadline) > Date.parse(deadline) ? pending.deadline : deadline;
    w.db
      .prepare('UPDATE reauth_prompts SET deadline = ?, reason_code = ?, reason = ? WHERE id = ?')
      .run(until, reasonCode, reason, pending.id);
  } else {
    const id = newId();
    w.db
      .prepare(
        "INSERT INTO reauth_prompts (id, credential_id, state, reason_code, reason, raised_at, deadline) VALUES (?, ?, 'pending', ?, ?, ?, ?)"
      )
      .run(id, p.credentialId, reasonCode, reason, w.now, until);
    w.audit({
      action: 'reauth.prompt_raised',
      outcome: 'ok',
      credentialId: p.credentialId,
      credentialName: p.credentialName,
      detail: { prompt_id: id, reason_code: reasonCode, deadline: until }
    });
  }
  return {
    name: 'reauth.prompt',
    payload: {
      credentialId: p.credentialId,
      credentialName: p.credentialName,
      state: 'raised',
      deadline: until,
      waiting: waitingCount(w, p.credentialId, w.now),
      method: p.method
    }
  };
}

/** Clears the credential's pending prompt (resolved by re-authentication, or expired past the cutoff). */
export function clearPrompt(w: WriteContext, p: PromptFacts, state: 'resolved' | 'expired'): ExecutionEvent | null {
  const pending = w.db.prepare("SELECT * FROM reauth_prompts WHERE credential_id = ? AND state = 'pending'").get(p.credentialId) as
    PromptRow | undefined;
  if (!pending) return null;
  w.db.prepare('UPDATE reauth_prompts SET state = ?, cleared_at = ? WHERE id = ?').run(state, w.now, pending.id);
  w.audit({
    action: state === 'resolved' ? 'reauth.prompt_resolved' : 'reauth.prompt_expired',
    outcome: state === 'resolved' ? 'ok' : 'failed',
    credentialId: p.credentialId,
    credentialName: p.credentialName,
    detail: { prompt_id: pending.id, deadline: pending.deadline }
  });
  return {
    name: 'reauth.prompt',
    payload: {
      credentialId: p.credentialId,
      credentialName: p.credentialName,
      state,
      deadline: pending.deadline,
      waiting: waitingCount(w, p.credentialId, w.now),
      method: p.method
    }
  };
}

// ------------------------------------------------------------------------------------------ queries

/** At most two runs whose id starts with `prefix` (a unique prefix names a run, as in git). */
export function rowsByPrefix(db: Db, prefix: string): ExecutionRow[] {
  return stmt(db, "SELECT * FROM executions WHERE id LIKE ? || '%' LIMIT 2").all(prefix.toLowerCase()) as ExecutionRow[];
}

export interface RunFilter {
  status?: ExecutionStatus;
  credentialId?: string;
  limit: number;
  /** For effective statuses: a wait past its deadline is expired even before that is written. */
  now: string;
}

/** Runs, newest first. */
export function listRows(db: Db, f: RunFilter): ExecutionRow[] {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (f.status === 'awaiting_reauth') {
    where.push("status = 'awaiting_reauth' AND deadline > ?");
    args.push(f.now);
  } else if (f.status === 'expired_awaiting_reauth') {
    where.push("(status = 'expired_awaiting_reauth' OR (status = 'awaiting_reauth' AND deadline <= ?))");
    args.push(f.now);
  } else if (f.status !== undefined) {
    where.push('status = ?');
    args.push(f.status);
  }
  if (f.credentialId !== undefined) {
    where.push('credential_id = ?');
    args.push(f.credentialId);
  }
  const sql = `SELECT * FROM executions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, rowid DESC LIMIT ?`;
  return stmt(db, sql).all(...args, f.limit) as ExecutionRow[];
}

/** The run already in effect (or under way) with this dedupe key, oldest first. */
export function inEffectRow(db: Db, dedupeKey: string): ExecutionRow | undefined {
  return stmt(
    db,
    `SELECT * FROM executions WHERE dedupe_key = ? AND status IN (${IN_EFFECT_STATUSES.map(() => '?').join(', ')}) ORDER BY created_at LIMIT 1`
  ).get(dedupeKey, ...IN_EFFECT_STATUSES) as ExecutionRow | undefined;
}

/**
 * The latest earlier run with this dedupe key (same capability, credential, target, host, scope), superseded runs
 * aside: a run that stopped part-way leaves its record of the prior state here for the next one to continue.
 */
export function latestEarlierRun(db: Db, dedupeKey: string, id: string, createdAt: string): ExecutionRow | undefined {
  return stmt(
    db,
    "SELECT * FROM executions WHERE dedupe_key = ? AND id != ? AND created_at <= ? AND (marker IS NULL OR marker != 'superseded') ORDER BY created_at DESC, rowid DESC LIMIT 1"
  ).get(dedupeKey, id, createdAt) as ExecutionRow | undefined;
}

/** The runs still waiting on a credential before their deadline, oldest first. */
export function waitingRuns(
  db: Db,
  credentialId: string,
  now: string
): { id: string; capability: string; target: string; deadline: string }[] {
  return stmt(
    db,
    "SELECT id, capability, target, deadline FROM executions WHERE credential_id = ? AND status = 'awaiting_reauth' AND deadline > ? ORDER BY created_at, rowid"
  ).all(credentialId, now) as { id: string; capability: string; target: string; deadline: string }[];
}

/** Waits whose deadline has passed, or whose credential was removed. */
export function dueWaits(db: Db, now: string): Pick<ExecutionRow, 'id' | 'deadline' | 'credential_id' | 'revert_context'>[] {
  return stmt(
    db,
    "SELECT id, deadline, credential_id, revert_context FROM executions WHERE status = 'awaiting_reauth' AND (deadline <= ? OR credential_id IS NULL) ORDER BY deadline"
  ).all(now) as Pick<ExecutionRow, 'id' | 'deadline' | 'credential_id' | 'revert_context'>[];
}

/** The earliest deadline of a waiting run. */
export function nextDeadline(db: Db): string | null {
  return (stmt(db, "SELECT min(deadline) AS d FROM executions WHERE status = 'awaiting_reauth'").get() as { d: string | null }).d;
}

/** Runs recorded as running: who claimed them, until when. */
export function runningClaims(db: Db): Pick<ExecutionRow, 'id' | 'claimed_by' | 'lease_until'>[] {
  return stmt(db, "SELECT id, claimed_by, lease_until FROM executions WHERE status = 'running'").all() as Pick<
    ExecutionRow,
    'id' | 'claimed_by' | 'lease_until'
  >[];
}

/** Reverts in progress: who claimed them, until when. */
export function revertClaims(db: Db): Pick<ExecutionRow, 'id' | 'status' | 'revert_claimed_by' | 'revert_lease_until'>[] {
  return stmt(
    db,
    "SELECT id, status, revert_claimed_by, revert_lease_until FROM executions WHERE revert_claimed_by IS NOT NULL AND status IN ('succeeded', 'revert_failed')"
  ).all() as Pick<ExecutionRow, 'id' | 'status' | 'revert_claimed_by' | 'revert_lease_until'>[];
}

/** Claims a revert for this process (inside the caller's write, after its checks). */
export function claimRevert(w: Pick<WriteContext, 'db' | 'now'>, id: string, owner: string, leaseUntil: string): void {
  stmt(w.db, 'UPDATE executions SET revert_claimed_by = ?, revert_lease_until = ?, updated_at = ? WHERE id = ?').run(
    owner,
    leaseUntil,
    w.now,
    id
  );
}

/**
 * Gives up a revert claim without changing the run's status (a revert refused over drift: the run is still in effect),
 * with its steps and an audit entry saying what differed. Only the claimant releases it.
 */
export function releaseRevert(
  w: WriteContext,
  id: string,
  owner: string,
  steps: readonly StepEntry[],
  audit: { actor: string; differences: readonly string[] }
): ExecutionEvent | null {
  const r = getRow(w, id);
  if (!r || r.revert_claimed_by !== owner) return null;
  stmt(
    w.db,
    'UPDATE executions SET revert_claimed_by = NULL, revert_lease_until = NULL, steps = ?, updated_at = ? WHERE id = ? AND revert_claimed_by = ?'
  ).run(appendSteps(r.steps, steps), w.now, id, owner);
  w.audit({
    action: 'execution.revert_refused',
    outcome: 'denied',
    actor: audit.actor,
    credentialId: r.credential_id,
    credentialName: r.credential_name,
    detail: {
      execution_id: id,
      capability: r.capability,
      target: r.target,
      error_code: 'REVERT_DRIFT',
      differences: [...audit.differences]
    }
  });
  return { name: 'execution.changed', payload: eventPayload(getRow(w, id)!, r.status) };
}

/** Stores a running run's revert context (with its new MAC), the steps so far, and renews its lease. */
export function storeRevertContext(
  w: Pick<WriteContext, 'db' | 'now'>,
  id: string,
  change: { revertContext: string; mac: Buffer; steps: string; leaseUntil: string }
): void {
  stmt(w.db, 'UPDATE executions SET revert_context = ?, mac = ?, steps = ?, lease_until = ?, updated_at = ? WHERE id = ?').run(
    change.revertContext,
    change.mac,
    change.steps,
    change.leaseUntil,
    w.now,
    id
  );
}

/** Appends steps without changing the status (a late result another process already closed). */
export function setSteps(w: Pick<WriteContext, 'db' | 'now'>, id: string, steps: string): void {
  stmt(w.db, 'UPDATE executions SET steps = ?, updated_at = ? WHERE id = ?').run(steps, w.now, id);
}

/** Credentials with a pending prompt, oldest prompt first. */
export function pendingPrompts(db: Db): PromptRow[] {
  return stmt(db, "SELECT * FROM reauth_prompts WHERE state = 'pending' ORDER BY raised_at").all() as PromptRow[];
}
