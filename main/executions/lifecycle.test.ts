import { describe, expect, it } from 'vitest';
import { EXECUTION_STATUSES, assertTransition, canTransition, effectiveStatus, parseDuration, type ExecutionStatus } from './lifecycle.ts';
import { claimAbandoned, formatOwner, parseOwner, type Owner } from './owner.ts';

/** DESIGN.md, "Executions and re-authentication", transcribed independently of lifecycle.ts. */
const DESIGN: [ExecutionStatus, ExecutionStatus][] = [
  ['pending', 'running'],
  ['running', 'succeeded'],
  ['running', 'failed'],
  ['pending', 'awaiting_reauth'],
  ['running', 'awaiting_reauth'],
  ['awaiting_reauth', 'running'],
  ['awaiting_reauth', 'expired_awaiting_reauth'],
  ['succeeded', 'reverted'],
  ['succeeded', 'revert_failed'],
  ['revert_failed', 'reverted'],
  ['revert_failed', 'revert_failed']
];

describe('the execution lifecycle', () => {
  it('allows exactly the transitions DESIGN.md lists, and no other pair', () => {
    for (const from of EXECUTION_STATUSES) {
      for (const to of EXECUTION_STATUSES) {
        const allowed = DESIGN.some(([f, t]) => f === from && t === to);
        expect(canTransition(from, to), `${from} → ${to}`).toBe(allowed);
      }
    }
  });

  it('creates runs as pending, or as failed only when superseded', () => {
    expect(canTransition(null, 'pending')).toBe(true);
    expect(() => assertTransition(null, 'failed', { marker: 'superseded' })).not.toThrow();
    expect(() => assertTransition(null, 'failed', { failureReason: 'cloud_api_error' })).toThrow(
      expect.objectContaining({ code: 'EXECUTION_CONFLICT' })
    );
    for (const s of ['running', 'succeeded', 'awaiting_reauth', 'reverted'] as const) expect(canTransition(null, s)).toBe(false);
  });

  it('a failed run must say why; no other status carries a failure reason', () => {
    expect(() => assertTransition('running', 'failed')).toThrow(/failure reason/);
    expect(() => assertTransition('running', 'failed', { failureReason: 'inventory_not_found' })).not.toThrow();
    expect(() => assertTransition('running', 'failed', { marker: 'interrupted' })).not.toThrow();
    expect(() => assertTransition('running', 'succeeded', { failureReason: 'cloud_api_error' })).toThrow(
      expect.objectContaining({ code: 'EXECUTION_CONFLICT' })
    );
  });

  it('final statuses say they are final', () => {
    expect(() => assertTransition('reverted', 'running')).toThrow(/reverted is final/);
    expect(() => assertTransition('expired_awaiting_reauth', 'running')).toThrow(/final/);
    expect(() => assertTransition('failed', 'running')).toThrow(/final/);
  });

  it('a wait is over at its deadline even before that is written (locked vault)', () => {
    const now = new Date('2026-01-01T12:00:00Z');
    expect(effectiveStatus('awaiting_reauth', '2026-01-01T12:00:01Z', now)).toBe('awaiting_reauth');
    expect(effectiveStatus('awaiting_reauth', '2026-01-01T12:00:00Z', now)).toBe('expired_awaiting_reauth');
    expect(effectiveStatus('succeeded', '2026-01-01T11:00:00Z', now)).toBe('succeeded');
  });

  it('reads cutoff durations and refuses nonsense', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('45')).toBe(45_000);
    for (const bad of ['', '0s', '500ms', '8d', '1 h', '-1h', 'soon', '1e3'])
      expect(() => parseDuration(bad)).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
  });
});

describe('who owns a running execution', () => {
  const me: Owner = { host: 'box', pid: 100, nonce: 'aaaa' };
  const now = new Date('2026-01-01T12:00:00Z');
  const future = '2026-01-01T12:05:00Z';
  const past = '2026-01-01T11:55:00Z';
  const alive = (pid: number) => pid === 200;

  it('round-trips the owner string', () => {
    expect(parseOwner(formatOwner(me))).toEqual(me);
    expect(parseOwner('garbage')).toBeNull();
  });

  it('our own claim is abandoned only when we no longer track the run', () => {
    expect(claimAbandoned(formatOwner(me), future, me, now, true, alive)).toBe(false);
    expect(claimAbandoned(formatOwner(me), future, me, now, false, alive)).toBe(true);
  });

  it('another process on this machine: abandoned when it is gone or its lease ran out', () => {
    expect(claimAbandoned('box|200|bbbb', future, me, now, false, alive)).toBe(false);
    expect(claimAbandoned('box|300|bbbb', future, me, now, false, alive)).toBe(true);
    expect(claimAbandoned('box|200|bbbb', past, me, now, false, alive)).toBe(true);
  });

  it('pid reuse: a claim by an earlier process that had our pid is abandoned at once; a live reused pid waits out the lease', () => {
    expect(claimAbandoned('box|100|cccc', future, me, now, false, () => true)).toBe(true); // we are pid 100 now
    expect(claimAbandoned('box|200|dead', future, me, now, false, alive)).toBe(false); // pid 200 reused by a live process…
    expect(claimAbandoned('box|200|dead', past, me, now, false, alive)).toBe(true); // …only until the lease runs out
  });

  it('another machine: only the lease decides (its pids mean nothing here)', () => {
    expect(claimAbandoned('other|300|bbbb', future, me, now, false, alive)).toBe(false);
    expect(claimAbandoned('other|200|bbbb', past, me, now, false, alive)).toBe(true);
  });

  it('an unreadable claim is abandoned', () => {
    expect(claimAbandoned(null, future, me, now, false, alive)).toBe(true);
    expect(claimAbandoned('x', future, me, now, false, alive)).toBe(true);
  });
});
