import { useEffect, useId, useMemo, useRef, useState, type FormEvent } from 'react';
import type { CredentialView, FieldView, ModeView } from '../../../preload/contract.ts';
import { isCallError, messageOf } from '../api/client.ts';
import { useOAuthFlow } from '../api/events.ts';
import { useAddCredential, useOAuthCancel, useOAuthConnectNew, useProviders, useUpdateCredential, useValidate } from '../api/queries.ts';
import { Dialog } from '../components/Dialog.tsx';
import { Notice } from '../components/Notice.tsx';
import { useWipeOnUnmount } from '../components/useWipeOnUnmount.ts';

export type FormMode = { kind: 'add' } | { kind: 'edit'; credential: CredentialView; focusSecrets?: boolean };

/** Field errors from INPUT_INVALID, keyed as the form's inputs are: "values.api_token" → "api_token". */
export function formFieldErrors(fields: Record<string, string>): { byField: Record<string, string>; other: string[] } {
  const byField: Record<string, string> = {};
  const other: string[] = [];
  for (const [k, m] of Object.entries(fields)) {
    const key = k.startsWith('values.') ? k.slice('values.'.length) : k === 'expires_at' ? 'expiresAt' : k;
    if (key && key !== 'values' && key !== 'input' && !key.includes('.')) byField[key] = m;
    else other.push(m);
  }
  return { byField, other };
}

const ANALYST_EXPIRY = (c: CredentialView) => (c.expirySource === 'analyst' && c.expiresAt ? c.expiresAt.slice(0, 10) : '');

