import { EXECUTION_STATUSES, type ExecutionStatus } from '../../preload/statuses.ts';
import { KeydeskError } from '../errors.ts';

export { EXECUTION_STATUSES, type ExecutionStatus };

/**
 * The execution lifecycle of DESIGN.md ("Executions and re-authentication"), as data and pure functions. Every
 * status change the service writes goes through `assertTransition`; nothing else may move a run.
 *
 *   pending → running → succeeded | failed
 *   pending | running → awaiting_reauth           (credential failed/expired, or the provider rejected it)
 *   awaiting_reauth → running                     (re-authenticated: the same execution resumes)
 *   awaiting_reauth → expired_awaiting_reauth     (the cutoff window passed)
 *   succeeded → reverted | revert_failed
 *   revert_failed → reverted | revert_failed      (retry)
 *
 * A run is created `pending`, or directly `failed` when it is superseded by an identical run already in effect.
 */

export const FAILURE_REASONS = ['credential_invalid', 'cloud_api_error', 'inventory_not_found', 'input_invalid'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export const MARKERS = ['superseded', 'interrupted'] as const;
export type Marker = (typeof MARKERS)[number];

export const TRANSITIONS: Readonly<Record<ExecutionStatus, readonly ExecutionStatus[]>> = {
  pending: ['running', 'awaiting_reauth'],
  running: ['succeeded', 'failed', 'awaiting_reauth'],
  awaiting_reauth: ['running', 'expired_awaiting_reauth'],
  succeeded: ['reverted', 'revert_failed'],
  revert_failed: ['reverted', 'revert_failed'],
  failed: [],
  reverted: [],
  expired_awaiting_reauth: []
};

/** Statuses a run is created in (`failed` only as a superseded duplicate). */
export const INITIAL_STATUSES: readonly ExecutionStatus[] = ['pending', 'failed'];

/** A run whose effect holds or may yet happen: an identical new run is superseded by it instead of acting twice. */
export const IN_EFFECT_STATUSES: readonly ExecutionStatus[] = ['pending', 'running', 'awaiting_reauth', 'succeeded', 'revert_failed'];

/** Statuses from which a revert may start. */
export const REVERTIBLE_STATUSES: readonly ExecutionStatus[] = ['succeeded', 'revert_failed'];

export function isExecutionStatus(v: unknown): v is ExecutionStatus {
  return typeof v === 'string' && (EXECUTION_STATUSES as readonly string[]).includes(v);
}

export function canTransition(from: ExecutionStatus | null, to: ExecutionStatus): boolean {
  return from === null ? INITIAL_STATUSES.includes(to) : TRANSITIONS[from].includes(to);
}

/**
 * Throws EXECUTION_CONFLICT unless `from → to` is one of DESIGN.md's transitions (`from` null = creation). A failed
 * run must say why (a failure reason, or the superseded / interrupted marker); other statuses carry no failure reason.
 */
export function assertTransition(
  from: ExecutionStatus | null,
  to: ExecutionStatus,
  facts: { failureReason?: FailureReason | null; marker?: Marker | null } = {}
): void {
  if (!canTransition(from, to)) {
    throw new KeydeskError(
      'EXECUTION_CONFLICT',
      from === null
        ? `A run cannot start as ${to}.`
        : `A run that is ${from} cannot become ${to}${TRANSITIONS[from].length ? ` (from ${from} it can become ${TRANSITIONS[from].join(' or ')})` : ` (${from} is final)`}.`
    );
  }
  if (from === null && to === 'failed' && facts.marker !== 'superseded')
    throw new KeydeskError('EXECUTION_CONFLICT', 'Only a superseded run is created as failed.');
  if (to === 'failed' && !facts.failureReason && !facts.marker)
    throw new KeydeskError('EXECUTION_CONFLICT', 'A failed run needs a failure reason or a marker (superseded, interrupted).');
  if (to !== 'failed' && facts.failureReason)
    throw new KeydeskError('EXECUTION_CONFLICT', `Only a failed run has a failure reason (not ${to}).`);
}

export function isFinal(s: ExecutionStatus): boolean {
  return TRANSITIONS[s].length === 0;
}

/**
 * What a run's status is at `now`. A wait whose deadline passed is over even if no process has written that yet —
 * the vault may be locked, and every transition carries an audit entry MAC'd with a key only the unlocked vault has.
 * Listings show this; the transition itself is written at the next unlock (DESIGN.md: deadlines still apply while
 * locked).
 */
export function effectiveStatus(status: ExecutionStatus, deadline: string | null, now: Date): ExecutionStatus {
  if (status === 'awaiting_reauth' && deadline !== null && Date.parse(deadline) <= now.getTime()) return 'expired_awaiting_reauth';
  return status;
}

/** Human durations for the cutoff window: "90s", "30m", "1h", "2d" (or a bare number of seconds). */
export function parseDuration(input: unknown, field = 'cutoff'): number {
  const s = typeof input === 'string' ? input.trim() : typeof input === 'number' ? String(input) : '';
  const m = /^(\d{1,7})(ms|s|m|h|d)?$/.exec(s);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
  const ms = m ? Number(m[1]) * unit[(m[2] ?? 's') as keyof typeof unit] : NaN;
  if (!Number.isFinite(ms) || ms < 1000 || ms > 7 * 86_400_000) {
    throw new KeydeskError('INPUT_INVALID', `The ${field} is a duration from 1s to 7d, such as 90s, 30m, 1h or 2d.`, {
      fields: { [field]: 'Use a duration such as 30m or 1h' }
    });
  }
  return ms;
}

/** One hour: how long a run waits for re-authentication unless configured otherwise. */
export const DEFAULT_REAUTH_CUTOFF_MS = 3_600_000;
