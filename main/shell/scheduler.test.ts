import { describe, expect, it } from 'vitest';
import type { Clock } from '../clock.ts';
import { createScheduler } from './scheduler.ts';

function movableClock(start = Date.parse('2026-01-01T00:00:00Z')) {
  let t = start;
  const clock: Clock = { now: () => new Date(t) };
  return { clock, advance: (ms: number) => void (t += ms) };
}

describe('background scheduler', () => {
  it('runs each task at its interval, measured on the injected clock', async () => {
    const { clock, advance } = movableClock();
    const s = createScheduler({ clock, isUnlocked: () => true });
    const runs: string[] = [];
    s.add({ name: 'refresh', everyMs: 60_000, needsUnlock: true, run: () => void runs.push('refresh') });
    s.add({ name: 'deadlines', everyMs: 10_000, needsUnlock: false, firstAfterMs: 0, run: () => void runs.push('deadlines') });
    expect(await s.tick()).toEqual(['deadlines']);
    advance(9_999);
    expect(await s.tick()).toEqual([]);
    advance(1);
    expect(await s.tick()).toEqual(['deadlines']);
    advance(50_000);
    expect(await s.tick()).toEqual(['refresh', 'deadlines']);
    expect(runs).toEqual(['deadlines', 'deadlines', 'refresh', 'deadlines']);
  });

  it('skips everything that needs a secret while locked, and runs it at the first tick after unlock', async () => {
    const { clock, advance } = movableClock();
    let unlocked = false;
    const s = createScheduler({ clock, isUnlocked: () => unlocked });
    const runs: string[] = [];
    s.add({ name: 'validate', everyMs: 1000, needsUnlock: true, run: () => void runs.push('validate') });
    s.add({ name: 'deadlines', everyMs: 1000, needsUnlock: false, run: () => void runs.push('deadlines') });
    advance(5000);
    expect(await s.tick()).toEqual(['deadlines']);
    expect(s.waitingForUnlock).toEqual(['validate']);
    unlocked = true;
    expect(await s.tick()).toEqual(['validate']);
    expect(s.waitingForUnlock).toEqual([]);
    expect(runs).toEqual(['deadlines', 'validate']);
  });

  it('never overlaps a task with itself, and a failure does not stop the next run', async () => {
    const { clock, advance } = movableClock();
    const logs: string[] = [];
    const s = createScheduler({ clock, isUnlocked: () => true, log: (l) => logs.push(l) });
    let release: () => void = () => {};
    let started = 0;
    s.add({
      name: 'slow',
      everyMs: 1000,
      needsUnlock: false,
      run: () => {
        started++;
        return new Promise<void>((r) => (release = r));
      }
    });
    let fails = 0;
    s.add({
      name: 'flaky',
      everyMs: 1000,
      needsUnlock: false,
      run: () => {
        fails++;
        throw new TypeError('token CANARY-sched in message');
      }
    });
    advance(1000);
    const first = s.tick();
    advance(1000);
    expect(await s.tick()).toEqual(['flaky']); // slow is still running
    release();
    await first;
    advance(1000);
    const third = s.tick();
    release();
    expect(await third).toEqual(['slow', 'flaky']);
    expect(started).toBe(2);
    expect(fails).toBe(3);
    expect(logs).toEqual([
      'scheduled task flaky failed: TypeError',
      'scheduled task flaky failed: TypeError',
      'scheduled task flaky failed: TypeError'
    ]);
  });
});
