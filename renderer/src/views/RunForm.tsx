import { Fragment, useEffect, useMemo, useState, type FormEvent } from 'react';
import type { CapabilityShapeView, CapabilityView, CredentialView, ExecutionView, ProviderView } from '../../../preload/contract.ts';
import { isCallError, messageOf } from '../api/client.ts';
import { useCapabilities, useCredentials, usePickCredential, useProviders, useRun } from '../api/queries.ts';
import { Dialog } from '../components/Dialog.tsx';
import { Notice } from '../components/Notice.tsx';
import { StatusChip } from '../components/StatusChip.tsx';

/**
 * The Run form. What each field asks comes from the catalog: the capability's kind (what the target is, whether it is
 * routed by domain or names its credential, whether it acts in a scope, whether it takes something away), and from
 * the provider that will run it (how it names a host, what its scope is, the run's yes/no options). Before Run it
 * shows which credential will be used and its health; a destructive action asks for confirmation, naming the target,
 * the credential and the reason.
 */

const TARGET_LABEL: Record<CapabilityShapeView['target'], string> = {
  email: 'Target email address',
  domain: 'Domain to block',
  resource: 'Resource id',
  ip: 'IP address'
};

/** How long the target must stay unchanged before the form asks main which credential it picks. */
const PICK_DELAY_MS = 300;

function useSettled(value: string, ms: number): string {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}

/** The provider's declaration of a capability (null: the provider cannot run it). */
function capabilityOf(providers: readonly ProviderView[] | undefined, provider: string, id: string): CapabilityView | null {
  return providers?.find((p) => p.id === provider)?.capabilities.find((c) => c.id === id) ?? null;
}

