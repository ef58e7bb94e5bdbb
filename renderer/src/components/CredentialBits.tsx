import type { CredentialView, ProviderView } from '../../../preload/contract.ts';
import { dateTime, relative } from '../format.ts';

export function providerLabel(
  providers: ProviderView[] | undefined,
  c: Pick<CredentialView, 'provider' | 'mode'>
): { provider: string; mode: string } {
  const p = providers?.find((x) => x.id === c.provider);
  return { provider: p?.label ?? c.provider, mode: p?.modes.find((m) => m.id === c.mode)?.label ?? c.mode };
}

export function CheckedAt({ c, now }: { c: CredentialView; now: number }) {
  if (!c.checkedAt) return <span className="muted">never checked</span>;
  return (
    <time dateTime={c.checkedAt} title={dateTime(c.checkedAt)}>
      checked {relative(c.checkedAt, now)}
    </time>
  );
}

export function Expiry({ c, now }: { c: CredentialView; now: number }) {
  if (!c.expiresAt) return <span className="muted">no expiry known</span>;
  const past = Date.parse(c.expiresAt) <= now;
  const soon = !past && Date.parse(c.expiresAt) - now < 7 * 86_400_000;
  return (
    <time
      dateTime={c.expiresAt}
      title={`${dateTime(c.expiresAt)}${c.expirySource ? ` (from the ${c.expirySource})` : ''}`}
      className={past ? 'text-bad' : soon ? 'text-warn' : undefined}
    >
      {past ? `expired ${relative(c.expiresAt, now)}` : `expires ${relative(c.expiresAt, now)}`}
    </time>
  );
}

export function Rotation({ c, now }: { c: CredentialView; now: number }) {
  if (c.rotationDue) return <span className="text-warn">rotation due</span>;
  return <span title={dateTime(c.rotationDueAt)}>rotate {relative(c.rotationDueAt, now)}</span>;
}

export function ReadinessSummary({ c }: { c: CredentialView }) {
  const lines = c.readiness.lines;
  if (!c.readiness.known) return <span className="muted">known after validation</span>;
  if (lines.length === 0) return <span className="muted">no capabilities</span>;
  const ready = lines.filter((r) => r.ready === true).length;
  const blocked = lines.filter((r) => r.ready === false).map((r) => r.capability);
  return (
    <span>
      {ready} of {lines.length} ready
      {blocked.length ? <span className="muted"> — not: {blocked.join(', ')}</span> : null}
    </span>
  );
}
