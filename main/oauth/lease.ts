import { randomUUID } from 'node:crypto';
import { KeydeskError } from '../errors.ts';
import type { Db } from '../vault/db.ts';

/**
 * The cross-process half of "concurrent refreshes collapse into one": a short lease row per credential
 * (table oauth_refresh_leases, migration 003). Taking it is one BEGIN IMMEDIATE transaction, so two processes can
 * never both hold it; it expires by itself after `ttlMs` so a crashed holder blocks nobody for long. Lease times are
 * wall-clock milliseconds (Date.now), not the app's injectable clock: they coordinate separate processes.
 */

export const LEASE_TTL_MS = 30_000;
export const LEASE_POLL_MS = 100;
/** A little longer than a lease, so a waiter outlives a holder that died without releasing. */
export const LEASE_MAX_WAIT_MS = LEASE_TTL_MS + 15_000;

function busy(e: unknown): boolean {
  return (e as { code?: string })?.code === 'SQLITE_BUSY';
}

/** Takes the lease if it is free or expired. True when `holder` now holds it. */
export function tryAcquireLease(db: Db, credentialId: string, holder: string, nowMs: number, ttlMs: number = LEASE_TTL_MS): boolean {
  try {
    return db
      .transaction(() => {
        const row = db.prepare('SELECT holder, expires_at FROM oauth_refresh_leases WHERE credential_id = ?').get(credentialId) as { holder: string; expires_at: number } | undefined;
        if (row && row.holder !== holder && row.expires_at > nowMs) return false;
        db.prepare('INSERT INTO oauth_refresh_leases (credential_id, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT (credential_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at').run(
          credentialId,
          holder,
          nowMs + ttlMs
        );
        return true;
      })
      .immediate();
  } catch (e) {
    if (busy(e)) return false;
    throw e;
  }
}

/** Releases the lease if `holder` still holds it (a lease that expired and was taken over is left alone). */
export function releaseLease(db: Db, credentialId: string, holder: string): void {
  try {
    db.prepare('DELETE FROM oauth_refresh_leases WHERE credential_id = ? AND holder = ?').run(credentialId, holder);
  } catch {
    /* the lease expires on its own */
  }
}

export interface LeaseOptions {
  ttlMs?: number;
  pollMs?: number;
  maxWaitMs?: number;
  signal?: AbortSignal;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs `fn` while holding the credential's refresh lease. `waited` tells `fn` that another process held the lease
 * first (it has probably refreshed already: re-read before spending the refresh token).
 */
export async function withRefreshLease<T>(db: Db, credentialId: string, fn: (waited: boolean) => Promise<T>, opts: LeaseOptions = {}): Promise<T> {
  const holder = randomUUID();
  const ttl = opts.ttlMs ?? LEASE_TTL_MS;
  const poll = opts.pollMs ?? LEASE_POLL_MS;
  const maxWait = opts.maxWaitMs ?? LEASE_MAX_WAIT_MS;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = Date.now();
  let waited = false;
  while (!tryAcquireLease(db, credentialId, holder, Date.now(), ttl)) {
    waited = true;
    if (opts.signal?.aborted) throw new KeydeskError('OAUTH_CANCELLED', 'The token refresh was cancelled while another Keydesk process was refreshing this credential.');
    if (Date.now() - started > maxWait) {
      throw new KeydeskError('VAULT_BUSY', 'Another Keydesk process has been refreshing this credential for too long; try again in a moment. Nothing was changed.');
    }
    await sleep(poll);
  }
  try {
    return await fn(waited);
  } finally {
    releaseLease(db, credentialId, holder);
  }
}