export function RunForm({ onRan }: { onRan: (r: ExecutionView) => void }) {
  const caps = useCapabilities();
  const creds = useCredentials();
  const providers = useProviders();
  const run = useRun();
  const [chosen, setChosen] = useState<string | null>(null);
  // The capabilities and their names come from the catalog; until the analyst picks one, the first it lists.
  const shape = caps.data?.find((c) => c.id === chosen) ?? caps.data?.[0];
  const capability = shape?.id ?? '';
  const resource = shape?.host === 'none';
  const [target, setTarget] = useState('');
  const [host, setHost] = useState('');
  const [credential, setCredential] = useState('');
  const [scope, setScope] = useState('');
  const [options, setOptions] = useState<Record<string, boolean>>({});
  const [reason, setReason] = useState('');
  const [confirming, setConfirming] = useState(false);

  const resourceCreds = useMemo(
    () =>
      (creds.data ?? []).filter((c) => {
        const cap = capabilityOf(providers.data, c.provider, capability);
        return cap !== null && (cap.modes === null || cap.modes.includes(c.mode));
      }),
    [creds.data, providers.data, capability]
  );
  const named = resourceCreds.find((c) => c.id === credential) ?? null;
  const settledTarget = useSettled(target.trim(), PICK_DELAY_MS);
  const pick = usePickCredential(capability, resource && !named && settledTarget ? settledTarget : null);
  const picked = !named && pick.data ? (creds.data?.find((c) => c.id === pick.data.credentialId) ?? null) : null;
  const using = named ?? picked;
  // What the provider that will run it declares: its host format, scope and options. Before a credential is known,
  // every provider that could run it says how it names a host.
  const declared = using ? capabilityOf(providers.data, using.provider, capability) : null;
  const candidates = useMemo(() => {
    const seen = new Map<string, { provider: string; cap: CapabilityView }>();
    for (const c of resourceCreds) {
      const cap = capabilityOf(providers.data, c.provider, capability);
      const label = providers.data?.find((p) => p.id === c.provider)?.label ?? c.provider;
      if (cap && !seen.has(c.provider)) seen.set(c.provider, { provider: label, cap });
    }
    return [...seen.values()];
  }, [resourceCreds, providers.data, capability]);

  const optionValues = Object.fromEntries((declared?.options ?? []).map((o) => [o.name, options[o.name] ?? o.default]));
  const errs = isCallError(run.error) ? run.error.fields : {};
  const hostError = errs.host ?? errs.host_email ?? errs.host_domain;

  const choose = (id: string) => {
    setChosen(id);
    setOptions({});
    setScope('');
  };
  const send = () => {
    const h = host.trim();
    run.mutate(
      {
        capability,
        target,
        reason,
        ...(shape && !resource && h ? (h.includes('@') ? { hostEmail: h } : { hostDomain: h }) : {}),
        ...(resource && credential ? { credential } : {}),
        ...(shape?.scope && scope.trim() ? { scope: scope.trim() } : {}),
        ...(declared?.options.length ? { options: optionValues } : {})
      },
      {
        onSuccess: (r) => {
          setTarget('');
          setReason('');
          setConfirming(false);
          onRan(r);
        },
        onError: () => setConfirming(false)
      }
    );
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!capability) return;
    // A destructive action is confirmed first; an incomplete one goes straight to main, which names what is missing
    // (and runs nothing).
    if (shape?.destructive && target.trim() && reason.trim()) setConfirming(true);
    else send();
  };
  const hostLabel =
    shape?.host === 'email'
      ? 'Protected mailbox'
      : shape?.host === 'optional'
        ? 'Protected domain (optional)'
        : 'Protected mailbox or domain';
  const targetLabel = declared?.target?.label ?? (shape ? TARGET_LABEL[shape.target] : 'Target');
  const targetHelp =
    !declared && candidates.some((c) => c.cap.target)
      ? candidates
          .filter((c) => c.cap.target)
          .map((c) => `${c.provider}: ${c.cap.target!.label} (${c.cap.target!.placeholder})`)
          .join(' · ')
      : undefined;
  const scopeDefault = using && declared?.scope ? (using.metadata[declared.scope.field] ?? null) : null;
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="run-title">
      <h2 id="run-title">Run an action</h2>
      <div className="grid-2">
        <div className="field">
          <label htmlFor="run-cap">Capability</label>
          <select id="run-cap" value={capability} onChange={(e) => choose(e.target.value)} disabled={!caps.data?.length}>
            {(caps.data ?? []).map((c) => (
              <option key={c.id} value={c.id}>
                {c.label}
              </option>
            ))}
          </select>
        </div>
        <RunField
          id="run-target"
          label={targetLabel}
          value={target}
          onChange={setTarget}
          error={errs.target}
          {...(declared?.target ? { placeholder: declared.target.placeholder } : {})}
          {...(targetHelp ? { help: targetHelp } : {})}
        />
        {shape && !resource ? (
          <RunField
            id="run-host"
            label={hostLabel}
            value={host}
            onChange={setHost}
            error={hostError}
            help="The tenant to act in: the action runs with the credential bound to this domain."
          />
        ) : (
          <div className="field">
            <label htmlFor="run-cred">Credential</label>
            <select
              id="run-cred"
              value={credential}
              onChange={(e) => setCredential(e.target.value)}
              aria-invalid={errs.credential ? true : undefined}
              aria-describedby={errs.credential ? 'run-cred-err' : 'run-cred-using'}
            >
              <option value="">The one the target’s account picks</option>
              {resourceCreds.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
            {errs.credential ? (
              <p id="run-cred-err" className="field-error">
                {errs.credential}
              </p>
            ) : null}
          </div>
        )}
        {shape?.scope ? (
          <RunField
            id="run-scope"
            label={`${declared?.scope?.label ?? 'Scope'}${scopeDefault ? ' (optional)' : ''}`}
            value={scope}
            onChange={setScope}
            error={errs.scope}
            {...(declared?.scope ? { placeholder: declared.scope.placeholder } : {})}
            help={
              scopeDefault
                ? `Empty: the credential’s default, ${scopeDefault}.`
                : 'Where the block goes. Empty: the credential’s default scope, if it has one.'
            }
          />
        ) : null}
        <RunField id="run-reason" label="Reason (goes to the audit log)" value={reason} onChange={setReason} error={errs.reason} />
      </div>
      {(declared?.options ?? []).map((o) => (
        <div className="field" key={o.name}>
          <label className="choice">
            <input
              type="checkbox"
              checked={optionValues[o.name] ?? o.default}
              onChange={(e) => setOptions((prev) => ({ ...prev, [o.name]: e.target.checked }))}
              aria-describedby={`run-opt-${o.name}-help`}
            />{' '}
            {o.label}
          </label>
          <p id={`run-opt-${o.name}-help`} className="help">
            {o.help}
          </p>
        </div>
      ))}
      {resource ? (
        <CredentialPreview
          capability={capability}
          using={using}
          named={named !== null}
          why={!named && pick.data ? pick.data.why : null}
          pickError={!named && pick.error ? messageOf(pick.error) : null}
          waiting={!named && !settledTarget}
        />
      ) : null}
      {caps.isError ? <Notice kind="error">{messageOf(caps.error)}</Notice> : null}
      {run.error ? <Notice kind="error">{messageOf(run.error)}</Notice> : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={run.isPending || !capability}>
          {run.isPending ? 'Running…' : 'Run'}
        </button>
      </div>
      {confirming && shape ? (
        <Dialog title={`${shape.label}: ${target.trim()}?`} onClose={() => setConfirming(false)}>
          <dl className="pairs">
            <dt>Target</dt>
            <dd>
              <code>{target.trim()}</code>
            </dd>
            <dt>Credential</dt>
            <dd>{using ? using.name : resource ? 'the one the target’s account picks' : 'the one bound to the protected domain'}</dd>
            {shape.scope && (scope.trim() || scopeDefault) ? (
              <>
                <dt>Scope</dt>
                <dd>{scope.trim() || scopeDefault}</dd>
              </>
            ) : null}
            {(declared?.options ?? []).map((o) => (
              <Fragment key={o.name}>
                <dt>{o.label}</dt>
                <dd>{optionValues[o.name] ? 'yes' : 'no'}</dd>
              </Fragment>
            ))}
            <dt>Reason</dt>
            <dd>{reason.trim()}</dd>
          </dl>
          <p>It takes effect at once. A succeeded run can be reverted from its page.</p>
          {run.error ? <Notice kind="error">{messageOf(run.error)}</Notice> : null}
          <div className="actions">
            <button type="button" data-autofocus onClick={() => setConfirming(false)}>
              Cancel
            </button>
            <button type="button" className="danger" disabled={run.isPending} onClick={send}>
              {run.isPending ? 'Running…' : shape.label}
            </button>
          </div>
        </Dialog>
      ) : null}
    </form>
  );
}

