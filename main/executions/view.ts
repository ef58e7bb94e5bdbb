import type { ExecutionView, PromptView } from '../../preload/contract.ts';
import type { JsonObject } from '../providers/plugin.ts';
import { REVERTIBLE_STATUSES, effectiveStatus } from './lifecycle.ts';
import type { ExecutionRow, PromptRow } from './store.ts';

/**
 * The outward shape of a run and of a re-auth prompt: produced here once, and used by IPC answers, CLI --json and
 * every later surface alike (the contract's ExecutionView and PromptView). Pure.
 */

export type { ExecutionView, PromptView };

export interface StepEntry {
  at: string;
  message: string;
}

export const MAX_STEPS = 200;
export const MAX_STEP_LENGTH = 500;

function parseJson<T>(s: string | null, fallback: T): T {
  if (s === null) return fallback;
  try {
    return JSON.parse(s) as T;
  } catch {
    return fallback;
  }
}

export function parseSteps(s: string): StepEntry[] {
  const v = parseJson<unknown>(s, []);
  return Array.isArray(v)
    ? (v.filter((x) => x && typeof x === 'object' && typeof (x as StepEntry).message === 'string') as StepEntry[])
    : [];
}

/** A run as every surface shows it (IPC answers, `keydesk … --json`): the contract's ExecutionView. */
export function executionView(r: ExecutionRow, now: Date): ExecutionView {
  const status = effectiveStatus(r.status, r.deadline, now);
  return {
    id: r.id,
    capability: r.capability,
    target: r.target,
    hostEmail: r.host_email,
    hostDomain: r.host_domain,
    reason: r.reason,
    actor: r.actor,
    actorKind: r.actor_kind,
    credentialId: r.credential_id,
    credentialName: r.credential_name,
    provider: r.provider,
    mode: r.mode,
    bindingId: r.binding_id,
    boundDomain: r.bound_domain,
    status,
    statusRecorded: status === r.status,
    failureReason: r.failure_reason,
    marker: r.marker,
    relatedId: r.related_id,
    error: r.error_code ? { code: r.error_code, message: r.error_message ?? '' } : null,
    result: parseJson<ExecutionView['result']>(r.result, null),
    revertContext: revertContextOf(r),
    ...paramsOf(r),
    steps: parseSteps(r.steps),
    deadline: r.status === 'awaiting_reauth' || r.status === 'expired_awaiting_reauth' ? r.deadline : null,
    attempts: r.attempts,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
    revertedAt: r.reverted_at,
    revertible: REVERTIBLE_STATUSES.includes(r.status)
  };
}

/** What the run captured to undo itself (ids, names, prior states), as the capability handlers take it. */
/** A run's scope and options, from its params column (null and none for runs that have neither). */
export function paramsOf(r: Pick<ExecutionRow, 'params'>): { scope: string | null; options: Record<string, boolean> } {
  const p = parseJson<{ scope?: unknown; options?: unknown } | null>(r.params, null);
  const options: Record<string, boolean> = {};
  if (p?.options && typeof p.options === 'object')
    for (const [k, v] of Object.entries(p.options)) if (typeof v === 'boolean') options[k] = v;
  return { scope: typeof p?.scope === 'string' ? p.scope : null, options };
}

export function revertContextOf(r: Pick<ExecutionRow, 'revert_context'>): JsonObject | null {
  return parseJson<JsonObject | null>(r.revert_context, null);
}

/**
 * What a run that ended before completing (its wait expired) may have left at the provider. Handlers capture their
 * revert context before any call that changes something, so a run without one changed nothing. With one, the earlier
 * attempt reached the provider: records marked `created` (a Gmail filter made in some mailboxes of a domain-wide
 * block) are named; otherwise the change is possible but unknown.
 */
export function leftBehind(revertContext: string | Record<string, unknown> | null): string | null {
  const rc = typeof revertContext === 'string' ? parseJson<unknown>(revertContext, null) : revertContext;
  if (rc === null || typeof rc !== 'object') return null;
  const created: string[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 4 || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) return v.forEach((x) => walk(x, depth + 1));
    const o = v as Record<string, unknown>;
    if (o.created === true)
      created.push(
        ['mailbox', 'id', 'identity', 'entry_id', 'rule_id']
          .map((k) => (typeof o[k] === 'string' ? (o[k] as string) : ''))
          .filter(Boolean)
          .join(' ')
      );
    for (const x of Object.values(o)) if (x && typeof x === 'object') walk(x, depth + 1);
  };
  walk(rc, 0);
  if (created.length > 0) {
    const named = created.slice(0, 5).join(', ') + (created.length > 5 ? ` and ${created.length - 5} more` : '');
    return `Its earlier attempt already created ${created.length} item(s) at the provider before the credential was rejected (${named}); they stay in place: remove them there by hand (the revert context lists them).`;
  }
  return 'Its earlier attempt reached the provider before the credential was rejected and may have changed part of it: check the provider (the revert context records the prior state).';
}

/** A pending prompt with the runs waiting on it (`waiting` non-empty, oldest first) and what its credential is. */
export function promptView(
  p: PromptRow,
  credential: { name: string; provider: string; mode: string },
  method: PromptView['method'],
  waiting: PromptView['waiting']
): PromptView {
  return {
    id: p.id,
    credentialId: p.credential_id,
    credentialName: credential.name,
    provider: credential.provider,
    mode: credential.mode,
    method,
    reasonCode: p.reason_code,
    reason: p.reason,
    raisedAt: p.raised_at,
    deadline: waiting.reduce((m, x) => (x.deadline > m ? x.deadline : m), waiting[0]!.deadline),
    waiting: waiting.map((w) => ({ id: w.id, capability: w.capability, target: w.target, deadline: w.deadline }))
  };
}