export function CredentialForm(props: { mode: FormMode; onClose: () => void; onSaved?: (c: CredentialView) => void }) {
  const providers = useProviders();
  const add = useAddCredential();
  const update = useUpdateCredential();
  const connectNew = useOAuthConnectNew();
  const validate = useValidate();
  const [validateOnSave, setValidateOnSave] = useState(true);
  const cancelFlow = useOAuthCancel();
  const flow = useOAuthFlow();
  const editing = props.mode.kind === 'edit' ? props.mode.credential : null;
  const [name, setName] = useState(editing?.name ?? '');
  const [providerId, setProviderId] = useState(editing?.provider ?? '');
  const [modeId, setModeId] = useState(editing?.mode ?? '');
  const [values, setValues] = useState<Record<string, string>>(() => (editing ? { ...editing.metadata } : {}));
  const [expiresAt, setExpiresAt] = useState(editing ? ANALYST_EXPIRY(editing) : '');
  const [errors, setErrors] = useState<{ byField: Record<string, string>; other: string[]; message: string | null }>({
    byField: {},
    other: [],
    message: null
  });
  const formRef = useRef<HTMLFormElement>(null);
  const baseId = useId();

  const provider = providers.data?.find((p) => p.id === providerId);
  const mode: ModeView | undefined = provider?.modes.find((m) => m.id === modeId);
  const pending = add.isPending || update.isPending || connectNew.isPending || validate.isPending;
  /** After a save: check it with the provider when asked to; the credential is saved either way, its chip tells. */
  const saved = (c: CredentialView | null, secretsChanged: boolean) => {
    const finish = () => {
      if (c) props.onSaved?.(c);
      props.onClose();
    };
    if (c && validateOnSave && secretsChanged) validate.mutate(c.id, { onSettled: finish });
    else finish();
  };

  // After a failed save, put the focus on the first field that needs fixing.
  useEffect(() => {
    if (Object.keys(errors.byField).length === 0) return;
    formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [errors]);

  const initial = useMemo(() => (editing ? { ...editing.metadata } : {}), [editing]);

  const fail = (e: unknown) => {
    if (isCallError(e) && Object.keys(e.fields).length > 0) {
      const f = formFieldErrors(e.fields);
      setErrors({ ...f, message: e.code === 'INPUT_INVALID' ? 'Some fields need fixing; nothing was saved.' : e.message });
    } else setErrors({ byField: {}, other: [], message: messageOf(e) });
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setErrors({ byField: {}, other: [], message: null });
    if (!mode) {
      setErrors({ byField: providerId ? { mode: 'Choose an auth mode' } : { provider: 'Choose a provider' }, other: [], message: null });
      return;
    }
    if (!editing) {
      const given: Record<string, string> = {};
      for (const f of mode.fields) if ((values[f.name] ?? '') !== '') given[f.name] = values[f.name]!;
      if (mode.oauth) {
        // OAuth modes: the credential is created by signing in; it is stored only with its tokens.
        connectNew.mutate(
          { name, provider: providerId, mode: modeId, values: given },
          { onSuccess: (c) => (props.onSaved?.(c), props.onClose()), onError: fail }
        );
        return;
      }
      add.mutate(
        { name, provider: providerId, mode: modeId, values: given, expiresAt: expiresAt || null },
        { onSuccess: (c) => saved(c, true), onError: fail }
      );
      return;
    }
    const changed: Record<string, string> = {};
    for (const f of mode.fields) {
      const v = values[f.name] ?? '';
      if (f.secret ? v !== '' : v !== (initial[f.name] ?? '')) changed[f.name] = v;
    }
    const expiryChanged = expiresAt !== ANALYST_EXPIRY(editing);
    const renamed = name.trim() !== editing.name ? name : undefined;
    if (!renamed && Object.keys(changed).length === 0 && !expiryChanged) {
      setErrors({ byField: {}, other: [], message: 'Nothing changed.' });
      return;
    }
    update.mutate(
      {
        id: editing.id,
        ...(renamed !== undefined ? { name: renamed } : {}),
        ...(Object.keys(changed).length || expiryChanged
          ? {
              update: {
                ...(Object.keys(changed).length ? { values: changed } : {}),
                ...(expiryChanged ? { expiresAt: expiresAt || null } : {})
              }
            }
          : {})
      },
      {
        onSuccess: (c) =>
          saved(
            c,
            mode.fields.some((f) => f.secret && changed[f.name] !== undefined)
          ),
        onError: fail
      }
    );
  };

  const set = (k: string, v: string) => setValues((prev) => ({ ...prev, [k]: v }));
  const err = errors.byField;

  return (
    <Dialog
      title={
        editing
          ? props.mode.kind === 'edit' && props.mode.focusSecrets
            ? `Replace the secrets of ${editing.name}`
            : `Edit ${editing.name}`
          : 'Add a credential'
      }
      onClose={props.onClose}
      wide
    >
      <form ref={formRef} onSubmit={submit} noValidate className="form">
        {errors.message ? (
          <Notice kind="error">
            {errors.message}
            {errors.other.length ? (
              <ul>
                {errors.other.map((m) => (
                  <li key={m}>{m}</li>
                ))}
              </ul>
            ) : null}
          </Notice>
        ) : null}
        <TextField
          id={`${baseId}-name`}
          label="Name"
          value={name}
          onChange={setName}
          error={err.name}
          help="How you and the CLI refer to it, e.g. “M365 Corp”."
          autoFocus={!editing?.id || !(props.mode.kind === 'edit' && props.mode.focusSecrets)}
        />
        {editing ? (
          <p className="readonly-pair">
            <span className="muted">Provider</span> {provider?.label ?? editing.provider} — {mode?.label ?? editing.mode}
          </p>
        ) : (
          <div className="grid-2">
            <div className="field">
              <label htmlFor={`${baseId}-provider`}>Provider</label>
              <select
                id={`${baseId}-provider`}
                value={providerId}
                onChange={(e) => {
                  const next = providers.data?.find((p) => p.id === e.target.value);
                  setProviderId(e.target.value);
                  // One mode only: choose it for the analyst.
                  setModeId(next && next.modes.length === 1 ? next.modes[0]!.id : '');
                  setValues({});
                }}
                aria-invalid={err.provider ? true : undefined}
                aria-describedby={err.provider ? `${baseId}-provider-err` : undefined}
              >
                <option value="">Choose…</option>
                {(providers.data ?? []).map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.label}
                  </option>
                ))}
              </select>
              {err.provider ? <FieldError id={`${baseId}-provider-err`}>{err.provider}</FieldError> : null}
            </div>
            <div className="field">
              <label htmlFor={`${baseId}-mode`}>Auth mode</label>
              <select
                id={`${baseId}-mode`}
                value={modeId}
                disabled={!provider}
                onChange={(e) => {
                  setModeId(e.target.value);
                  setValues({});
                }}
                aria-invalid={err.mode ? true : undefined}
                aria-describedby={err.mode ? `${baseId}-mode-err` : undefined}
              >
                <option value="">{provider ? 'Choose…' : 'Choose a provider first'}</option>
                {(provider?.modes ?? []).map((m) => (
                  <option key={m.id} value={m.id}>
                    {m.label}
                  </option>
                ))}
              </select>
              {err.mode ? <FieldError id={`${baseId}-mode-err`}>{err.mode}</FieldError> : null}
            </div>
          </div>
        )}
        {mode ? (
          <fieldset className="mode-fields">
            <legend>{mode.label}</legend>
            {mode.fields.map((f, i) => (
              <ModeField
                key={`${providerId}-${mode.id}-${f.name}`}
                id={`${baseId}-f-${f.name}`}
                field={f}
                value={values[f.name] ?? ''}
                onChange={(v) => set(f.name, v)}
                error={err[f.name]}
                isSet={editing?.secretsSet.includes(f.name) ?? false}
                editing={editing !== null}
                autoFocus={
                  props.mode.kind === 'edit' && props.mode.focusSecrets === true && f.secret && mode.fields.findIndex((x) => x.secret) === i
                }
              />
            ))}
            {mode.oauth ? null : (
              <TextField
                id={`${baseId}-expires`}
                label="Secret expires on (optional)"
                type="date"
                value={expiresAt}
                onChange={setExpiresAt}
                error={err.expiresAt}
                help="If you know when this secret stops working, Keydesk shows it and warns before."
              />
            )}
          </fieldset>
        ) : null}
        {mode?.oauth && !editing ? (
          <Notice kind="info" title="Connect with a sign-in">
            This mode gets its tokens from the provider’s sign-in page in your browser, not from this form. Keydesk stores the credential
            only once the sign-in succeeds.
          </Notice>
        ) : null}
        {connectNew.isPending ? (
          <p role="status" className="flow-status">
            {flow?.stage === 'waiting_for_browser' ? 'Waiting for you to sign in in your browser…' : 'Starting the sign-in…'}{' '}
            <button type="button" onClick={() => cancelFlow.mutate()}>
              Cancel sign-in
            </button>
          </p>
        ) : null}
        {mode && !mode.oauth ? (
          <label className="choice">
            <input type="checkbox" checked={validateOnSave} onChange={(e) => setValidateOnSave(e.target.checked)} />
            <span>Validate on save — ask the provider whether it works (a new or replaced secret)</span>
          </label>
        ) : null}
        {validate.isPending ? <p role="status">Saved. Checking it with the provider…</p> : null}
        <div className="actions">
          <button type="submit" className="primary" disabled={pending}>
            {mode?.oauth && !editing
              ? connectNew.isPending
                ? 'Connecting…'
                : 'Connect'
              : pending
                ? 'Saving…'
                : editing
                  ? 'Save changes'
                  : 'Add credential'}
          </button>
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function FieldError({ id, children }: { id: string; children: string }) {
  return (
    <p id={id} className="field-error">
      {children}
    </p>
  );
}

