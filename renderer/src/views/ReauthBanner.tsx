import { useState, type FormEvent } from 'react';
import type { PromptView, ResumeView, VaultStatus } from '../../../preload/contract.ts';
import { isCallError, messageOf } from '../api/client.ts';
import { useOAuthFlow } from '../api/events.ts';
import { useOAuthCancel, useOAuthConnect, usePrompts, useProviders, useReauthWithSecrets } from '../api/queries.ts';
import { Dialog } from '../components/Dialog.tsx';
import { Notice } from '../components/Notice.tsx';
import { PassphraseField } from '../components/PassphraseField.tsx';
import { useNow } from '../components/useNow.ts';
import { plural, readableTimes, relative } from '../format.ts';
import { ModeField, formFieldErrors } from './CredentialForm.tsx';

function timeLeft(deadline: string, now: number): string {
  const ms = Date.parse(deadline) - now;
  if (ms <= 0) return 'time is up';
  return `${relative(deadline, now).replace(/^in /, '')} left`;
}

/**
 * A persistent banner while any run waits on a credential: one click re-authenticates it and the runs resume.
 * The sign-in and the secret dialog live here, not in the prompt's row: the row disappears the moment the prompt
 * resolves, and the outcome must still be shown.
 */
export function ReauthBanner({ status }: { status: VaultStatus }) {
  const prompts = usePrompts();
  const now = useNow(15_000);
  const connect = useOAuthConnect();
  const cancel = useOAuthCancel();
  const flow = useOAuthFlow();
  const [active, setActive] = useState<PromptView | null>(null);
  const [signingIn, setSigningIn] = useState<PromptView | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const needsPassphrase = status.state === 'locked' && status.keySource === 'passphrase';
  const list = prompts.data ?? [];

  const signIn = (p: PromptView, passphrase?: string) => {
    setSigningIn(p);
    setDone(null);
    connect.mutate(
      { credentialId: p.credentialId, ...(passphrase ? { passphrase } : {}) },
      {
        onSuccess: () => {
          setActive(null);
          setDone(`${p.credentialName} is signed in again; the actions waiting on it resume.`);
        }
      }
    );
  };
  const oneClick = (p: PromptView) => {
    setDone(null);
    if (p.method === 'secret' || needsPassphrase) setActive(p);
    else signIn(p);
  };

  if (list.length === 0 && !done && !active && !connect.isPending) return null;
  const waiting = list.reduce((n, p) => n + p.waiting.length, 0);
  return (
    <section
      className="reauth-banner"
      aria-labelledby={list.length > 0 ? 'reauth-title' : undefined}
      aria-label={list.length > 0 ? undefined : 'Re-authentication'}
    >
      {list.length > 0 ? (
        <>
          <h2 id="reauth-title">
            <span className="count" aria-hidden="true">
              {list.length}
            </span>
            Re-authentication needed: {plural(list.length, 'credential')}, {plural(waiting, 'action')} waiting
          </h2>
          <ul className="prompt-list">
            {list.map((p) => (
              <li className="prompt" key={p.id}>
                <div className="prompt-main">
                  <strong>{p.credentialName}</strong> <span className="muted">— {readableTimes(p.reason)}</span>
                  <ul className="waiting">
                    {p.waiting.map((w) => (
                      <li key={w.id}>
                        <code>{w.capability}</code> → {w.target}
                      </li>
                    ))}
                  </ul>
                </div>
                <div className="prompt-side">
                  <span className="time-left">{timeLeft(p.deadline, now)}</span>
                  {connect.isPending && signingIn?.id === p.id ? (
                    <>
                      <span role="status">
                        {flow?.credentialId === p.credentialId && flow.stage === 'waiting_for_browser'
                          ? 'Waiting for the sign-in in your browser…'
                          : 'Signing in…'}
                      </span>
                      <button type="button" onClick={() => cancel.mutate()}>
                        Cancel sign-in
                      </button>
                    </>
                  ) : (
                    <button type="button" className="primary" onClick={() => oneClick(p)} disabled={connect.isPending}>
                      {p.method === 'oauth' ? `Sign in to ${p.credentialName} again` : `Enter a new secret for ${p.credentialName}`}
                    </button>
                  )}
                </div>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {connect.error && !active ? <Notice kind="error">{messageOf(connect.error)}</Notice> : null}
      {done ? (
        <Notice kind="success">
          {done}{' '}
          <button type="button" className="link" onClick={() => setDone(null)}>
            Dismiss
          </button>
        </Notice>
      ) : null}
      {active && active.method === 'oauth' ? (
        <PassphraseThenSignIn
          prompt={active}
          pending={connect.isPending}
          error={connect.error}
          onSubmit={(pass) => signIn(active, pass)}
          onClose={() => setActive(null)}
        />
      ) : null}
      {active && active.method === 'secret' ? (
        <SecretReauth
          prompt={active}
          needsPassphrase={needsPassphrase}
          onClose={() => setActive(null)}
          onDone={(r) => {
            setActive(null);
            setDone(resumedText(active.credentialName, r));
          }}
        />
      ) : null}
    </section>
  );
}

function resumedText(name: string, r: { resumed: ResumeView['resumed'] }): string {
  const parts = r.resumed.map((e) => `${e.capability} → ${e.target}: ${e.status.replace(/_/g, ' ')}`);
  return `${name} re-authenticated. ${r.resumed.length ? `Resumed ${plural(r.resumed.length, 'action')}: ${parts.join('; ')}.` : 'No action was still waiting.'}`;
}

function PassphraseThenSignIn(props: {
  prompt: PromptView;
  pending: boolean;
  error: unknown;
  onSubmit: (passphrase: string) => void;
  onClose: () => void;
}) {
  const [pass, setPass] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    props.onSubmit(pass);
  };
  const fieldErr = isCallError(props.error)
    ? (props.error.fields.passphrase ?? (props.error.code === 'WRONG_PASSPHRASE' ? props.error.message : undefined))
    : undefined;
  return (
    <Dialog title={`Unlock and sign in to ${props.prompt.credentialName}`} onClose={props.onClose}>
      <form onSubmit={submit} noValidate>
        <PassphraseField id="reauth-pass" onChange={setPass} error={fieldErr} />
        {props.error && !fieldErr ? <Notice kind="error">{messageOf(props.error)}</Notice> : null}
        <div className="actions">
          <button type="submit" className="primary" disabled={props.pending}>
            {props.pending ? 'Waiting for the browser…' : 'Unlock and sign in'}
          </button>
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Static credentials: the secret fields again (write-only), validated before the waiting runs resume. */
function SecretReauth(props: { prompt: PromptView; needsPassphrase: boolean; onClose: () => void; onDone: (r: ResumeView) => void }) {
  const providers = useProviders();
  const reauth = useReauthWithSecrets();
  const mode = providers.data?.find((p) => p.id === props.prompt.provider)?.modes.find((m) => m.id === props.prompt.mode);
  const fields = (mode?.fields ?? []).filter((f) => f.secret);
  const [values, setValues] = useState<Record<string, string>>({});
  const [pass, setPass] = useState('');
  const errors = isCallError(reauth.error) ? formFieldErrors(reauth.error.fields).byField : {};
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const given = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ''));
    reauth.mutate(
      { credentialId: props.prompt.credentialId, values: given, ...(props.needsPassphrase ? { passphrase: pass } : {}) },
      { onSuccess: props.onDone }
    );
  };
  return (
    <Dialog title={`Re-authenticate ${props.prompt.credentialName}`} onClose={props.onClose} wide>
      <form onSubmit={submit} noValidate>
        <p>
          {plural(props.prompt.waiting.length, 'action')} {props.prompt.waiting.length === 1 ? 'waits' : 'wait'} on this credential. Enter
          its new secret: Keydesk checks it with the provider and, if it works, the waiting actions run.
        </p>
        {props.needsPassphrase ? <PassphraseField id="reauth-secret-pass" onChange={setPass} error={errors.passphrase} /> : null}
        {fields.map((f, i) => (
          <ModeField
            key={f.name}
            id={`reauth-${f.name}`}
            field={{ ...f, required: f.required }}
            value={values[f.name] ?? ''}
            onChange={(v) => setValues((p) => ({ ...p, [f.name]: v }))}
            error={errors[f.name]}
            isSet
            editing
            autoFocus={i === 0 && !props.needsPassphrase}
          />
        ))}
        {reauth.error && Object.keys(errors).length === 0 ? <Notice kind="error">{messageOf(reauth.error)}</Notice> : null}
        <div className="actions">
          <button type="submit" className="primary" disabled={reauth.isPending}>
            {reauth.isPending ? 'Checking and resuming…' : 'Save, check and resume'}
          </button>
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
