import { useState } from 'react';
import type { CredentialView } from '../../../preload/contract.ts';
import { isCallError, messageOf } from '../api/client.ts';
import { useOAuthFlow } from '../api/events.ts';
import {
  useAudit,
  useBindings,
  useCredential,
  useExecutions,
  useOAuthCancel,
  useOAuthConnect,
  useProviders,
  useRemoveCredential,
  useValidate
} from '../api/queries.ts';
import { useRoute } from '../app/route.tsx';
import { AuditTable } from '../components/AuditTable.tsx';
import { CheckedAt, Expiry, Rotation, providerLabel } from '../components/CredentialBits.tsx';
import { Dialog } from '../components/Dialog.tsx';
import { EmptyState, Notice } from '../components/Notice.tsx';
import { StatusChip } from '../components/StatusChip.tsx';
import { useNow } from '../components/useNow.ts';
import { keyLabel, readableTimes } from '../format.ts';
import { ExecutionStatus } from '../components/ExecutionStatus.tsx';
import { CredentialForm, type FormMode } from './CredentialForm.tsx';
import { SuggestionsFor } from './DomainsView.tsx';
import { RunDetail } from './ExecutionsView.tsx';
import { RotateDialog } from './RotateDialog.tsx';

function ConfirmDelete({ c, onClose, onDeleted }: { c: CredentialView; onClose: () => void; onDeleted: () => void }) {
  const remove = useRemoveCredential();
  return (
    <Dialog title={`Delete “${c.name}”?`} onClose={onClose} describedBy="delete-desc">
      <p id="delete-desc">
        This removes <strong>{c.name}</strong> and destroys its encrypted secret (its key is deleted, so no copy of the vault can decrypt it
        any more). Response actions that use it will stop working. The audit log keeps a record that it existed.
      </p>
      {remove.error ? <Notice kind="error">{messageOf(remove.error)}</Notice> : null}
      <div className="actions">
        <button type="button" data-autofocus onClick={onClose}>
          Cancel
        </button>
        {/* mutateAsync, not mutate's onSuccess: the deletion's own event can refresh this page first, which unmounts the
            dialog, and a mutate callback of an unmounted component never runs — the analyst was left on "gone". */}
        <button
          type="button"
          className="danger"
          disabled={remove.isPending}
          onClick={() => void remove.mutateAsync(c.id).then(onDeleted, () => undefined)}
        >
          {remove.isPending ? 'Deleting…' : `Delete “${c.name}”`}
        </button>
      </div>
    </Dialog>
  );
}

