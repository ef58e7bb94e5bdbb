import { REFRESH_MARGIN_MS, needsRefresh } from '../oauth/flow/tokens.ts';
import { dueReminders, type Reminder } from './reminders.ts';
import type { AppSession } from './session.ts';
import type { ScheduledTask } from './scheduler.ts';

const MINUTE = 60_000;
export const OAUTH_REFRESH_EVERY_MS = MINUTE;
export const DEADLINES_EVERY_MS = 30_000;
export const AUDIT_ANCHOR_EVERY_MS = 10 * MINUTE;
/** Every credential is asked again this often, so the list shows health that is hours old at most. */
export const REVALIDATE_EVERY_MS = 6 * 60 * MINUTE;
/** Rotation and expiry reminders are looked for hourly; each credential is named once a day at most. */
export const REMINDERS_EVERY_MS = 60 * MINUTE;

/** OAuth credentials whose access token expires before the next check plus the refresh margin, and that can refresh. */
export function oauthDueForRefresh(session: AppSession, now: Date): string[] {
  const app = session.current();
  if (!app) return [];
  return app.credentials
    .list()
    .filter((c) => app.providers.isOAuthMode(c.provider, c.mode))
    .filter((c) => c.status === 'ok' || c.status === 'unknown')
    .filter((c) => {
      const oauth = c.observed.oauth as { has_refresh_token?: unknown } | undefined;
      return oauth?.has_refresh_token === true;
    })
    .filter((c) => needsRefresh(c.expiresAt, now, REFRESH_MARGIN_MS + OAUTH_REFRESH_EVERY_MS))
    .map((c) => c.id);
}

/**
 * The app's background work, as scheduler tasks over the session's services. Each task does nothing when there is
 * no vault; tasks that use a secret declare `needsUnlock` so they pause while the vault is locked.
 */
export function backgroundTasks(session: AppSession, opts: { remind?: (r: Reminder) => void } = {}): ScheduledTask[] {
  const reminded = new Map<string, string>();
  return [
    {
      // Tokens are refreshed ahead of expiry so a waiting action never meets an expired token. A refresh the
      // provider refuses (invalid_grant) marks the credential expired — the OAuth service records that.
      name: 'oauth-refresh',
      everyMs: OAUTH_REFRESH_EVERY_MS,
      firstAfterMs: 0,
      needsUnlock: true,
      async run() {
        const app = session.current();
        if (!app) return;
        for (const id of oauthDueForRefresh(session, session.clock.now())) {
          await app.oauth.refresh(id).catch(() => undefined);
        }
      }
    },
    {
      // Health on a schedule: "validate all" (bounded concurrency) so a key revoked overnight shows as failed
      // before an action needs it. Skipped while locked; runs at the first tick after unlock once due.
      name: 'revalidate',
      everyMs: REVALIDATE_EVERY_MS,
      // A minute after start: the list an analyst opens the app to is fresh, without delaying the start itself.
      firstAfterMs: MINUTE,
      needsUnlock: true,
      async run() {
        const app = session.current();
        if (app && app.credentials.list().length > 0) await app.validation.validateAll();
      }
    },
    {
      // Re-auth deadlines: a run past its cutoff ends expired_awaiting_reauth and its prompt clears. On the
      // injected clock, so a deadline that passed during sleep is applied at the first tick after wake.
      name: 'reauth-deadlines',
      everyMs: DEADLINES_EVERY_MS,
      firstAfterMs: 0,
      needsUnlock: true,
      run() {
        session.current()?.executions.expireDue();
      }
    },
    {
      // Rotation and expiry reminders as OS notifications (metadata only: runs while locked too).
      name: 'reminders',
      everyMs: REMINDERS_EVERY_MS,
      firstAfterMs: 2 * MINUTE,
      needsUnlock: false,
      run() {
        const app = session.current();
        if (!app || !opts.remind) return;
        const now = session.clock.now();
        for (const r of dueReminders(
          app.credentials.list().map((c) => app.credentials.view(c, now)),
          now,
          reminded
        ))
          opts.remind(r);
      }
    },
    {
      // DESIGN: the audit head is anchored in the OS keychain at lock, at quit and periodically — not per entry.
      name: 'audit-anchor',
      everyMs: AUDIT_ANCHOR_EVERY_MS,
      needsUnlock: false,
      async run() {
        const app = session.current();
        if (app?.vault.needsAnchor) await app.audit.anchor();
      }
    }
  ];
}
