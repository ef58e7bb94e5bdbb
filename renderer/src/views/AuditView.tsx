import type { AuditVerifyView } from '../../../preload/contract.ts';
import { messageOf } from '../api/client.ts';
import { useAudit, useVerifyAudit } from '../api/queries.ts';
import { useRoute } from '../app/route.tsx';
import { AuditTable } from '../components/AuditTable.tsx';
import { EmptyState, Notice } from '../components/Notice.tsx';
import { useNow } from '../components/useNow.ts';
import { plural } from '../format.ts';

function VerifyResult({ r }: { r: AuditVerifyView }) {
  if (r.ok) {
    return (
      <Notice kind="success" title="Audit log intact">
        {plural(r.entries, 'entry', 'entries')} verified: every entry chains to the one before it
        {r.anchoredSeq !== null ? `, and entry ${r.anchoredSeq} matches the anchor kept in the OS keychain` : ''}.
      </Notice>
    );
  }
  return (
    <Notice kind="error" title="Audit log broken">
      {r.message} First bad entry: #{r.firstBadSeq} ({r.problem}). Keep this vault file for investigation.
    </Notice>
  );
}

export function AuditView() {
  const { locked, requestUnlock } = useRoute();
  const audit = useAudit(undefined, 500);
  const verify = useVerifyAudit();
  const now = useNow();
  return (
    <section aria-labelledby="audit-title">
      <div className="page-head">
        <h1 id="audit-title" tabIndex={-1}>
          Audit log
        </h1>
        <div className="page-actions">
          {locked ? (
            <button type="button" onClick={requestUnlock}>
              Unlock to verify
            </button>
          ) : (
            <button type="button" className="primary" onClick={() => verify.mutate()} disabled={verify.isPending}>
              {verify.isPending ? 'Verifying…' : 'Verify the chain'}
            </button>
          )}
        </div>
      </div>
      <p className="lede">
        Every change to the vault, who made it and its outcome — never a secret. Each entry is sealed to the one before it, so an edit, a
        removal or a reordering is detected by “Verify”.
      </p>
      <div aria-live="polite">
        {verify.data ? <VerifyResult r={verify.data} /> : null}
        {verify.error ? <Notice kind="error">{messageOf(verify.error)}</Notice> : null}
      </div>
      {audit.isError ? <Notice kind="error">{messageOf(audit.error)}</Notice> : null}
      {audit.data && audit.data.length === 0 ? (
        <EmptyState title="No entries yet">Entries appear here as soon as the vault changes.</EmptyState>
      ) : null}
      {audit.data && audit.data.length > 0 ? (
        <AuditTable entries={audit.data} now={now} caption={`Audit log, newest first (${audit.data.length} shown)`} />
      ) : null}
    </section>
  );
}
