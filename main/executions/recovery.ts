import type { ExecutionCore } from './core.ts';
import { claimAbandoned } from './owner.ts';
import {
  clearPrompt,
  dueWaits,
  getRow,
  nextDeadline,
  pendingPrompts,
  revertClaims,
  runningClaims,
  transition,
  waitingCount
} from './store.ts';
import { leftBehind } from './view.ts';

/**
 * Start-up and deadlines: runs a dead process left behind, and waits whose time is up. Everything here writes (each
 * change carries a MAC'd audit entry), so it runs only while the vault is unlocked — at every unlock, and on a timer
 * for the next deadline.
 */
export class Recovery {
  readonly #core: ExecutionCore;
  #timer: NodeJS.Timeout | null = null;

  constructor(core: ExecutionCore) {
    this.#core = core;
  }

  /**
   * What start-up must do, and can only do unlocked (each change carries a MAC'd audit entry): write results that
   * found the vault locked, fail runs whose process died mid-call (interrupted, effect unknown), mark reverts that
   * died mid-call revert_failed, and expire waits whose deadline passed — also those that passed while Keydesk was
   * closed or locked. Runs on every unlock; safe to call any time.
   */
  housekeeping(): { interrupted: string[]; expired: string[] } {
    if (!this.#core.vault.isUnlocked()) return { interrupted: [], expired: [] };
    for (const fn of this.#core.deferred.splice(0)) {
      try {
        fn();
      } catch {
        /* recorded as interrupted below if it cannot be written */
      }
    }
    const interrupted: string[] = [];
    const now = this.#core.vault.clock.now();
    const running = runningClaims(this.#core.vault.db);
    for (const r of running) {
      if (!claimAbandoned(r.claimed_by, r.lease_until, this.#core.owner, now, this.#core.inFlight.has(r.id))) continue;
      const moved = this.#core.safeWrite((w) => {
        const cur = getRow(w, r.id);
        if (!cur || cur.status !== 'running' || cur.claimed_by !== r.claimed_by) return [];
        return [
          transition(w, r.id, 'running', 'failed', {
            owner: r.claimed_by ?? '',
            patch: {
              marker: 'interrupted',
              error_code: 'INTERRUPTED',
              error_message:
                'The process running this action stopped mid-call. Its effect is unknown: check the provider before running it again.',
              claimed_by: null,
              lease_until: null,
              finished_at: w.now
            },
            steps: [
              {
                at: w.now,
                message:
                  'Interrupted: the process running this stopped during the provider call; the effect is unknown. Check the provider before running it again.'
              }
            ],
            auditDetail: { owner_gone: r.claimed_by }
          })
        ];
      });
      if (moved) interrupted.push(r.id);
    }
    const reverting = revertClaims(this.#core.vault.db);
    for (const r of reverting) {
      if (!claimAbandoned(r.revert_claimed_by, r.revert_lease_until, this.#core.owner, now, this.#core.inFlight.has(r.id))) continue;
      this.#core.safeWrite((w) => [
        transition(w, r.id, r.status, 'revert_failed', {
          revertOwner: r.revert_claimed_by ?? '',
          patch: {
            error_code: 'INTERRUPTED',
            error_message: 'The revert stopped mid-call; its effect is unknown. Retry the revert.',
            revert_claimed_by: null,
            revert_lease_until: null
          },
          steps: [
            {
              at: w.now,
              message: 'Revert interrupted: the process stopped during the provider call; the effect is unknown. Retry the revert.'
            }
          ]
        })
      ]);
    }
    const expired = this.expireDue();
    this.arm();
    return { interrupted, expired };
  }

  /** Ends every wait whose deadline has passed (or whose credential was removed) and clears prompts with nothing left waiting. */
  expireDue(): string[] {
    if (!this.#core.vault.isUnlocked()) return [];
    const nowIso = this.#core.vault.clock.now().toISOString();
    const due = dueWaits(this.#core.vault.db, nowIso);
    const expired: string[] = [];
    for (const r of due) {
      // "Not taken" only when it is true: a run rejected part-way may have changed something before it waited.
      const partial = leftBehind(r.revert_context);
      const outcome = partial ? `the action was not completed. ${partial}` : 'the action was not taken.';
      const ok = this.#core.safeWrite((w) => [
        transition(w, r.id, 'awaiting_reauth', 'expired_awaiting_reauth', {
          patch: { finished_at: w.now },
          steps: [
            {
              at: w.now,
              message:
                r.credential_id === null
                  ? `Its credential was removed while the run waited: ${outcome}`
                  : `No re-authentication before the deadline (${r.deadline}): ${outcome}${w.now > (r.deadline ?? '') ? ' (Recorded when the vault was next unlocked.)' : ''}`
            }
          ],
          auditDetail: { deadline: r.deadline, ...(partial ? { partial: true } : {}) }
        })
      ]);
      if (ok) expired.push(r.id);
    }
    for (const p of pendingPrompts(this.#core.vault.db)) {
      const c = this.#core.credentials.header(p.credential_id);
      if (!c) continue;
      this.#core.safeWrite((w) =>
        waitingCount(w, p.credential_id, w.now) > 0
          ? []
          : [clearPrompt(w, this.#core.promptFacts(c.id, c.name, c.provider, c.mode), 'expired')]
      );
    }
    return expired;
  }

  /** Sets a timer for the next deadline (unlocked only; it does not keep a CLI process alive). */
  arm(): void {
    this.disarm();
    if (!this.#core.vault.isUnlocked() || !this.#core.vault.db.open) return;
    const next = nextDeadline(this.#core.vault.db);
    if (!next) return;
    const wait = Math.max(0, Math.min(Date.parse(next) - this.#core.vault.clock.now().getTime(), 2 ** 31 - 1));
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.expireDue();
      this.arm();
    }, wait + 50);
    this.#timer.unref();
  }

  disarm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
