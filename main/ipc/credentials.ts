import type { CapabilityReadinessView, CredentialView, credentialChannels } from '../../preload/contract.ts';
import { KeydeskError } from '../errors.ts';
import { modeSpec } from '../providers/catalog.ts';
import type { AppSession } from '../shell/session.ts';
import type { CredentialSummary } from '../vault/credentials.ts';
import type { DomainHandlers } from './dispatch.ts';

const DAY_MS = 86_400_000;

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function stringRecord(v: unknown): Record<string, string> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
  return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function readiness(v: unknown): CapabilityReadinessView[] | null {
  if (!Array.isArray(v)) return null;
  return v
    .filter((r): r is Record<string, unknown> => !!r && typeof r === 'object' && typeof (r as { capability?: unknown }).capability === 'string')
    .map((r) => ({
      capability: r.capability as string,
      ready: typeof r.ready === 'boolean' ? r.ready : null,
      missing: strings(r.missing),
      note: typeof r.note === 'string' ? r.note : null
    }));
}

/** A summary as the UI shows it: rotation policy applied, validation's observations typed. */
export function credentialView(c: CredentialSummary, now: Date): CredentialView {
  let rotationDays = 90;
  try {
    rotationDays = modeSpec(c.provider, c.mode).rotationDays;
  } catch {
    /* a provider this version does not know: keep the default policy */
  }
  const rotated = Date.parse(c.rotatedAt);
  const dueAt = new Date((Number.isNaN(rotated) ? now.getTime() : rotated) + rotationDays * DAY_MS);
  const o = c.observed;
  return {
    id: c.id,
    name: c.name,
    provider: c.provider,
    mode: c.mode,
    metadata: { ...c.metadata },
    secretsSet: [...c.secretsSet],
    status: c.status,
    lastError: c.lastError ? { code: c.lastError.code, message: c.lastError.message } : null,
    checkedAt: c.checkedAt,
    expiresAt: c.expiresAt,
    expirySource: c.expirySource,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    rotatedAt: c.rotatedAt,
    rotationDueAt: dueAt.toISOString(),
    rotationDue: dueAt.getTime() <= now.getTime(),
    identity: stringRecord(o.identity),
    readiness: readiness(o.readiness),
    suggestions: strings(o.suggestions),
    granted: strings(o.granted)
  };
}

export function credentialHandlers(session: AppSession): DomainHandlers<typeof credentialChannels> {
  const view = (c: CredentialSummary) => credentialView(c, session.clock.now());
  return {
    'credentials.list': () => session.app().credentials.list().map(view),
    'credentials.get': (i) => view(session.app().credentials.get(i.id)),
    'credentials.add': (i) =>
      view(session.app().credentials.add({ name: i.name, provider: i.provider, mode: i.mode, values: i.values, expiresAt: i.expiresAt ?? null })),
    'credentials.update': (i) => {
      if ((i.values === undefined || Object.keys(i.values).length === 0) && i.expiresAt === undefined) {
        throw new KeydeskError('INPUT_INVALID', 'Nothing to change: give new field values or an expiry date.');
      }
      return view(session.app().credentials.update(i.id, { ...(i.values ? { values: i.values } : {}), ...(i.expiresAt !== undefined ? { expiresAt: i.expiresAt } : {}) }));
    },
    'credentials.rename': (i) => view(session.app().credentials.rename(i.id, i.name)),
    'credentials.remove': (i) => {
      const r = session.app().credentials.remove(i.id);
      return { id: r.id, name: r.name };
    }
  };
}
