import type { AuditEntryView } from '../../../preload/contract.ts';
import { dateTime, relative } from '../format.ts';

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** One detail value for people: times in the analyst's locale (never a raw ISO string), lists joined, yes/no. */
function detailValue(v: unknown): string {
  if (typeof v === 'string') return ISO_TIME.test(v) ? dateTime(v) : v;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) return v.map(detailValue).join(', ') || '—';
  if (v === null || v === undefined) return '—';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** "deadline: 21 Nov 2026, 13:00 · reason code: expired". */
function detailText(d: Record<string, unknown>): string {
  return Object.entries(d)
    .map(([k, v]) => `${k.replace(/_/g, ' ')}: ${detailValue(v)}`)
    .join(' · ');
}

const OUTCOME: Record<AuditEntryView['outcome'], string> = { ok: 'ok', error: 'error', failed: 'failed', denied: 'denied' };

export function AuditTable({
  entries,
  now,
  showCredential = true,
  caption
}: {
  entries: AuditEntryView[];
  now: number;
  showCredential?: boolean;
  caption: string;
}) {
  return (
    <div className="table-wrap">
      <table className="data">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">What</th>
            {showCredential ? <th scope="col">Credential</th> : null}
            <th scope="col">Outcome</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.seq}>
              <td>{e.seq}</td>
              <td>
                <time dateTime={e.at} title={dateTime(e.at)}>
                  {relative(e.at, now)}
                </time>
              </td>
              <td>{e.actor}</td>
              <td>
                <code>{e.action}</code>
              </td>
              {showCredential ? <td>{e.credentialName ?? <span className="muted">—</span>}</td> : null}
              <td>
                <span className={`outcome outcome-${e.outcome}`}>{OUTCOME[e.outcome]}</span>
              </td>
              <td className="detail-cell">{detailText(e.detail)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
