export type LockReason = 'idle' | 'suspend' | 'lock-screen';

export interface AutoLockDeps {
  /** Seconds since the last keyboard/mouse input anywhere on the machine (Electron: powerMonitor.getSystemIdleTime). */
  idleSeconds(): number;
  isUnlocked(): boolean;
  lock(reason: LockReason): void | Promise<void>;
  /** Minutes of idle time before locking; 0 turns idle locking off (suspend and screen lock still lock). */
  minutes(): number;
  /**
   * Whether the OS says the screen is locked now (Electron: powerMonitor.getSystemIdleState(…) === 'locked'). The
   * 'lock-screen' event exists only on macOS and Windows; polling this catches a screen lock on Linux as well.
   */
  screenLocked?(): boolean;
}

/**
 * Locks the vault after idle time, on OS suspend and on screen lock. Pure: Electron's powerMonitor feeds it
 * (`check` on an interval — idle time and the locked state — and `onSystemEvent` from its events), tests feed it numbers.
 */
export function createAutoLock(deps: AutoLockDeps): {
  check(): Promise<LockReason | null>;
  onSystemEvent(event: 'suspend' | 'lock-screen'): Promise<LockReason | null>;
} {
  const lock = async (reason: LockReason) => {
    if (!deps.isUnlocked()) return null;
    await deps.lock(reason);
    return reason;
  };
  return {
    async check() {
      if (deps.screenLocked?.() === true) return lock('lock-screen');
      const minutes = deps.minutes();
      if (!(minutes > 0)) return null;
      const idle = deps.idleSeconds();
      if (!Number.isFinite(idle) || idle < minutes * 60) return null;
      return lock('idle');
    },
    onSystemEvent(event) {
      return lock(event);
    }
  };
}
