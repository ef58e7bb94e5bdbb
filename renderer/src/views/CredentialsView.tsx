import { useDeferredValue, useMemo, useState } from 'react';
import type { CredentialStatus, CredentialView, ProviderView } from '../../../preload/contract.ts';
import { messageOf } from '../api/client.ts';
import { useCredentials, useProviders, useValidate } from '../api/queries.ts';
import { useRoute } from '../app/route.tsx';
import { CheckedAt, Expiry, ReadinessSummary, Rotation, providerLabel } from '../components/CredentialBits.tsx';
import { EmptyState, Notice } from '../components/Notice.tsx';
import { StatusChip } from '../components/StatusChip.tsx';
import { readableTimes } from '../format.ts';
import { useNow } from '../components/useNow.ts';
import { ValidateAll } from '../components/ValidateAll.tsx';
import { CredentialForm } from './CredentialForm.tsx';

type StatusFilter = 'all' | 'attention' | 'due' | CredentialStatus;

/** Due soon: its rotation is due or close (the mode's policy), or its secret expires soon or has expired. */
function dueSoon(c: CredentialView): boolean {
  const l = c.lifecycle;
  return Boolean(l.rotation?.due || l.rotation?.soon || (l.expiry && l.expiry.state !== 'ok'));
}

function matches(c: CredentialView, providers: ProviderView[] | undefined, q: string, status: StatusFilter, provider: string): boolean {
  if (status === 'attention' && c.status === 'ok' && !c.rotationDue) return false;
  if (status === 'due' && !dueSoon(c)) return false;
  if (status !== 'all' && status !== 'attention' && status !== 'due' && c.status !== status) return false;
  if (provider !== 'all' && c.provider !== provider) return false;
  if (!q) return true;
  const l = providerLabel(providers, c);
  const hay = [
    c.name,
    c.provider,
    c.mode,
    l.provider,
    l.mode,
    c.lastError?.code ?? '',
    c.lastError?.message ?? '',
    ...Object.values(c.metadata),
    ...c.suggestions
  ]
    .join(' ')
    .toLowerCase();
  return q
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => hay.includes(w));
}

