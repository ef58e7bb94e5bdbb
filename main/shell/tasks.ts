import type { AppSession } from './session.ts';
import type { ScheduledTask } from './scheduler.ts';

const MINUTE = 60_000;

/**
 * The app's background work, as scheduler tasks over the session's services. Each task does nothing when there is
 * no vault; tasks that use a secret declare `needsUnlock` so they pause while the vault is locked.
 */
export function backgroundTasks(session: AppSession): ScheduledTask[] {
  return [
    {
      // DESIGN: the audit head is anchored in the OS keychain at lock, at quit and periodically — not per entry.
      name: 'audit-anchor',
      everyMs: 10 * MINUTE,
      needsUnlock: false,
      async run() {
        const app = session.current();
        if (app?.vault.needsAnchor) await app.audit.anchor();
      }
    }
  ];
}
