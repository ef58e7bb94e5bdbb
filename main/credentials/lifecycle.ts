import type { ExpiryView, LifecycleView, ReadinessLine, ReadinessView, RotationView } from '../../preload/contract.ts';
import type { CapabilityReadiness } from '../providers/plugin.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import { relativeTime } from '../text.ts';
import type { CredentialSummary } from '../vault/credential-store.ts';

/**
 * What a list or a detail view says about a credential's life: when it expires ("expires in 3 days", "expired 2 days
 * ago"), when it is due for rotation under its mode's policy ("rotation due"), what it can do (readiness) and which
 * domains it could protect (binding suggestions). Pure functions of the stored summary and the injected clock's now.
 */

const DAY = 86_400_000;
/** An expiry closer than this is flagged "soon". */
export const EXPIRY_SOON_DAYS = 7;
/** A rotation closer than this is flagged "soon". */
export const ROTATION_SOON_DAYS = 14;

export function expiryView(at: string | null, source: CredentialSummary['expirySource'], now: Date): ExpiryView | null {
  if (!at) return null;
  const t = Date.parse(at);
  if (Number.isNaN(t)) return null;
  const left = t - now.getTime();
  if (left <= 0) return { at, source, state: 'expired', label: `expired ${relativeTime(at, now)}` };
  return { at, source, state: left <= EXPIRY_SOON_DAYS * DAY ? 'soon' : 'ok', label: `expires ${relativeTime(at, now)}` };
}

export function rotationView(rotatedAt: string, policyDays: number, now: Date): RotationView | null {
  const t = Date.parse(rotatedAt);
  if (Number.isNaN(t) || !(policyDays > 0)) return null;
  const dueAt = new Date(t + policyDays * DAY).toISOString();
  const left = t + policyDays * DAY - now.getTime();
  const due = left <= 0;
  const soon = !due && left <= ROTATION_SOON_DAYS * DAY;
  const label = due
    ? `rotation due (last rotated ${relativeTime(rotatedAt, now)}; policy: every ${policyDays} days)`
    : soon
      ? `rotation due ${relativeTime(dueAt, now)}`
      : `next rotation ${relativeTime(dueAt, now)}`;
  return { policyDays, dueAt, due, soon, label };
}

/** A credential's expiry and rotation dates at or before `horizon` (ms since the epoch), soonest first. Pure. */
export function datesDue(life: LifecycleView, horizon: number): { kind: 'expiry' | 'rotation'; at: string; label: string }[] {
  const dates: { kind: 'expiry' | 'rotation'; at: string; label: string }[] = [];
  if (life.expiry) dates.push({ kind: 'expiry', at: life.expiry.at, label: life.expiry.label });
  if (life.rotation) dates.push({ kind: 'rotation', at: life.rotation.dueAt, label: life.rotation.label });
  return dates.filter((d) => Date.parse(d.at) <= horizon).sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

function identityOf(c: CredentialSummary): Record<string, string> {
  const id = c.observed.identity;
  if (!id || typeof id !== 'object' || Array.isArray(id)) return {};
  return Object.fromEntries(Object.entries(id as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

export function lifecycleOf(c: CredentialSummary, registry: ProviderRegistry, now: Date): LifecycleView {
  const mode = registry.modeOrNull(c.provider, c.mode);
  const sessionAt = identityOf(c).session_expires_at;
  const session = sessionAt ? expiryView(sessionAt, 'provider', now) : null;
  return {
    expiry: expiryView(c.expiresAt, c.expirySource, now),
    rotation: mode ? rotationView(c.rotatedAt, mode.rotationDays, now) : null,
    session: session
      ? {
          expiresAt: session.at,
          label: `session ${session.state === 'expired' ? 'ended' : 'expires'} ${relativeTime(session.at, now)} (a new one is made at each use)`
        }
      : null
  };
}

function storedReadiness(c: CredentialSummary): CapabilityReadiness[] {
  const r = c.observed.readiness;
  return Array.isArray(r)
    ? (r.filter((x) => x && typeof x === 'object' && typeof (x as CapabilityReadiness).capability === 'string') as CapabilityReadiness[])
    : [];
}

/** Which capabilities the credential can perform, and what is missing, from its spec, its mode and what validation learned. */
export function readinessOf(c: CredentialSummary, registry: ProviderRegistry): ReadinessView {
  const spec = registry.specOrNull(c.provider);
  if (!spec) return { known: false, lines: [], note: `Provider ${c.provider} is not known to this version of Keydesk.` };
  const none = registry.noCapabilitiesNote(spec);
  if (none) return { known: true, lines: [], note: none };
  const known = storedReadiness(c);
  const lines = spec.capabilities.map((cap): ReadinessLine => {
    const base = { capability: cap.id, label: cap.label, needs: [...cap.permissions] };
    if (cap.modes && !cap.modes.includes(c.mode)) {
      return { ...base, ready: false, missing: [], note: `Not available with the ${c.mode} mode (needs ${cap.modes.join(' or ')}).` };
    }
    const r = known.find((x) => x.capability === cap.id);
    if (c.status === 'failed' || c.status === 'expired') {
      // Whatever an earlier validation said, a credential that is failed or expired can do nothing; what the failing
      // validation said is missing (a 403 naming a permission) is still worth showing.
      const missing = r && r.ready === false && Array.isArray(r.missing) ? r.missing.filter((m): m is string => typeof m === 'string') : [];
      return { ...base, ready: false, missing, note: `The credential is ${c.status}: fix it and validate again.` };
    }
    if (!r)
      return {
        ...base,
        ready: null,
        missing: [],
        note: c.checkedAt ? 'The provider does not say before an action is tried.' : 'Not validated yet.'
      };
    const stale = c.status === 'unknown' ? ' (last known; the latest check was inconclusive)' : '';
    return {
      ...base,
      ready: typeof r.ready === 'boolean' ? r.ready : null,
      missing: Array.isArray(r.missing) ? r.missing.filter((m): m is string => typeof m === 'string') : [],
      note: typeof r.note === 'string' || stale ? `${typeof r.note === 'string' ? r.note : ''}${stale}`.trim() : null
    };
  });
  // Known once a validation has run or left readiness behind; before that every line says "Not validated yet".
  return { known: c.checkedAt !== null || Array.isArray(c.observed.readiness), lines, note: null };
}

/** Domains the provider says the tenant owns, offered as binding suggestions. */
export function suggestionsOf(c: CredentialSummary): string[] {
  const s = c.observed.suggestions;
  return Array.isArray(s) ? s.filter((x): x is string => typeof x === 'string') : [];
}

export function identityView(c: CredentialSummary): Record<string, string> {
  return identityOf(c);
}
