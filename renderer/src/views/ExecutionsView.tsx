import { Fragment, useState } from 'react';
import type { ExecutionView } from '../../../preload/contract.ts';
import { isCallError, messageOf } from '../api/client.ts';
import { useExecutions, useRevert } from '../api/queries.ts';
import { useRoute } from '../app/route.tsx';
import { Dialog } from '../components/Dialog.tsx';
import { ExecutionStatus } from '../components/ExecutionStatus.tsx';
import { EmptyState, Notice } from '../components/Notice.tsx';
import { useNow } from '../components/useNow.ts';
import { dateTime, readableTimes, relative } from '../format.ts';
import { RunForm } from './RunForm.tsx';

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

/** A captured value as one readable line: strings as they are, lists joined, anything nested as compact JSON. */
function shown(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.length ? v.join(', ') : '(none)';
  return JSON.stringify(v);
}

function Facts({ title, facts }: { title: string; facts: Record<string, unknown> }) {
  const entries = Object.entries(facts);
  return (
    <section className="facts" aria-label={title}>
      <h4>{title}</h4>
      {entries.length ? (
        <dl className="pairs">
          {entries.map(([k, v]) => (
            <Fragment key={k}>
              <dt>{k.replace(/_/g, ' ')}</dt>
              <dd>
                <code>{shown(v)}</code>
              </dd>
            </Fragment>
          ))}
        </dl>
      ) : (
        <p className="muted">Nothing recorded.</p>
      )}
    </section>
  );
}

export function RunDetail({ run, locked, onClose }: { run: ExecutionView; locked: boolean; onClose: () => void }) {
  const revert = useRevert();
  const now = useNow();
  const [forcing, setForcing] = useState(false);
  const drift = isCallError(revert.error, 'REVERT_DRIFT') ? revert.error : null;
  const options = Object.entries(run.options);
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
        {run.hostEmail || run.hostDomain ? (
          <>
            <dt>Host</dt>
            <dd>{run.hostEmail ?? run.hostDomain}</dd>
          </>
        ) : null}
        {run.scope ? (
          <>
            <dt>Scope</dt>
            <dd>
              <code>{run.scope}</code>
            </dd>
          </>
        ) : null}
        {options.length ? (
          <>
            <dt>Options</dt>
            <dd>{options.map(([k, v]) => `${k.replace(/_/g, ' ')}: ${v ? 'yes' : 'no'}`).join('; ')}</dd>
          </>
        ) : null}
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
      {run.revertContext || run.result?.details ? (
        <div className="grid-2 before-after">
          <Facts title="Before (captured before any change; what revert restores)" facts={run.revertContext ?? {}} />
          <Facts title="After (what the run did)" facts={run.result?.details ?? {}} />
        </div>
      ) : null}
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
      {drift ? (
        <Notice kind="warning">
          {drift.message.replace(/ Check the resource; to revert anyway:.*$/, '')} Check the resource; if it must go back as it was, Revert
          anyway overwrites that change.
        </Notice>
      ) : revert.error ? (
        <Notice kind="error">{messageOf(revert.error)}</Notice>
      ) : null}
      <div className="actions">
        {run.revertible && !locked && drift ? (
          <button type="button" className="danger" disabled={revert.isPending} onClick={() => setForcing(true)}>
            Revert anyway…
          </button>
        ) : run.revertible && !locked ? (
          <button type="button" className="danger-outline" disabled={revert.isPending} onClick={() => revert.mutate({ id: run.id })}>
            {revert.isPending ? 'Reverting…' : run.status === 'revert_failed' ? 'Retry the revert' : 'Revert'}
          </button>
        ) : null}
        <button type="button" onClick={onClose} data-autofocus>
          Close
        </button>
      </div>
      {forcing && drift ? (
        <Dialog title={`Revert ${run.capability} on ${run.target} anyway?`} onClose={() => setForcing(false)}>
          <p>{drift.message.replace(/ Check the resource; to revert anyway:.*$/, '')}</p>
          <p>Reverting anyway puts back what this run captured before it acted, over the change made since.</p>
          <div className="actions">
            <button type="button" data-autofocus onClick={() => setForcing(false)}>
              Cancel
            </button>
            <button
              type="button"
              className="danger"
              disabled={revert.isPending}
              onClick={() => revert.mutate({ id: run.id, force: true }, { onSettled: () => setForcing(false) })}
            >
              {revert.isPending ? 'Reverting…' : 'Revert anyway'}
            </button>
          </div>
        </Dialog>
      ) : null}
    </Dialog>
  );
}
