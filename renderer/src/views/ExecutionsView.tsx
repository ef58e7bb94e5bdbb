import { useMemo, useState, type FormEvent } from 'react';
import type { CapabilityShapeView, ExecutionView } from '../../../preload/contract.ts';
import { isCallError, messageOf } from '../api/client.ts';
import { useCapabilities, useCredentials, useExecutions, useProviders, useRevert, useRun } from '../api/queries.ts';
import { useRoute } from '../app/route.tsx';
import { Dialog } from '../components/Dialog.tsx';
import { ExecutionStatus } from '../components/ExecutionStatus.tsx';
import { EmptyState, Notice } from '../components/Notice.tsx';
import { useNow } from '../components/useNow.ts';
import { dateTime, readableTimes, relative } from '../format.ts';

const TARGET_LABEL: Record<CapabilityShapeView['target'], string> = {
  email: 'Target email address',
  domain: 'Domain to block',
  resource: 'Resource id',
  ip: 'IP address'
};

export function ExecutionsView() {
  const { locked, requestUnlock } = useRoute();
  const runs = useExecutions();
  const now = useNow();
  const [open, setOpen] = useState<string | null>(null);
  const selected = runs.data?.find((r) => r.id === open) ?? null;
  return (
    <section aria-labelledby="exec-title">
      <div className="page-head">
        <h1 id="exec-title" tabIndex={-1}>
          Executions
        </h1>
      </div>
      <p className="lede">
        Response actions run with a credential from the vault: routed by domain for tenant actions, named for resource actions. Each run
        keeps its step log; a succeeded run can be reverted.
      </p>
      {locked ? (
        <Notice kind="warning">
          Running and reverting actions need the vault key.{' '}
          <button type="button" className="link" onClick={requestUnlock}>
            Unlock
          </button>
        </Notice>
      ) : (
        <RunForm onRan={(r) => setOpen(r.id)} />
      )}
      {runs.isError ? <Notice kind="error">{messageOf(runs.error)}</Notice> : null}
      {runs.data && runs.data.length === 0 ? (
        <EmptyState title="No actions have run yet">
          Run one above, or with keydesk run from a terminal or an agent. Every run appears here with its status and step log.
        </EmptyState>
      ) : null}
      {runs.data && runs.data.length > 0 ? (
        <div className="table-wrap">
          <table className="data">
            <caption className="visually-hidden">Executions, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Action</th>
                <th scope="col">Status</th>
                <th scope="col">Host</th>
                <th scope="col">Credential</th>
                <th scope="col">Who</th>
                <th scope="col">When</th>
              </tr>
            </thead>
            <tbody>
              {runs.data.map((r) => (
                <tr key={r.id}>
                  <th scope="row">
                    <button type="button" className="link" onClick={() => setOpen(r.id)}>
                      {r.capability} → {r.target}
                    </button>
                  </th>
                  <td>
                    <ExecutionStatus status={r.status} />
                    {r.status === 'awaiting_reauth' && r.deadline ? (
                      <div className="muted small">re-auth {relative(r.deadline, now).replace(/^in /, 'within ')}</div>
                    ) : null}
                    {r.failureReason ? <div className="muted small">{r.failureReason.replace(/_/g, ' ')}</div> : null}
                  </td>
                  <td>{r.hostEmail ?? r.hostDomain ?? <span className="muted">—</span>}</td>
                  <td>{r.credentialName}</td>
                  <td>{r.actor}</td>
                  <td>
                    <time dateTime={r.createdAt} title={dateTime(r.createdAt)}>
                      {relative(r.createdAt, now)}
                    </time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {selected ? <RunDetail run={selected} locked={locked} onClose={() => setOpen(null)} /> : null}
    </section>
  );
}

function RunForm({ onRan }: { onRan: (r: ExecutionView) => void }) {
  const caps = useCapabilities();
  const creds = useCredentials();
  const providers = useProviders();
  const run = useRun();
  const [chosen, setChosen] = useState<string | null>(null);
  // The capabilities and their names come from the catalog; until the analyst picks one, the first it lists.
  const shape = caps.data?.find((c) => c.id === chosen) ?? caps.data?.[0];
  const capability = shape?.id ?? '';
  const [target, setTarget] = useState('');
  const [host, setHost] = useState('');
  const [credential, setCredential] = useState('');
  const [reason, setReason] = useState('');
  const resourceCreds = useMemo(
    () =>
      (creds.data ?? []).filter((c) =>
        providers.data
          ?.find((p) => p.id === c.provider)
          ?.capabilities.some((x) => x.id === capability && (x.modes === null || x.modes.includes(c.mode)))
      ),
    [creds.data, providers.data, capability]
  );
  const errs = isCallError(run.error) ? run.error.fields : {};
  const hostError = errs.host ?? errs.host_email ?? errs.host_domain;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!capability) return;
    const h = host.trim();
    run.mutate(
      {
        capability,
        target,
        reason,
        ...(shape && shape.host !== 'none' && h ? (h.includes('@') ? { hostEmail: h } : { hostDomain: h }) : {}),
        ...(shape?.host === 'none' && credential ? { credential } : {})
      },
      {
        onSuccess: (r) => {
          setTarget('');
          setReason('');
          onRan(r);
        }
      }
    );
  };
  const hostLabel =
    shape?.host === 'email'
      ? 'Protected mailbox'
      : shape?.host === 'optional'
        ? 'Protected domain (optional)'
        : 'Protected mailbox or domain';
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="run-title">
      <h2 id="run-title">Run an action</h2>
      <div className="grid-2">
        <div className="field">
          <label htmlFor="run-cap">Capability</label>
          <select id="run-cap" value={capability} onChange={(e) => setChosen(e.target.value)} disabled={!caps.data?.length}>
            {(caps.data ?? []).map((c) => (
              <option key={c.id} value={c.id}>
                {c.label}
              </option>
            ))}
          </select>
        </div>
        <RunField
          id="run-target"
          label={shape ? TARGET_LABEL[shape.target] : 'Target'}
          value={target}
          onChange={setTarget}
          error={errs.target}
        />
        {shape && shape.host !== 'none' ? (
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
              aria-describedby={errs.credential ? 'run-cred-err' : undefined}
            >
              <option value="">Choose…</option>
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
        <RunField id="run-reason" label="Reason (goes to the audit log)" value={reason} onChange={setReason} error={errs.reason} />
      </div>
      {caps.isError ? <Notice kind="error">{messageOf(caps.error)}</Notice> : null}
      {run.error ? <Notice kind="error">{messageOf(run.error)}</Notice> : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={run.isPending || !capability}>
          {run.isPending ? 'Running…' : 'Run'}
        </button>
      </div>
    </form>
  );
}

function RunField(props: {
  id: string;
  label: string;
  value: string;
  onChange: (v: string) => void;
  error?: string | undefined;
  help?: string;
}) {
  const describedBy = [props.error ? `${props.id}-err` : '', props.help ? `${props.id}-help` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="text"
        value={props.value}
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

export function RunDetail({ run, locked, onClose }: { run: ExecutionView; locked: boolean; onClose: () => void }) {
  const revert = useRevert();
  const now = useNow();
  return (
    <Dialog title={`${run.capability} → ${run.target}`} onClose={onClose} wide>
      <dl className="pairs">
        <dt>Status</dt>
        <dd>
          <ExecutionStatus status={run.status} />
          {run.marker ? <span className="muted"> ({run.marker})</span> : null}
          {run.failureReason ? <span className="muted"> — {run.failureReason.replace(/_/g, ' ')}</span> : null}
        </dd>
        {run.status === 'awaiting_reauth' && run.deadline ? (
          <>
            <dt>Waits until</dt>
            <dd>
              {dateTime(run.deadline)} ({relative(run.deadline, now)})
            </dd>
          </>
        ) : null}
        <dt>Credential</dt>
        <dd>
          {run.credentialName}
          {run.boundDomain ? <span className="muted"> (bound to {run.boundDomain})</span> : null}
        </dd>
        <dt>Host</dt>
        <dd>{run.hostEmail ?? run.hostDomain ?? '—'}</dd>
        <dt>Reason</dt>
        <dd>{run.reason}</dd>
        <dt>Who</dt>
        <dd>{run.actor}</dd>
        {run.result ? (
          <>
            <dt>Result</dt>
            <dd>{readableTimes(run.result.summary)}</dd>
          </>
        ) : null}
        {run.error ? (
          <>
            <dt>Error</dt>
            <dd>
              <code>{run.error.code}</code> {readableTimes(run.error.message)}
            </dd>
          </>
        ) : null}
        <dt>Id</dt>
        <dd>
          <code>{run.id}</code>
        </dd>
      </dl>
      <h3>Step log</h3>
      <ol className="steps">
        {run.steps.map((s, i) => (
          <li key={i}>
            <time dateTime={s.at} className="muted small">
              {dateTime(s.at)}
            </time>{' '}
            {readableTimes(s.message)}
          </li>
        ))}
      </ol>
      {revert.error ? <Notice kind="error">{messageOf(revert.error)}</Notice> : null}
      <div className="actions">
        {run.revertible && !locked ? (
          <button type="button" className="danger-outline" disabled={revert.isPending} onClick={() => revert.mutate(run.id)}>
            {revert.isPending ? 'Reverting…' : run.status === 'revert_failed' ? 'Retry the revert' : 'Revert'}
          </button>
        ) : null}
        <button type="button" onClick={onClose} data-autofocus>
          Close
        </button>
      </div>
    </Dialog>
  );
}
