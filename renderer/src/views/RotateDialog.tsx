import { useId, useState, type FormEvent } from 'react';
import type { CredentialView, ModeView } from '../../../preload/contract.ts';
import { isCallError, messageOf } from '../api/client.ts';
import { useRotateCredential } from '../api/queries.ts';
import { Dialog } from '../components/Dialog.tsx';
import { Notice } from '../components/Notice.tsx';
import { ModeField, formFieldErrors } from './CredentialForm.tsx';

/**
 * Guided rotation from the credential page: the analyst makes the new secret in the provider's console, pastes it here,
 * and Keydesk asks the provider with it; only a yes replaces the stored secret. A no, or no answer, changes nothing
 * and says so — the old secret keeps working.
 */
export function RotateDialog({ c, mode, onClose }: { c: CredentialView; mode: ModeView; onClose: () => void }) {
  const rotate = useRotateCredential();
  const baseId = useId();
  const secretFields = mode.fields.filter((f) => f.secret);
  const [values, setValues] = useState<Record<string, string>>({});
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [done, setDone] = useState<CredentialView | null>(null);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setFieldErrors({});
    const given = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ''));
    if (Object.keys(given).length === 0) {
      setFieldErrors({ [secretFields[0]?.name ?? '']: 'Paste the new secret you made at the provider' });
      return;
    }
    rotate.mutate(
      { id: c.id, values: given },
      {
        onSuccess: (v) => setDone(v),
        onError: (err) => {
          if (isCallError(err) && Object.keys(err.fields).length > 0) setFieldErrors(formFieldErrors(err.fields).byField);
        }
      }
    );
  };

  return (
    <Dialog title={`Rotate the secret of “${c.name}”`} onClose={onClose} describedBy={`${baseId}-how`}>
      {done ? (
        <>
          <Notice kind="success" title="Rotated">
            The provider accepted the new secret, and it replaced the old one (status {done.status}). The old secret still works at the
            provider until you revoke it there.
          </Notice>
          <div className="actions">
            <button type="button" className="primary" data-autofocus onClick={onClose}>
              Done
            </button>
          </div>
        </>
      ) : (
        <form onSubmit={submit} noValidate className="form">
          <p id={`${baseId}-how`}>
            Make the new secret in the provider’s console first, then paste it here. Keydesk asks the provider with it and replaces the
            stored one only if it works; otherwise nothing changes.
          </p>
          <fieldset className="mode-fields">
            <legend>New secret</legend>
            {secretFields.map((f, i) => (
              <ModeField
                key={f.name}
                id={`${baseId}-f-${f.name}`}
                field={f}
                value={values[f.name] ?? ''}
                onChange={(v) => setValues((old) => ({ ...old, [f.name]: v }))}
                error={fieldErrors[f.name]}
                isSet={c.secretsSet.includes(f.name)}
                editing
                autoFocus={i === 0}
              />
            ))}
          </fieldset>
          {rotate.error && !(isCallError(rotate.error) && Object.keys(rotate.error.fields).length > 0) ? (
            <Notice kind="error">{messageOf(rotate.error)}</Notice>
          ) : null}
          {rotate.isPending ? <p role="status">Asking the provider with the new secret…</p> : null}
          <div className="actions">
            <button type="submit" className="primary" disabled={rotate.isPending}>
              {rotate.isPending ? 'Checking…' : 'Check and rotate'}
            </button>
            <button type="button" onClick={onClose}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
