import { useState, type FormEvent } from 'react';
import type { VaultStatus } from '../../../preload/contract.ts';
import { isCallError, messageOf } from '../api/client.ts';
import { usePrompts, useUnlock } from '../api/queries.ts';
import { Notice } from '../components/Notice.tsx';
import { useWipeOnUnmount } from '../components/useWipeOnUnmount.ts';
import { plural } from '../format.ts';

/** The vault is locked: unlock (passphrase, or one click for a keychain vault), or browse read-only. */
export function LockScreen({ status, onBrowse }: { status: VaultStatus; onBrowse: () => void }) {
  const unlock = useUnlock();
  // Readable without the key: an analyst who comes back to a locked window learns at once that actions wait on them.
  const prompts = usePrompts();
  const waiting = (prompts.data ?? []).reduce((n, p) => n + p.waiting.length, 0);
  const waitingOn = [...new Set((prompts.data ?? []).map((p) => p.credentialName))];
  const [pass, setPass] = useState('');
  const wipe = useWipeOnUnmount<HTMLInputElement>();
  const keychain = status.keySource === 'keychain';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    unlock.mutate(keychain ? undefined : pass);
  };
  const fieldError = isCallError(unlock.error)
    ? (unlock.error.fields.passphrase ?? (unlock.error.code === 'WRONG_PASSPHRASE' ? unlock.error.message : undefined))
    : undefined;
  return (
    <main className="centered" id="main">
      <form className="card narrow" onSubmit={submit} noValidate aria-labelledby="lock-title">
        <svg className="lock-badge" aria-hidden="true" viewBox="0 0 24 24" width="40" height="40">
          <rect x="4" y="10" width="16" height="11" rx="2" fill="currentColor" />
          <path d="M8 10V7a4 4 0 0 1 8 0v3" fill="none" stroke="currentColor" strokeWidth="2.2" />
        </svg>
        <h1 id="lock-title">Keydesk is locked</h1>
        <p>
          {plural(status.credentials, 'credential')} in <code className="path">{status.path}</code>. Names, health and the audit log stay
          readable while locked; secrets need the key.
        </p>
        {waiting > 0 ? (
          <Notice kind="warning" title={`${plural(waiting, 'action')} ${waiting === 1 ? 'waits' : 'wait'} for re-authentication`}>
            {waitingOn.join(', ')} {waitingOn.length === 1 ? 'needs' : 'need'} to be re-authenticated before the deadline. Unlock, then
            re-authenticate from the banner: the waiting actions run when it succeeds.
          </Notice>
        ) : null}
        {keychain ? (
          <p>This vault keeps its key in the OS keychain.</p>
        ) : (
          <div className="field">
            <label htmlFor="lock-pass">Vault passphrase</label>
            <input
              id="lock-pass"
              ref={wipe}
              type="password"
              autoComplete="current-password"
              onChange={(e) => setPass(e.target.value)}
              data-autofocus
              autoFocus
              aria-invalid={fieldError ? true : undefined}
              aria-describedby={fieldError ? 'lock-pass-err' : undefined}
            />
            {fieldError ? (
              <p id="lock-pass-err" className="field-error">
                {fieldError}
              </p>
            ) : null}
          </div>
        )}
        {unlock.error && !fieldError ? <Notice kind="error">{messageOf(unlock.error)}</Notice> : null}
        <div className="actions">
          {/* A keychain vault has nothing to type: the one button has the focus, so Enter unlocks. */}
          <button type="submit" className="primary" disabled={unlock.isPending} autoFocus={keychain}>
            {unlock.isPending ? 'Unlocking…' : keychain ? 'Unlock with the OS keychain' : 'Unlock'}
          </button>
          <button type="button" onClick={onBrowse}>
            Browse read-only
          </button>
        </div>
      </form>
    </main>
  );
}
