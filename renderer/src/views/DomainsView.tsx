import { useState, type FormEvent } from 'react';
import type { BindingView, CredentialView } from '../../../preload/contract.ts';
import { isCallError, messageOf } from '../api/client.ts';
import {
  useAcceptSuggestions,
  useBind,
  useBindings,
  useCapabilities,
  useCredentials,
  useProviders,
  useResolvePreview,
  useSuggestions,
  useUnbind
} from '../api/queries.ts';
import { useRoute } from '../app/route.tsx';
import { Dialog } from '../components/Dialog.tsx';
import { EmptyState, Notice } from '../components/Notice.tsx';
import { useNow } from '../components/useNow.ts';
import { dateTime, relative } from '../format.ts';

export function DomainsView() {
  const { locked, requestUnlock } = useRoute();
  const bindings = useBindings();
  const creds = useCredentials();
  const providers = useProviders();
  const now = useNow();
  const [unbinding, setUnbinding] = useState<BindingView | null>(null);
  const tenantCreds = (creds.data ?? []).filter((c) => providers.data?.find((p) => p.id === c.provider)?.tenantScoped);

  return (
    <section aria-labelledby="domains-title">
      <div className="page-head">
        <h1 id="domains-title" tabIndex={-1}>
          Domains
        </h1>
      </div>
      <p className="lede">
        Email and identity actions act on a tenant. A binding ties a tenant credential to a domain it protects; an action on
        alice@corp.example runs with the credential bound to corp.example (or to a parent domain that covers subdomains).
      </p>

      <ResolvePreview />

      {locked ? (
        <Notice kind="warning">
          Binding and unbinding need the vault key.{' '}
          <button type="button" className="link" onClick={requestUnlock}>
            Unlock
          </button>
        </Notice>
      ) : tenantCreds.length > 0 ? (
        <BindForm creds={tenantCreds} />
      ) : null}

      {tenantCreds.map((c) => (
        <SuggestionsFor key={c.id} c={c} locked={locked} />
      ))}

      {bindings.isError ? <Notice kind="error">{messageOf(bindings.error)}</Notice> : null}
      {bindings.data && bindings.data.length === 0 ? (
        <EmptyState title="No domain is bound yet">
          {tenantCreds.length === 0
            ? 'Add a tenant credential first (Microsoft 365, Google Workspace or the AgentSOC blocklist), validate it, then bind it here to the domains it protects.'
            : 'Bind each tenant credential to the domains it protects (above). Validated Microsoft 365 and Google Workspace credentials also suggest their verified domains.'}
        </EmptyState>
      ) : null}
      {bindings.data && bindings.data.length > 0 ? (
        <div className="table-wrap">
          <table className="data">
            <caption className="visually-hidden">Domain bindings</caption>
            <thead>
              <tr>
                <th scope="col">Domain</th>
                <th scope="col">Credential</th>
                <th scope="col">Subdomains</th>
                <th scope="col">Bound</th>
                <th scope="col">Integrity</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {bindings.data.map((b) => (
                <tr key={b.id}>
                  <th scope="row">
                    {b.domainDisplay}
                    {b.domainDisplay !== b.domain ? <div className="muted small">{b.domain}</div> : null}
                  </th>
                  <td>{b.credentialName}</td>
                  <td>{b.subdomains ? 'covered' : 'exact domain only'}</td>
                  <td>
                    <time dateTime={b.createdAt} title={dateTime(b.createdAt)}>
                      {relative(b.createdAt, now)}
                    </time>
                  </td>
                  <td>
                    {b.intact === null ? (
                      <span className="muted">checked when unlocked</span>
                    ) : b.intact ? (
                      'intact'
                    ) : (
                      <span className="text-bad">changed in the file — not used</span>
                    )}
                  </td>
                  <td>
                    {locked ? null : (
                      <button type="button" onClick={() => setUnbinding(b)}>
                        Unbind
                        <span className="visually-hidden">
                          {' '}
                          {b.domainDisplay} from {b.credentialName}
                        </span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {unbinding ? <ConfirmUnbind b={unbinding} onClose={() => setUnbinding(null)} /> : null}
    </section>
  );
}

function ConfirmUnbind({ b, onClose }: { b: BindingView; onClose: () => void }) {
  const unbind = useUnbind();
  return (
    <Dialog title={`Unbind ${b.domainDisplay} from ${b.credentialName}?`} onClose={onClose}>
      <p>
        Actions on {b.domainDisplay} will no longer be routed to {b.credentialName}. Runs already recorded keep their history.
      </p>
      {unbind.error ? <Notice kind="error">{messageOf(unbind.error)}</Notice> : null}
      <div className="actions">
        <button type="button" data-autofocus onClick={onClose}>
          Cancel
        </button>
        <button
          type="button"
          className="danger"
          disabled={unbind.isPending}
          onClick={() => unbind.mutate({ credentialId: b.credentialId, domain: b.domain }, { onSuccess: onClose })}
        >
          Unbind {b.domainDisplay}
        </button>
      </div>
    </Dialog>
  );
}

function BindForm({ creds }: { creds: CredentialView[] }) {
  const bind = useBind();
  const [credentialId, setCredentialId] = useState(creds[0]?.id ?? '');
  const [domain, setDomain] = useState('');
  const [subdomains, setSubdomains] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const errs = isCallError(bind.error) ? bind.error.fields : {};
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSaved(null);
    bind.mutate(
      { credentialId, domain, subdomains },
      {
        onSuccess: (b) => {
          setSaved(
            b.change === 'unchanged'
              ? `${b.domainDisplay} was already bound to ${b.credentialName}.`
              : `Bound ${b.domainDisplay} to ${b.credentialName}.`
          );
          setDomain('');
        }
      }
    );
  };
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="bind-title">
      <h2 id="bind-title">Bind a domain</h2>
      <div className="toolbar">
        <div className="field inline">
          <label htmlFor="bind-cred">Credential</label>
          <select
            id="bind-cred"
            value={credentialId}
            onChange={(e) => setCredentialId(e.target.value)}
            aria-invalid={errs.credential ? true : undefined}
            aria-describedby={errs.credential ? 'bind-cred-err' : undefined}
          >
            {creds.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
          {errs.credential ? (
            <p id="bind-cred-err" className="field-error">
              {errs.credential}
            </p>
          ) : null}
        </div>
        <div className="field inline">
          <label htmlFor="bind-domain">Domain</label>
          <input
            id="bind-domain"
            type="text"
            value={domain}
            onChange={(e) => setDomain(e.target.value)}
            placeholder="corp.example"
            aria-invalid={errs.domain ? true : undefined}
            aria-describedby={errs.domain ? 'bind-domain-err' : undefined}
          />
          {errs.domain ? (
            <p id="bind-domain-err" className="field-error">
              {errs.domain}
            </p>
          ) : null}
        </div>
        <label className="choice inline-choice">
          <input type="checkbox" checked={subdomains} onChange={(e) => setSubdomains(e.target.checked)} /> Also its subdomains
        </label>
        <button type="submit" className="primary" disabled={bind.isPending || !credentialId}>
          Bind
        </button>
      </div>
      {bind.error && (Object.keys(errs).length === 0 || isCallError(bind.error, 'AMBIGUOUS_BINDING')) ? (
        <Notice kind="error">{messageOf(bind.error)}</Notice>
      ) : null}
      {saved ? <Notice kind="success">{saved}</Notice> : null}
    </form>
  );
}

export function SuggestionsFor({ c, locked }: { c: CredentialView; locked: boolean }) {
  const suggestions = useSuggestions(c.id, c.suggestions.length > 0);
  const accept = useAcceptSuggestions();
  const list = suggestions.data ?? [];
  if (list.length === 0) return null;
  return (
    <div className="card suggestion" aria-label={`Suggested domains for ${c.name}`}>
      <p>
        <strong>{c.name}</strong> says its tenant owns: {list.join(', ')}.
      </p>
      {locked ? null : (
        <div className="actions">
          <button type="button" className="primary" disabled={accept.isPending} onClick={() => accept.mutate({ credentialId: c.id })}>
            Bind all {list.length} to {c.name}
          </button>
          {list.length > 1
            ? list.map((d) => (
                <button
                  key={d}
                  type="button"
                  disabled={accept.isPending}
                  onClick={() => accept.mutate({ credentialId: c.id, domains: [d] })}
                >
                  Bind {d}
                </button>
              ))
            : null}
        </div>
      )}
      {accept.error ? <Notice kind="error">{messageOf(accept.error)}</Notice> : null}
    </div>
  );
}

/** "block_sender for alice@corp.example → M365 Corp": which credential an action would run with, before running it. */
function ResolvePreview() {
  const caps = useCapabilities();
  const resolve = useResolvePreview();
  // Routing by domain is for tenant capabilities: the catalog says which they are, and what they are called.
  const tenantCaps = (caps.data ?? []).filter((c) => c.tenant);
  const [chosen, setChosen] = useState<string | null>(null);
  // Until the analyst picks one: the first the catalog lists.
  const capability = tenantCaps.find((c) => c.id === chosen)?.id ?? tenantCaps[0]?.id ?? '';
  const [host, setHost] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!capability) return;
    const h = host.trim();
    resolve.mutate({ capability, ...(h.includes('@') ? { hostEmail: h } : { hostDomain: h }) });
  };
  const r = resolve.data;
  const errs = isCallError(resolve.error) ? resolve.error.fields : {};
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="resolve-title">
      <h2 id="resolve-title">Which credential would act?</h2>
      <div className="toolbar">
        <div className="field inline">
          <label htmlFor="resolve-cap">Capability</label>
          <select id="resolve-cap" value={capability} onChange={(e) => setChosen(e.target.value)} disabled={tenantCaps.length === 0}>
            {tenantCaps.map((c) => (
              <option key={c.id} value={c.id}>
                {c.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field inline">
          <label htmlFor="resolve-host">Protected mailbox or domain</label>
          <input
            id="resolve-host"
            type="text"
            value={host}
            onChange={(e) => setHost(e.target.value)}
            placeholder="alice@corp.example"
            aria-invalid={Object.keys(errs).length ? true : undefined}
          />
        </div>
        <button type="submit" disabled={resolve.isPending || !capability}>
          Preview
        </button>
      </div>
      {caps.isError ? <Notice kind="error">{messageOf(caps.error)}</Notice> : null}
      <div aria-live="polite">
        {r ? (
          <p className="resolution">
            <code>{r.capability}</code> for <strong>{r.host.value}</strong> → <strong>{r.credentialName}</strong>
            <span className="muted">
              {' '}
              (bound to {r.domain}, {r.matched === 'exact' ? 'exact match' : 'parent domain covering subdomains'}
              {r.verified ? ', bindings verified' : ', not verified while locked'})
            </span>
          </p>
        ) : null}
        {resolve.error ? <Notice kind="error">{messageOf(resolve.error)}</Notice> : null}
      </div>
    </form>
  );
}
