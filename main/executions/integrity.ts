import { KeydeskError } from '../errors.ts';
import { canonical, equalBytes, hmac, type SymmetricKey } from '../vault/crypto.ts';

/**
 * Execution integrity (DESIGN.md: storage is untrusted). A run is read back from the vault file when it resumes after
 * a re-auth wait and when it is reverted, and what it reads steers provider calls: the credential it runs with (and
 * so the tenant), provider and mode (which handler), capability, target and host, the reason sent along, and the
 * revert context (which mailbox's filter a revert deletes, which user it re-enables, which VPS it starts). Those
 * columns carry a MAC under the vault's header key, domain-separated by its own label; it is checked before any
 * provider call, so an execution row edited in the file cannot redirect a resume or a revert.
 * Status, steps, result and timestamps are not covered: they steer nothing (a status is re-checked by every
 * compare-and-set, and a revert acts only on the authenticated revert context).
 */

export interface ExecutionSteering {
  id: string;
  capability: string;
  target: string;
  host_email: string | null;
  host_domain: string | null;
  reason: string;
  credential_id: string | null;
  provider: string;
  mode: string;
  dedupe_key: string;
  revert_context: string | null;
  /** Scope and options (schema 5); null for runs that have none, whose MAC is the same as before schema 5. */
  params: string | null;
}

export function executionMac(key: SymmetricKey, r: ExecutionSteering): Buffer {
  return hmac(
    key,
    canonical(
      'keydesk/v1/execution',
      r.id,
      r.capability,
      r.target,
      r.host_email,
      r.host_domain,
      r.reason,
      r.credential_id,
      r.provider,
      r.mode,
      r.dedupe_key,
      r.revert_context,
      ...(r.params !== null ? ['params', r.params] : [])
    )
  );
}

export function executionIntact(key: SymmetricKey, r: ExecutionSteering & { mac: Buffer | null }): boolean {
  return r.mac !== null && equalBytes(executionMac(key, r), r.mac);
}

/** Throws EXECUTION_TAMPERED unless the row's MAC verifies. `doing` says what was refused ("resumed", "reverted"). */
export function assertExecutionIntact(key: SymmetricKey, r: ExecutionSteering & { mac: Buffer | null }, doing: string): void {
  if (executionIntact(key, r)) return;
  throw new KeydeskError(
    'EXECUTION_TAMPERED',
    r.mac === null
      ? `Execution ${r.id} carries no integrity MAC (recorded by an older Keydesk, or the MAC was removed from the vault file), so it cannot be ${doing}: Keydesk will not let an unauthenticated record choose a provider call. Check the provider and act by hand.`
      : `Execution ${r.id} was changed in the vault file (its credential, target, host or revert context no longer matches its MAC), so it will not be ${doing}. Nothing was sent to the provider. Check the provider and act by hand.`
  );
}