export function CredentialDetail({ id }: { id: string }) {
  const { go, locked, requestUnlock } = useRoute();
  const cred = useCredential(id);
  const providers = useProviders();
  const audit = useAudit(id, 20);
  const bindings = useBindings(id);
  const runs = useExecutions(id, 10);
  const connect = useOAuthConnect();
  const validate = useValidate();
  const cancelFlow = useOAuthCancel();
  const flow = useOAuthFlow();
  const now = useNow();
  const [form, setForm] = useState<FormMode | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [rotating, setRotating] = useState(false);
  const [openRun, setOpenRun] = useState<string | null>(null);

  const back = (
    <button type="button" className="link back" onClick={() => go({ name: 'credentials' })}>
      ← All credentials
    </button>
  );
  if (cred.isError) {
    return (
      <section>
        {back}
        {isCallError(cred.error, 'NOT_FOUND') ? (
          <EmptyState title="This credential is gone">It was deleted (perhaps from the CLI). Go back to the list.</EmptyState>
        ) : (
          <Notice kind="error">{messageOf(cred.error)}</Notice>
        )}
      </section>
    );
  }
  const c = cred.data;
  if (!c) return <section aria-busy="true">{back}</section>;
  const l = providerLabel(providers.data, c);
  const provider = providers.data?.find((p) => p.id === c.provider);
  const mode = provider?.modes.find((m) => m.id === c.mode);
  const needsUnlock = (label: string, run: () => void) =>
    locked ? (
      <button type="button" onClick={requestUnlock}>
        Unlock to {label.toLowerCase()}
      </button>
    ) : (
      <button type="button" onClick={run}>
        {label}
      </button>
    );

  return (
    <section aria-labelledby="detail-title">
      {back}
      <div className="page-head">
        <h1 id="detail-title" tabIndex={-1}>
          {c.name} <StatusChip status={c.status} />
        </h1>
        <div className="page-actions">
          {locked ? null : (
            <button type="button" className="primary" onClick={() => validate.mutate(c.id)} disabled={validate.isPending}>
              {validate.isPending ? 'Checking with the provider…' : 'Validate'}
            </button>
          )}
          {mode?.oauth ? (
            connect.isPending ? (
              <>
                <span role="status">
                  {flow?.stage === 'waiting_for_browser' ? 'Waiting for the sign-in in your browser…' : 'Signing in…'}
                </span>
                <button type="button" onClick={() => cancelFlow.mutate()}>
                  Cancel sign-in
                </button>
              </>
            ) : (
              needsUnlock(c.status === 'ok' ? 'Sign in again' : 'Re-authenticate', () => connect.mutate({ credentialId: c.id }))
            )
          ) : (
            needsUnlock(c.status === 'failed' || c.status === 'expired' ? 'Re-authenticate' : 'Edit secrets', () =>
              setForm({ kind: 'edit', credential: c, focusSecrets: true })
            )
          )}
          {mode && !mode.oauth && mode.fields.some((f) => f.secret) ? needsUnlock('Rotate secret…', () => setRotating(true)) : null}
          {needsUnlock('Edit', () => setForm({ kind: 'edit', credential: c }))}
          {locked ? null : (
            <button type="button" className="danger-outline" onClick={() => setDeleting(true)}>
              Delete
            </button>
          )}
        </div>
      </div>
      <p className="lede">
        {l.provider} — {l.mode}
      </p>
      {connect.error ? <Notice kind="error">{messageOf(connect.error)}</Notice> : null}
      {validate.error ? <Notice kind="error">{messageOf(validate.error)}</Notice> : null}

      <div className="cards">
        <section className="card" aria-labelledby="health-title">
          <h2 id="health-title">Health</h2>
          <dl className="pairs">
            <dt>Status</dt>
            <dd>
              <StatusChip status={c.status} />
            </dd>
            <dt>Last check</dt>
            <dd>
              <CheckedAt c={c} now={now} />
            </dd>
            <dt>Last error</dt>
            <dd>
              {c.lastError ? (
                <>
                  <code>{c.lastError.code}</code> {readableTimes(c.lastError.message)}
                </>
              ) : (
                <span className="muted">none</span>
              )}
            </dd>
            <dt>Expiry</dt>
            <dd>
              <Expiry c={c} now={now} />
            </dd>
            <dt>Rotation</dt>
            <dd>
              <Rotation c={c} now={now} /> <span className="muted small">(policy: every {mode?.rotationDays ?? '?'} days)</span>
            </dd>
          </dl>
        </section>

        <section className="card" aria-labelledby="meta-title">
          <h2 id="meta-title">Details</h2>
          <dl className="pairs">
            {Object.entries(c.metadata).map(([k, v]) => (
              <FragmentPair key={k} k={keyLabel(k)} v={v} />
            ))}
            {Object.entries(c.identity).map(([k, v]) => (
              <FragmentPair key={`id-${k}`} k={keyLabel(k)} v={v} />
            ))}
            <dt>Secrets</dt>
            <dd>
              {c.secretsSet.length ? (
                c.secretsSet.map((s) => keyLabel(s)).join(', ') + ' — set (never shown)'
              ) : (
                <span className="muted">none stored</span>
              )}
            </dd>
            <dt>Id</dt>
            <dd>
              <code>{c.id}</code>
            </dd>
          </dl>
        </section>
      </div>

      <section className="card" aria-labelledby="ready-title">
        <h2 id="ready-title">What it can do</h2>
        {!c.readiness.known ? (
          <p className="muted">
            Readiness is known after the provider has been asked (validation). Capabilities of this provider:{' '}
            {(provider?.capabilities ?? []).map((x) => x.label).join('; ') || 'none'}.
          </p>
        ) : c.readiness.lines.length === 0 ? (
          <p className="muted">This provider offers no response actions.</p>
        ) : (
          <table className="data">
            <caption className="visually-hidden">Capability readiness</caption>
            <thead>
              <tr>
                <th scope="col">Capability</th>
                <th scope="col">Ready</th>
                <th scope="col">Missing</th>
              </tr>
            </thead>
            <tbody>
              {c.readiness.lines.map((r) => (
                <tr key={r.capability}>
                  <th scope="row">{r.label}</th>
                  <td>{r.ready === true ? 'Ready' : r.ready === false ? 'Not ready' : 'Unknown until tried'}</td>
                  <td>
                    {r.missing.length ? r.missing.join(', ') : <span className="muted">—</span>}
                    {r.note ? <div className="muted small">{r.note}</div> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {c.suggestions.length ? (
          <p>
            Domains this tenant owns (binding suggestions): <strong>{c.suggestions.join(', ')}</strong>
          </p>
        ) : null}
      </section>

      {provider?.tenantScoped ? (
        <section className="card" aria-labelledby="bound-title">
          <h2 id="bound-title">Domains it protects</h2>
          {bindings.data && bindings.data.length > 0 ? (
            <ul className="plain">
              {bindings.data.map((b) => (
                <li key={b.id}>
                  <strong>{b.domainDisplay}</strong>
                  {b.subdomains ? ' and its subdomains' : ''}
                  {b.intact === false ? <span className="text-bad"> — changed in the file, not used</span> : null}
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted">Not bound to any domain yet: tenant actions cannot be routed to it. Bind it on the Domains page.</p>
          )}
          <SuggestionsFor c={c} locked={locked} />
        </section>
      ) : null}

      <section className="card" aria-labelledby="runs-title">
        <h2 id="runs-title">Recent actions</h2>
        {runs.data && runs.data.length > 0 ? (
          <ul className="plain">
            {runs.data.map((r) => (
              <li key={r.id}>
                <ExecutionStatus status={r.status} />{' '}
                <button type="button" className="link" onClick={() => setOpenRun(r.id)}>
                  {r.capability} → {r.target}
                </button>{' '}
                <span className="muted small">{r.createdAt ? new Date(r.createdAt).toLocaleString() : ''}</span>
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">No action has run with it yet.</p>
        )}
      </section>

      <section className="card" aria-labelledby="recent-title">
        <h2 id="recent-title">Recent activity</h2>
        {audit.data && audit.data.length > 0 ? (
          <AuditTable entries={audit.data} now={now} showCredential={false} caption={`Recent audit entries for ${c.name}`} />
        ) : (
          <p className="muted">No entries.</p>
        )}
      </section>

      {form ? <CredentialForm mode={form} onClose={() => setForm(null)} /> : null}
      {openRun && runs.data?.find((r) => r.id === openRun) ? (
        <RunDetail run={runs.data.find((r) => r.id === openRun)!} locked={locked} onClose={() => setOpenRun(null)} />
      ) : null}
      {deleting ? <ConfirmDelete c={c} onClose={() => setDeleting(false)} onDeleted={() => go({ name: 'credentials' })} /> : null}
      {rotating && mode ? <RotateDialog c={c} mode={mode} onClose={() => setRotating(false)} /> : null}
    </section>
  );
}

function FragmentPair({ k, v }: { k: string; v: string }) {
  return (
    <>
      <dt>{k}</dt>
      <dd>{v}</dd>
    </>
  );
}
