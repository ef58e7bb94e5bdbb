// Electron adapter: feeds powerMonitor into the pure auto-lock (main/shell/auto-lock.ts).
import { powerMonitor } from 'electron';
import { createAutoLock, type LockReason } from '../shell/auto-lock.ts';

const CHECK_MS = 30_000;

export function wireAutoLock(deps: { isUnlocked(): boolean; lock(reason: LockReason): Promise<unknown>; minutes(): number }): () => void {
  const autoLock = createAutoLock({
    idleSeconds: () => powerMonitor.getSystemIdleTime(),
    // 'locked' only where the OS can tell; 'lock-screen' below is macOS and Windows only.
    screenLocked: () => powerMonitor.getSystemIdleState(60) === 'locked',
    isUnlocked: deps.isUnlocked,
    minutes: deps.minutes,
    lock: async (r) => void (await deps.lock(r))
  });
  const onSuspend = () => void autoLock.onSystemEvent('suspend');
  const onLockScreen = () => void autoLock.onSystemEvent('lock-screen');
  powerMonitor.on('suspend', onSuspend);
  powerMonitor.on('lock-screen', onLockScreen);
  const timer = setInterval(() => void autoLock.check(), CHECK_MS);
  return () => {
    clearInterval(timer);
    powerMonitor.off('suspend', onSuspend);
    powerMonitor.off('lock-screen', onLockScreen);
  };
}
