import type { CredentialView } from '../../preload/contract.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { CredentialSummary } from '../vault/credential-store.ts';
import { identityView, lifecycleOf, readinessOf, rotationView, suggestionsOf } from './lifecycle.ts';

/** The rotation policy of a credential whose mode this build does not know. */
const DEFAULT_ROTATION_DAYS = 90;

/**
 * A credential as every surface shows it — IPC answers, `keydesk … --json`, MCP answers — so a failed or expired
 * credential never reads "ready" in one and not another. The stored summary plus what the provider's spec and the
 * clock make of it: lifecycle (expiry, rotation, session), identity, readiness, suggestions, granted scopes.
 */
export function credentialView(c: CredentialSummary, registry: ProviderRegistry, now: Date): CredentialView {
  const lifecycle = lifecycleOf(c, registry, now);
  const rotation = lifecycle.rotation ?? rotationView(c.rotatedAt, DEFAULT_ROTATION_DAYS, now);
  const granted = c.observed.granted;
  return {
    id: c.id,
    name: c.name,
    provider: c.provider,
    mode: c.mode,
    metadata: { ...c.metadata },
    secretsSet: [...c.secretsSet],
    observed: structuredClone(c.observed),
    status: c.status,
    lastError: c.lastError ? { code: c.lastError.code, message: c.lastError.message } : null,
    checkedAt: c.checkedAt,
    expiresAt: c.expiresAt,
    expirySource: c.expirySource,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    rotatedAt: c.rotatedAt,
    lifecycle,
    rotationDueAt: rotation?.dueAt ?? now.toISOString(),
    rotationDue: rotation?.due ?? false,
    identity: identityView(c),
    readiness: readinessOf(c, registry),
    suggestions: suggestionsOf(c),
    granted: Array.isArray(granted) ? granted.filter((x): x is string => typeof x === 'string') : []
  };
}