export function CredentialsView() {
  const { go, locked, requestUnlock } = useRoute();
  const list = useCredentials();
  const providers = useProviders();
  const now = useNow();
  const [query, setQuery] = useState('');
  const [status, setStatus] = useState<StatusFilter>('all');
  const [provider, setProvider] = useState('all');
  const [adding, setAdding] = useState(false);
  const q = useDeferredValue(query.trim());

  const rows = useMemo(
    () => (list.data ?? []).filter((c) => matches(c, providers.data, q, status, provider)),
    [list.data, providers.data, q, status, provider]
  );
  const total = list.data?.length ?? 0;
  const counts = useMemo(() => {
    const m: Record<CredentialStatus, number> = { ok: 0, failed: 0, expired: 0, unknown: 0 };
    for (const c of list.data ?? []) m[c.status]++;
    return m;
  }, [list.data]);
  const filtered = q !== '' || status !== 'all' || provider !== 'all';

  const addButton = locked ? (
    <button type="button" className="primary" onClick={requestUnlock}>
      Unlock to add a credential
    </button>
  ) : (
    <button type="button" className="primary" onClick={() => setAdding(true)}>
      Add credential
    </button>
  );

  return (
    <section aria-labelledby="creds-title">
      <div className="page-head">
        <h1 id="creds-title" tabIndex={-1}>
          Credentials
        </h1>
        <div className="page-actions">
          {total > 0 && !locked ? <ValidateAll /> : null}
          {addButton}
        </div>
      </div>
      {total > 0 ? (
        <div className="summary" role="group" aria-label="Health summary">
          <span>{total} total</span>
          <span>
            <StatusChip status="ok" /> {counts.ok}
          </span>
          <span>
            <StatusChip status="failed" /> {counts.failed}
          </span>
          <span>
            <StatusChip status="expired" /> {counts.expired}
          </span>
          <span>
            <StatusChip status="unknown" /> {counts.unknown}
          </span>
        </div>
      ) : null}
      {list.isError ? <Notice kind="error">{messageOf(list.error)}</Notice> : null}
      {list.isSuccess && total === 0 ? (
        <EmptyState title="No credentials yet" action={addButton}>
          Add the first credential a response action runs with: pick its provider and auth mode, paste its secret, and Keydesk checks that
          it works. You can also add credentials with <code>keydesk add</code>.
        </EmptyState>
      ) : null}
      {total > 0 ? (
        <>
          <div className="toolbar" role="search" aria-label="Filter credentials">
            <div className="field inline">
              <label htmlFor="cred-search">Search</label>
              <input
                id="cred-search"
                type="search"
                value={query}
                onChange={(e) => setQuery(e.target.value)}
                placeholder="Name, provider, tenant, error…"
              />
            </div>
            <div className="field inline">
              <label htmlFor="cred-status">Health</label>
              <select id="cred-status" value={status} onChange={(e) => setStatus(e.target.value as StatusFilter)}>
                <option value="all">All</option>
                <option value="attention">Needs attention</option>
                <option value="due">Due soon (rotation or expiry)</option>
                <option value="ok">OK</option>
                <option value="failed">Failed</option>
                <option value="expired">Expired</option>
                <option value="unknown">Unknown</option>
              </select>
            </div>
            <div className="field inline">
              <label htmlFor="cred-provider">Provider</label>
              <select id="cred-provider" value={provider} onChange={(e) => setProvider(e.target.value)}>
                <option value="all">All</option>
                {(providers.data ?? []).map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.label}
                  </option>
                ))}
              </select>
            </div>
          </div>
          {rows.length === 0 ? (
            <EmptyState
              title="No credential matches"
              action={
                <button
                  type="button"
                  onClick={() => {
                    setQuery('');
                    setStatus('all');
                    setProvider('all');
                  }}
                >
                  Clear filters
                </button>
              }
            >
              Nothing among {total} credentials matches these filters.
            </EmptyState>
          ) : (
            <div className="table-wrap">
              <table className="data">
                <caption className="visually-hidden">Credentials{filtered ? ` (${rows.length} of ${total} shown)` : ''}</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Provider</th>
                    <th scope="col">Health</th>
                    <th scope="col">Last error</th>
                    <th scope="col">Checked</th>
                    <th scope="col">Expiry</th>
                    <th scope="col">Rotation</th>
                    <th scope="col">Readiness</th>
                    {locked ? null : (
                      <th scope="col">
                        <span className="visually-hidden">Actions</span>
                      </th>
                    )}
                  </tr>
                </thead>
                <tbody>
                  {rows.map((c) => {
                    const l = providerLabel(providers.data, c);
                    return (
                      <tr key={c.id}>
                        <th scope="row">
                          <button type="button" className="link" onClick={() => go({ name: 'credential', id: c.id })}>
                            {c.name}
                          </button>
                        </th>
                        <td>
                          {l.provider}
                          <div className="muted small">{l.mode}</div>
                        </td>
                        <td>
                          <StatusChip status={c.status} />
                        </td>
                        <td className="error-cell">
                          {c.lastError ? (
                            <>
                              <code>{c.lastError.code}</code> {readableTimes(c.lastError.message)}
                            </>
                          ) : (
                            <span className="muted">—</span>
                          )}
                        </td>
                        <td>
                          <CheckedAt c={c} now={now} />
                        </td>
                        <td>
                          <Expiry c={c} now={now} />
                        </td>
                        <td>
                          <Rotation c={c} now={now} />
                        </td>
                        <td>
                          <ReadinessSummary c={c} />
                        </td>
                        {locked ? null : (
                          <td>
                            <ValidateButton id={c.id} name={c.name} />
                          </td>
                        )}
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </>
      ) : null}
      {adding ? (
        <CredentialForm mode={{ kind: 'add' }} onClose={() => setAdding(false)} onSaved={(c) => go({ name: 'credential', id: c.id })} />
      ) : null}
    </section>
  );
}

function ValidateButton({ id, name }: { id: string; name: string }) {
  const validate = useValidate();
  return (
    <>
      <button type="button" onClick={() => validate.mutate(id)} disabled={validate.isPending}>
        {validate.isPending ? 'Checking…' : 'Validate'}
        <span className="visually-hidden"> {name}</span>
      </button>
      {validate.error ? (
        <p className="field-error" role="alert">
          {messageOf(validate.error)}
        </p>
      ) : null}
    </>
  );
}