function TextField(props: {
  id: string;
  label: string;
  value: string;
  onChange: (v: string) => void;
  error?: string | undefined;
  help?: string;
  type?: string;
  autoFocus?: boolean;
}) {
  const describedBy = [props.error ? `${props.id}-err` : '', props.help ? `${props.id}-help` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        type={props.type ?? 'text'}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={describedBy}
        autoFocus={props.autoFocus}
        data-autofocus={props.autoFocus ? '' : undefined}
      />
      {props.help ? (
        <p id={`${props.id}-help`} className="help">
          {props.help}
        </p>
      ) : null}
      {props.error ? <FieldError id={`${props.id}-err`}>{props.error}</FieldError> : null}
    </div>
  );
}

/**
 * One field of the chosen mode. Secret fields are write-only: masked, never pre-filled (the app never sends a
 * secret to the window); when editing, a stored secret shows as "set" and an empty input replaces it.
 */
export function ModeField(props: {
  id: string;
  field: FieldView;
  value: string;
  onChange: (v: string) => void;
  error: string | undefined;
  isSet: boolean;
  editing: boolean;
  autoFocus: boolean;
}) {
  const f = props.field;
  const lowerFirst = /^[A-Z][a-z]/.test(f.label) ? `${f.label.charAt(0).toLowerCase()}${f.label.slice(1)}` : f.label;
  const label = `${props.editing && f.secret ? `Replace ${lowerFirst}` : f.label}${f.required && !(props.editing && f.secret) ? '' : ' (optional)'}`;
  const helpText = [
    f.help,
    props.editing && f.secret ? (props.isSet ? 'A value is set. Leave empty to keep it.' : 'No value stored.') : null
  ]
    .filter(Boolean)
    .join(' ');
  const describedBy = [props.error ? `${props.id}-err` : '', helpText ? `${props.id}-help` : ''].filter(Boolean).join(' ') || undefined;
  const common = {
    id: props.id,
    // Secret inputs are uncontrolled: React would otherwise mirror the typed secret into a `value` attribute,
    // i.e. into the page's HTML. What the analyst typed stays in the field (and in the form's state, to send it).
    ...(f.secret ? {} : { value: props.value }),
    'aria-invalid': props.error ? true : undefined,
    'aria-describedby': describedBy,
    autoComplete: 'off',
    spellCheck: false,
    autoFocus: props.autoFocus,
    'data-autofocus': props.autoFocus ? '' : undefined,
    placeholder: f.secret ? (props.editing && props.isSet ? 'set — type to replace' : '') : (f.placeholder ?? '')
  } as const;
  const wipe = useWipeOnUnmount<HTMLInputElement | HTMLTextAreaElement>();
  const loadFile = (file: File | undefined) => {
    if (!file) return;
    void file.text().then((text) => {
      // A secret text area is uncontrolled: the loaded text is put in the field itself.
      const el = f.secret ? document.getElementById(props.id) : null;
      if (el instanceof HTMLTextAreaElement) el.value = text;
      props.onChange(text);
    });
  };
  return (
    <div className="field">
      <label htmlFor={props.id}>
        {label}
        {f.secret ? <span className="badge">{props.editing && props.isSet ? 'secret · set' : 'secret'}</span> : null}
      </label>
      {f.multiline ? (
        <textarea
          {...common}
          ref={wipe}
          rows={f.secret ? 4 : 3}
          className={f.secret ? 'masked' : undefined}
          onChange={(e) => props.onChange(e.target.value)}
        />
      ) : (
        <input
          {...common}
          ref={wipe}
          type={f.secret ? 'password' : f.kind === 'email' ? 'email' : f.kind === 'url' ? 'url' : 'text'}
          onChange={(e) => props.onChange(e.target.value)}
        />
      )}
      {f.multiline ? (
        <label className="file-load">
          Load from a file… <input type="file" accept=".json,.pem,.crt,.key,.txt" onChange={(e) => loadFile(e.target.files?.[0])} />
        </label>
      ) : null}
      {helpText ? (
        <p id={`${props.id}-help`} className="help">
          {helpText}
        </p>
      ) : null}
      {props.error ? <FieldError id={`${props.id}-err`}>{props.error}</FieldError> : null}
    </div>
  );
}
