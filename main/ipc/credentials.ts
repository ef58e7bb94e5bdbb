import type { CapabilityReadinessView, CredentialView, credentialChannels } from '../../preload/contract.ts';
import { KeydeskError } from '../errors.ts';
import { identityView, lifecycleOf, readinessOf, rotationView, suggestionsOf } from '../providers/lifecycle.ts';
import type { AppSession } from '../shell/session.ts';
import type { CredentialSummary } from '../vault/credentials.ts';
import type { DomainHandlers } from './dispatch.ts';

const DEFAULT_ROTATION_DAYS = 90;

/**
 * A summary as the UI shows it: the same lifecycle and readiness rules the CLI prints (main/providers/lifecycle.ts),
 * so a failed or expired credential never reads "ready" in one surface and not the other.
 */
export function credentialView(c: CredentialSummary, now: Date): CredentialView {
  const rotation = lifecycleOf(c, now).rotation ?? rotationView(c.rotatedAt, DEFAULT_ROTATION_DAYS, now);
  const dueAt = rotation?.dueAt ?? now.toISOString();
  const r = readinessOf(c);
  // null: "known after validation" (nothing learned yet); []: the provider has no capabilities.
  const readiness: CapabilityReadinessView[] | null =
    r.lines.length > 0 && c.checkedAt === null && !Array.isArray(c.observed.readiness)
      ? null
      : r.lines.map((l) => ({ capability: l.capability, ready: l.ready, missing: [...l.missing], note: l.note }));
  const granted = c.observed.granted;
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
    rotationDueAt: dueAt,
    rotationDue: rotation?.due ?? false,
    identity: identityView(c),
    readiness,
    suggestions: suggestionsOf(c),
    granted: Array.isArray(granted) ? granted.filter((x): x is string => typeof x === 'string') : []
  };
}

export function credentialHandlers(session: AppSession): DomainHandlers<typeof credentialChannels> {
  const view = (c: CredentialSummary) => credentialView(c, session.clock.now());
  return {
    'credentials.list': () => session.app().credentials.list().map(view),
    'credentials.get': (i) => view(session.app().credentials.get(i.id)),
    'credentials.add': (i) =>
      view(
        session
          .app()
          .credentials.add({ name: i.name, provider: i.provider, mode: i.mode, values: i.values, expiresAt: i.expiresAt ?? null })
      ),
    'credentials.update': (i) => {
      if ((i.values === undefined || Object.keys(i.values).length === 0) && i.expiresAt === undefined) {
        throw new KeydeskError('INPUT_INVALID', 'Nothing to change: give new field values or an expiry date.');
      }
      return view(
        session
          .app()
          .credentials.update(i.id, {
            ...(i.values ? { values: i.values } : {}),
            ...(i.expiresAt !== undefined ? { expiresAt: i.expiresAt } : {})
          })
      );
    },
    'credentials.rename': (i) => view(session.app().credentials.rename(i.id, i.name)),
    'credentials.remove': (i) => {
      const r = session.app().credentials.remove(i.id);
      return { id: r.id, name: r.name };
    }
  };
}
