import { KeydeskError } from '../errors.ts';
import type { ActionFailure } from '../providers/call.ts';
import { printable } from '../text.ts';
import type { CredentialSummary } from '../vault/credential-store.ts';
import { CREDENTIAL_BLOCKING, type ExecutionCore } from './core.ts';
import type { Recovery } from './recovery.ts';
import { clearPrompt, getRow, raisePrompt, transition, waitingRuns, type ExecutionRow } from './store.ts';
import type { ExecutionView, StepEntry } from './view.ts';

export interface ResumeReport {
  credential: { id: string; name: string };
  /** Runs this process resumed (same execution ids), in their state after the provider call. */
  resumed: ExecutionView[];
  /** Waiting runs another process claimed first. */
  claimedElsewhere: string[];
}

/** The provider rejected the credential mid-run: the run waits until `cutoffMs` from now, and a prompt is raised. */
export function enterWait(
  core: ExecutionCore,
  id: string,
  row: ExecutionRow,
  f: ActionFailure,
  steps: StepEntry[],
  cutoffMs: number
): void {
  core.finish(id, (w) => {
    const deadline = new Date(Date.parse(w.now) + cutoffMs).toISOString();
    const message = `${row.provider} rejected "${row.credential_name}" (${f.code}): ${f.message} Waiting for re-authentication until ${deadline}.`;
    const moved = transition(w, id, 'running', 'awaiting_reauth', {
      owner: core.ownerId,
      patch: { deadline, error_code: f.code, error_message: f.message, claimed_by: null, lease_until: null },
      steps: [...steps.splice(0), { at: w.now, message }]
    });
    if (!moved) return [core.late(w, id, null, `was rejected (${f.code})`)];
    const cred = row.credential_id ? core.credentials.header(row.credential_id) : null;
    if (cred && !CREDENTIAL_BLOCKING.has(cred.status)) {
      core.credentials.recordHealth(
        cred.id,
        { status: f.credentialStatus, lastError: { code: f.code, message: f.message }, checkedAt: w.now },
        { action: 'credential.rejected_in_action', detail: { execution_id: id } }
      );
    }
    return [moved, cred ? raisePrompt(w, core.promptFacts(cred.id, cred.name, cred.provider, cred.mode), deadline, f.code, message) : null];
  });
}

/**
 * Re-authentication waits: a run whose credential the provider rejected waits (awaiting_reauth, with a deadline and a
 * prompt: enterWait); when the credential is re-authenticated, the same runs resume. Executing a resumed run is the
 * runner's job, handed in as `execute`.
 */
export class ReauthWaits {
  readonly #core: ExecutionCore;
  readonly #recovery: Recovery;
  readonly #execute: (id: string) => Promise<ExecutionView>;

  constructor(core: ExecutionCore, recovery: Recovery, execute: (id: string) => Promise<ExecutionView>) {
    this.#core = core;
    this.#recovery = recovery;
    this.#execute = execute;
  }

  /**
   * Resumes every run waiting on a credential that was just re-authenticated (an OAuth flow, or new secret fields
   * that validated). Each run is claimed with a compare-and-set on its status, so when the app and the CLI resume
   * at once every run still acts once; the same execution ids continue. Clears the credential's prompt.
   */
  async resumeWaiting(credentialRef: string): Promise<ResumeReport> {
    this.#core.vault.requireUnlocked();
    const c = this.#core.credentials.get(credentialRef);
    if (CREDENTIAL_BLOCKING.has(c.status)) {
      throw new KeydeskError(
        'CREDENTIAL_NOT_READY',
        `"${printable(c.name)}" is still ${c.status}; its waiting runs keep waiting. Re-authenticate it (keydesk reauth "${printable(c.name)}").`
      );
    }
    this.#recovery.expireDue();
    const facts = this.#core.promptFacts(c.id, c.name, c.provider, c.mode);
    this.#core.emit(this.#core.vault.write((w) => [clearPrompt(w, facts, 'resolved')]));
    const ids = waitingRuns(this.#core.vault.db, c.id, this.#core.nowIso()).map((r) => r.id);
    const resumed: ExecutionView[] = [];
    const claimedElsewhere: string[] = [];
    for (const id of ids) {
      const event = this.#core.vault.write((w) => {
        const r = getRow(w, id);
        if (!r || r.status !== 'awaiting_reauth' || r.deadline === null || r.deadline <= w.now) return null;
        return transition(w, id, 'awaiting_reauth', 'running', {
          patch: {
            claimed_by: this.#core.ownerId,
            lease_until: this.#core.lease(w.now),
            attempts: r.attempts + 1,
            error_code: null,
            error_message: null
          },
          steps: [{ at: w.now, message: `Resumed after "${c.name}" was re-authenticated (attempt ${r.attempts + 1}).` }]
        });
      });
      if (!event) {
        claimedElsewhere.push(id);
        continue;
      }
      this.#core.emit([event]);
      resumed.push(await this.#execute(id));
    }
    return { credential: { id: c.id, name: c.name }, resumed, claimedElsewhere };
  }

  /**
   * Static credentials: replaces the secret fields, validates, and — only when validation says ok — resumes the
   * waiting runs. A secret that does not validate is kept (it is what the analyst entered) but nothing resumes.
   */
  async reauthWithSecrets(
    credentialRef: string,
    secrets: Readonly<Record<string, string>>
  ): Promise<ResumeReport & { validation: CredentialSummary }> {
    this.#core.vault.requireUnlocked();
    const c = this.#core.credentials.get(credentialRef);
    if (this.#core.method(c.provider, c.mode) === 'oauth') {
      throw new KeydeskError(
        'INPUT_INVALID',
        `"${printable(c.name)}" is an OAuth credential: re-authenticate it with the browser flow (keydesk reauth "${printable(c.name)}"), not with secret fields.`
      );
    }
    if (Object.keys(secrets).length === 0)
      throw new KeydeskError('INPUT_INVALID', 'Give the new secret fields (--secrets-from FILE or - for stdin).');
    if (!this.#core.validate)
      throw new KeydeskError(
        'UNSUPPORTED',
        'Validation is not available in this process, so the new secret cannot be checked before the waiting runs resume.'
      );
    this.#core.credentials.update(c.id, { values: secrets });
    const validated = await this.#core.validate(c.id);
    if (validated.status !== 'ok') {
      const why = validated.lastError ? `${validated.lastError.code}: ${validated.lastError.message}` : validated.status;
      throw new KeydeskError(
        validated.status === 'unknown' ? 'PROVIDER_UNREACHABLE' : 'PROVIDER_REJECTED',
        `The new secret was saved but did not validate (${why}). Waiting runs keep waiting until their deadline; nothing was resumed.`
      );
    }
    return { ...(await this.resumeWaiting(c.id)), validation: validated };
  }
}