/** Which credential a resource action will run with, its health and whether the provider says it may do this. */
function CredentialPreview(props: {
  capability: string;
  using: CredentialView | null;
  named: boolean;
  why: string | null;
  pickError: string | null;
  waiting: boolean;
}) {
  const { using } = props;
  if (!using) {
    return (
      <p id="run-cred-using" className="help" role="status">
        {props.pickError ??
          (props.waiting ? 'Enter the target: Keydesk picks the credential of its account, or choose one.' : 'Finding the credential…')}
      </p>
    );
  }
  const line = using.readiness.lines.find((l) => l.capability === props.capability);
  const readiness =
    line?.ready === true
      ? 'the provider says it may do this'
      : line?.ready === false
        ? `not ready${line.missing.length ? `: missing ${line.missing.join(', ')}` : ''}${line.note ? ` (${line.note})` : ''}`
        : `readiness unknown${line?.note ? ` (${line.note})` : ''}`;
  return (
    <div id="run-cred-using" className="run-using" role="status" aria-label="Credential this run will use">
      Runs with <strong>{using.name}</strong> ({using.provider}) <StatusChip status={using.status} /> — {readiness}.
      {props.why && !props.named ? <span className="muted"> {props.why}.</span> : null}
    </div>
  );
}

function RunField(props: {
  id: string;
  label: string;
  value: string;
  onChange: (v: string) => void;
  error?: string | undefined;
  help?: string;
  placeholder?: string;
}) {
  const describedBy = [props.error ? `${props.id}-err` : '', props.help ? `${props.id}-help` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="text"
        value={props.value}
        placeholder={props.placeholder}
        spellCheck={false}
        onChange={(e) => props.onChange(e.target.value)}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={describedBy}
      />
      {props.help ? (
        <p id={`${props.id}-help`} className="help">
          {props.help}
        </p>
      ) : null}
      {props.error ? (
        <p id={`${props.id}-err`} className="field-error">
          {props.error}
        </p>
      ) : null}
    </div>
  );
}
