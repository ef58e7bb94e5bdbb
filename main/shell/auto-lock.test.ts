import { describe, expect, it } from 'vitest';
import { createAutoLock, type LockReason } from './auto-lock.ts';

function harness(idle: number, minutes = 15) {
  const state = { idle, unlocked: true, minutes, screenLocked: false, locks: [] as LockReason[] };
  const al = createAutoLock({
    idleSeconds: () => state.idle,
    screenLocked: () => state.screenLocked,
    isUnlocked: () => state.unlocked,
    minutes: () => state.minutes,
    lock: (r) => {
      state.locks.push(r);
      state.unlocked = false;
    }
  });
  return { state, al };
}

describe('auto-lock', () => {
  it('locks once idle time reaches the limit (default 15 minutes), not before', async () => {
    const { state, al } = harness(15 * 60 - 1);
    expect(await al.check()).toBeNull();
    state.idle = 15 * 60;
    expect(await al.check()).toBe('idle');
    expect(state.locks).toEqual(['idle']);
    expect(await al.check()).toBeNull(); // already locked: nothing more
  });

  it('locks on OS suspend and on screen lock, whatever the idle time', async () => {
    const { state, al } = harness(0);
    expect(await al.onSystemEvent('suspend')).toBe('suspend');
    state.unlocked = true;
    expect(await al.onSystemEvent('lock-screen')).toBe('lock-screen');
    expect(state.locks).toEqual(['suspend', 'lock-screen']);
  });

  it('0 minutes turns idle locking off; a nonsense idle reading never locks', async () => {
    const off = harness(10_000, 0);
    expect(await off.al.check()).toBeNull();
    const nan = harness(Number.NaN);
    expect(await nan.al.check()).toBeNull();
    expect(off.state.locks).toEqual([]);
  });

  it('a screen the OS reports locked locks the vault at the next check (Linux has no lock-screen event), even with idle locking off', async () => {
    const { state, al } = harness(0, 0);
    expect(await al.check()).toBeNull();
    state.screenLocked = true;
    expect(await al.check()).toBe('lock-screen');
    expect(await al.check()).toBeNull(); // already locked
    expect(state.locks).toEqual(['lock-screen']);
  });
});
