import { relativeTime } from '../cli/format.ts';
import type { CredentialSummary } from '../vault/credentials.ts';
import { providerSpec } from './catalog.ts';
import type { CapabilityReadiness } from './plugin.ts';
import type { CapabilityId, ProviderSpec } from './spec.ts';

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

export interface ExpiryView {
  at: string;
  source: CredentialSummary['expirySource'];
  state: 'ok' | 'soon' | 'expired';
  /** "expires in 3 days", "expired 2 days ago". */
  label: string;
}

export interface RotationView {
  policyDays: number;
  dueAt: string;
  due: boolean;
  soon: boolean;
  /** "rotation due (last rotated 120 days ago; policy: every 90 days)", "rotation due in 10 days", "next rotation in 2 months". */
  label: string;
}

export interface SessionView {
  expiresAt: string;
  /** "session expires in 59 min (a new one is made at each use)". */
  label: string;
}

export interface Lifecycle {
  expiry: ExpiryView | null;
  rotation: RotationView | null;
  /** A role session made at the last validation (aws assume_role): its expiry is the session's, not the credential's. */
  session: SessionView | null;
}

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

function identityOf(c: CredentialSummary): Record<string, string> {
  const id = c.observed.identity;
  if (!id || typeof id !== 'object' || Array.isArray(id)) return {};
  return Object.fromEntries(Object.entries(id as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function specOf(c: CredentialSummary): ProviderSpec | null {
  try {
    return providerSpec(c.provider);
  } catch {
    return null;
  }
}

export function lifecycleOf(c: CredentialSummary, now: Date): Lifecycle {
  const mode = specOf(c)?.modes.find((m) => m.id === c.mode);
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

export interface ReadinessLine {
  capability: CapabilityId;
  label: string;
  /** null: not known yet (never validated, or the provider does not tell before trying). */
  ready: boolean | null;
  /** The exact permissions missing, when the provider told us. */
  missing: string[];
  /** Every permission the capability needs (from the provider spec). */
  needs: string[];
  note: string | null;
}

export interface ReadinessView {
  lines: ReadinessLine[];
  /** A provider without capabilities (aws today) says so instead of an empty list. */
  note: string | null;
}

function storedReadiness(c: CredentialSummary): CapabilityReadiness[] {
  const r = c.observed.readiness;
  return Array.isArray(r)
    ? (r.filter((x) => x && typeof x === 'object' && typeof (x as CapabilityReadiness).capability === 'string') as CapabilityReadiness[])
    : [];
}

/** Which capabilities the credential can perform, and what is missing, from its spec, its mode and what validation learned. */
export function readinessOf(c: CredentialSummary): ReadinessView {
  const spec = specOf(c);
  if (!spec) return { lines: [], note: `Provider ${c.provider} is not known to this version of Keydesk.` };
  if (spec.capabilities.length === 0)
    return { lines: [], note: `${spec.label} has no response capabilities in this version of Keydesk: it is validated only.` };
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
  return { lines, note: null };
}

/** Domains the provider says the tenant owns, offered as binding suggestions. */
export function suggestionsOf(c: CredentialSummary): string[] {
  const s = c.observed.suggestions;
  return Array.isArray(s) ? s.filter((x): x is string => typeof x === 'string') : [];
}

export function identityView(c: CredentialSummary): Record<string, string> {
  return identityOf(c);
}
