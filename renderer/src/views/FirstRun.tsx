import { useState, type FormEvent } from 'react';
import type { VaultStatus } from '../../../preload/contract.ts';
import { isCallError, messageOf } from '../api/client.ts';
import { useCreateVault } from '../api/queries.ts';
import { Notice } from '../components/Notice.tsx';
import { useWipeOnUnmount } from '../components/useWipeOnUnmount.ts';

const MIN = 8;

/** No vault yet: create one, its key in the OS keychain (default) or derived from a passphrase. */
export function FirstRun({ status }: { status: VaultStatus }) {
  const create = useCreateVault();
  const [source, setSource] = useState<'keychain' | 'passphrase'>('keychain');
  const [pass, setPass] = useState('');
  const [confirm, setConfirm] = useState('');
  const [local, setLocal] = useState<Record<string, string>>({});
  const wipe = useWipeOnUnmount<HTMLInputElement>();
  // The passphrase inputs are uncontrolled (never mirrored into the HTML) and unmount with the other choice: forget
  // what they held, so what is submitted is always what the fields show.
  const choose = (s: 'keychain' | 'passphrase') => {
    setSource(s);
    setPass('');
    setConfirm('');
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (source === 'passphrase') {
      if (pass.length < MIN) errs.passphrase = `Use at least ${MIN} characters`;
      else if (pass !== confirm) errs.confirm = 'The two passphrases differ';
    }
    setLocal(errs);
    if (Object.keys(errs).length === 0)
      create.mutate(source === 'passphrase' ? { keySource: 'passphrase', passphrase: pass } : { keySource: 'keychain' });
  };
  const fields = { ...(isCallError(create.error) ? create.error.fields : {}), ...local };

  return (
    <main className="centered" id="main">
      <form className="card narrow" onSubmit={submit} noValidate aria-labelledby="firstrun-title">
        <h1 id="firstrun-title">Create your Keydesk vault</h1>
        <p>
          Keydesk keeps the credentials your response actions run with in one encrypted file on this machine:
          <br />
          <code className="path">{status.path}</code>
        </p>
        <fieldset>
          <legend>Where the vault key lives</legend>
          <label className="choice">
            <input type="radio" name="source" value="keychain" checked={source === 'keychain'} onChange={() => choose('keychain')} />
            <span>
              <strong>OS keychain</strong> (recommended) — a random key stored in your login keychain; the vault opens when you start
              Keydesk.
            </span>
          </label>
          <label className="choice">
            <input type="radio" name="source" value="passphrase" checked={source === 'passphrase'} onChange={() => choose('passphrase')} />
            <span>
              <strong>Passphrase</strong> — for machines without a keychain; you type it each time you unlock.
            </span>
          </label>
        </fieldset>
        {source === 'passphrase' ? (
          <>
            <div className="field">
              <label htmlFor="fr-pass">Passphrase</label>
              <input
                id="fr-pass"
                ref={wipe}
                type="password"
                autoComplete="new-password"
                onChange={(e) => setPass(e.target.value)}
                aria-invalid={fields.passphrase ? true : undefined}
                aria-describedby={fields.passphrase ? 'fr-pass-err' : 'fr-pass-help'}
              />
              <p id="fr-pass-help" className="help">
                At least {MIN} characters. Keydesk cannot recover a forgotten passphrase.
              </p>
              {fields.passphrase ? (
                <p id="fr-pass-err" className="field-error">
                  {fields.passphrase}
                </p>
              ) : null}
            </div>
            <div className="field">
              <label htmlFor="fr-confirm">Passphrase again</label>
              <input
                id="fr-confirm"
                ref={wipe}
                type="password"
                autoComplete="new-password"
                onChange={(e) => setConfirm(e.target.value)}
                aria-invalid={fields.confirm ? true : undefined}
                aria-describedby={fields.confirm ? 'fr-confirm-err' : undefined}
              />
              {fields.confirm ? (
                <p id="fr-confirm-err" className="field-error">
                  {fields.confirm}
                </p>
              ) : null}
            </div>
          </>
        ) : null}
        {create.error && !isCallError(create.error, 'INPUT_INVALID') ? <Notice kind="error">{messageOf(create.error)}</Notice> : null}
        <div className="actions">
          <button type="submit" className="primary" disabled={create.isPending}>
            {create.isPending ? 'Creating…' : 'Create vault'}
          </button>
        </div>
      </form>
    </main>
  );
}
