import { KeydeskError } from '../errors.ts';
import { printable } from '../text.ts';
import type { ExecutionCore } from './core.ts';
import { isExecutionStatus, type ExecutionStatus } from './lifecycle.ts';
import { listRows, pendingPrompts, waitingRuns } from './store.ts';
import { executionView, promptView, type ExecutionView, type PromptView } from './view.ts';

export interface ExecutionFilter {
  status?: ExecutionStatus;
  credential?: string;
  limit?: number;
}

/** Reading runs and prompts: works locked (offline inspection); statuses are effective as of the clock's now. */
export class ExecutionQueries {
  readonly #core: ExecutionCore;

  constructor(core: ExecutionCore) {
    this.#core = core;
  }

  get(id: string): ExecutionView {
    return executionView(this.#core.findRow(id), this.#core.vault.clock.now());
  }

  list(filter: ExecutionFilter = {}): ExecutionView[] {
    const now = this.#core.vault.clock.now();
    if (filter.status !== undefined && !isExecutionStatus(filter.status)) {
      throw new KeydeskError('INPUT_INVALID', `Unknown status "${printable(String(filter.status))}".`, {
        fields: { status: 'Unknown status' }
      });
    }
    const credentialId = filter.credential ? this.#core.credentials.get(filter.credential).id : undefined;
    const rows = listRows(this.#core.vault.db, {
      ...(filter.status !== undefined ? { status: filter.status } : {}),
      ...(credentialId !== undefined ? { credentialId } : {}),
      limit: Math.min(Math.max(filter.limit ?? 100, 1), 10_000),
      now: now.toISOString()
    });
    return rows.map((r) => executionView(r, now));
  }

  /** Pending re-auth prompts: credentials with runs still waiting before their deadline. */
  prompts(): PromptView[] {
    const now = this.#core.nowIso();
    const out: PromptView[] = [];
    for (const p of pendingPrompts(this.#core.vault.db)) {
      const waiting = waitingRuns(this.#core.vault.db, p.credential_id, now);
      if (waiting.length === 0) continue; // past the cutoff: the prompt is over even if the vault was locked when it ended
      const c = this.#core.credentials.header(p.credential_id);
      if (!c) continue;
      out.push(promptView(p, c, this.#core.method(c.provider, c.mode), waiting));
    }
    return out;
  }
}
