import type { ExecutionStatusName } from '../../../preload/contract.ts';

const LABEL: Record<ExecutionStatusName, { text: string; tone: 'ok' | 'failed' | 'expired' | 'unknown' }> = {
  pending: { text: 'Pending', tone: 'unknown' },
  running: { text: 'Running', tone: 'unknown' },
  succeeded: { text: 'Succeeded', tone: 'ok' },
  failed: { text: 'Failed', tone: 'failed' },
  reverted: { text: 'Reverted', tone: 'unknown' },
  revert_failed: { text: 'Revert failed', tone: 'failed' },
  awaiting_reauth: { text: 'Waiting for re-auth', tone: 'expired' },
  expired_awaiting_reauth: { text: 'Re-auth window passed', tone: 'failed' }
};

/** A run's status as text (colour only repeats it). */
export function ExecutionStatus({ status }: { status: ExecutionStatusName }) {
  const l = LABEL[status];
  return <span className={`chip chip-${l.tone}`}>{l.text}</span>;
}
