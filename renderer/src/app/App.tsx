import { useCallback, useMemo, useState } from 'react';
import type { VaultStatus } from '../../../preload/contract.ts';
import { messageOf } from '../api/client.ts';
import { useKeydeskEvents } from '../api/events.ts';
import { useLock, useVaultStatus } from '../api/queries.ts';
import { Notice } from '../components/Notice.tsx';
import { AuditView } from '../views/AuditView.tsx';
import { CredentialDetail } from '../views/CredentialDetail.tsx';
import { CredentialsView } from '../views/CredentialsView.tsx';
import { DomainsView } from '../views/DomainsView.tsx';
import { ExecutionsView } from '../views/ExecutionsView.tsx';
import { ReauthBanner } from '../views/ReauthBanner.tsx';
import { FirstRun } from '../views/FirstRun.tsx';
import { LockScreen } from '../views/LockScreen.tsx';
import { RouteContext, type Route, type RouteApi } from './route.tsx';

const NAV: { name: Route['name']; label: string }[] = [
  { name: 'credentials', label: 'Credentials' },
  { name: 'domains', label: 'Domains' },
  { name: 'executions', label: 'Executions' },
  { name: 'audit', label: 'Audit log' }
];

export function App() {
  useKeydeskEvents();
  const status = useVaultStatus();
  // While locked the analyst may choose to browse read-only; a new lock brings the lock screen back.
  const [browseLocked, setBrowseLocked] = useState(false);
  const state = status.data?.state;
  const [seenState, setSeenState] = useState(state);
  if (state !== seenState) {
    setSeenState(state);
    if (state === 'unlocked') setBrowseLocked(false);
  }

  if (status.isPending) {
    return (
      <main className="centered" id="main" aria-busy="true">
        <p>Opening the vault…</p>
      </main>
    );
  }
  if (status.isError) {
    return (
      <main className="centered" id="main">
        <Notice kind="error" title="Keydesk cannot reach its vault">
          {messageOf(status.error)}
        </Notice>
      </main>
    );
  }
  const s = status.data;
  if (s.state === 'missing') return <FirstRun status={s} />;
  if (s.state === 'unusable') {
    return (
      <main className="centered" id="main">
        <div className="card narrow">
          <h1>This vault cannot be opened</h1>
          <Notice kind="error">{s.problem?.message ?? 'The vault file is not usable.'}</Notice>
          <p>
            File: <code className="path">{s.path}</code>. Keydesk did not change it. Start Keydesk with <code>--vault PATH</code> (or set{' '}
            <code>KEYDESK_VAULT</code>) to use another vault.
          </p>
        </div>
      </main>
    );
  }
  if (s.state === 'locked' && !browseLocked) return <LockScreen status={s} onBrowse={() => setBrowseLocked(true)} />;
  return <Shell status={s} requestUnlock={() => setBrowseLocked(false)} />;
}

function Shell({ status, requestUnlock }: { status: VaultStatus; requestUnlock: () => void }) {
  const [route, setRoute] = useState<Route>({ name: 'credentials' });
  const lock = useLock();
  const locked = status.state === 'locked';
  const go = useCallback((r: Route) => {
    setRoute(r);
    // Move focus to the new page's heading, so keyboard and screen-reader users land on it.
    requestAnimationFrame(() => document.querySelector<HTMLElement>('#main h1')?.focus());
  }, []);
  const api = useMemo<RouteApi>(() => ({ route, go, locked, requestUnlock }), [route, go, locked, requestUnlock]);
  const current = route.name === 'credential' ? 'credentials' : route.name;

  return (
    <RouteContext.Provider value={api}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Keydesk</span>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.name}>
                <button
                  type="button"
                  className="nav-item"
                  aria-current={current === n.name ? 'page' : undefined}
                  onClick={() => go({ name: n.name } as Route)}
                >
                  {n.label}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <div className="vault-state">
          {locked ? (
            <>
              <span className="pill pill-locked">Locked — read only</span>
              <button type="button" className="primary" onClick={requestUnlock}>
                Unlock
              </button>
            </>
          ) : (
            <>
              <span className="pill pill-unlocked" title={`Locks after ${status.autoLockMinutes} minutes idle`}>
                Unlocked
              </span>
              <button type="button" onClick={() => lock.mutate()} disabled={lock.isPending}>
                Lock now
              </button>
            </>
          )}
        </div>
      </header>
      {locked ? (
        <div className="lock-banner" role="status">
          <strong>Locked — read only.</strong> Names, health, expiry and the audit log are readable; adding, editing, validating and
          verifying need the vault key.
        </div>
      ) : null}
      {lock.error ? <Notice kind="error">{messageOf(lock.error)}</Notice> : null}
      <ReauthBanner status={status} />
      <main id="main" className="content" tabIndex={-1}>
        {route.name === 'credentials' ? <CredentialsView /> : null}
        {route.name === 'credential' ? <CredentialDetail id={route.id} /> : null}
        {route.name === 'domains' ? <DomainsView /> : null}
        {route.name === 'executions' ? <ExecutionsView /> : null}
        {route.name === 'audit' ? <AuditView /> : null}
      </main>
    </RouteContext.Provider>
  );
}
