import { systemClock, type Clock } from '../clock.ts';
import { KeydeskError } from '../errors.ts';
import type { Db } from '../vault/db.ts';
import { sleepOn, systemTimers, type Timers } from './flow/timers.ts';
import { newId } from '../builtins.ts';

/**
 * The cross-process half of "concurrent refreshes collapse into one": a short lease row per credential
 * (table oauth_refresh_leases, migration 003). Taking it is one BEGIN IMMEDIATE transaction, so two processes can
 * never both hold it; it expires by itself after `ttlMs` so a crashed holder blocks nobody for long. Lease times are
 * wall-clock milliseconds (the system clock unless `LeaseOptions.clock` says otherwise), not the app's clock: they
 * coordinate separate processes. Polling and the heartbeat run on `LeaseOptions.timers` (tests move both).
 *
 * A holder that is still working keeps its lease: a heartbeat renews it every third of the TTL, so a slow token
 * endpoint (a Retry-After wait, a long timeout) never lets a second process take over and spend the same refresh
 * token. Renewal is fenced by the holder id: once another process has taken the lease over (the holder froze past
 * its TTL), the old holder can no longer renew it — `assertHeld()` throws and `signal` aborts, so it sends nothing
 * more and stores nothing (the caller checks before every request and before storing).
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
        const row = db.prepare('SELECT holder, expires_at FROM oauth_refresh_leases WHERE credential_id = ?').get(credentialId) as
          { holder: string; expires_at: number } | undefined;
        if (row && row.holder !== holder && row.expires_at > nowMs) return false;
        db.prepare(
          'INSERT INTO oauth_refresh_leases (credential_id, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT (credential_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at'
        ).run(credentialId, holder, nowMs + ttlMs);
        return true;
      })
      .immediate();
  } catch (e) {
    if (busy(e)) return false;
    throw e;
  }
}

/**
 * Extends the lease if `holder` still holds it (expired or not: a lease nobody took over is still the holder's).
 * False when another holder took it over, or the row is gone.
 */
export function renewLease(db: Db, credentialId: string, holder: string, nowMs: number, ttlMs: number = LEASE_TTL_MS): boolean {
  try {
    return (
      db
        .prepare('UPDATE oauth_refresh_leases SET expires_at = ? WHERE credential_id = ? AND holder = ?')
        .run(nowMs + ttlMs, credentialId, holder).changes === 1
    );
  } catch (e) {
    // A busy database is not a lost lease: the heartbeat tries again, and the lease still has most of its TTL.
    if (busy(e)) return true;
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
  /** The wall clock the lease times are read from (default: the system clock). */
  clock?: Clock;
  /** Runs the heartbeat and, unless `sleep` is given, the wait between polls (default: the system timers). */
  timers?: Timers;
  /** The wait between two attempts to take a held lease (default: `pollMs` on `timers`). */
  sleep?: (ms: number) => Promise<void>;
}

/** What the holder can do with its lease while it works. */
export interface HeldLease {
  /** Aborts (with a VAULT_BUSY KeydeskError) when the lease turns out to be lost. */
  readonly signal: AbortSignal;
  /** Renews the lease now; throws VAULT_BUSY (and aborts `signal`) when another process has taken it over. */
  assertHeld(): void;
}

function lostLease(): KeydeskError {
  return new KeydeskError(
    'VAULT_BUSY',
    'Another Keydesk process took over refreshing this credential while this one was stalled; this one sent and stored nothing more. Try again in a moment.'
  );
}

/**
 * Runs `fn` while holding the credential's refresh lease, renewed by a heartbeat until `fn` settles. `waited` tells
 * `fn` that another process held the lease first (it has probably refreshed already: re-read before spending the
 * refresh token); `lease` lets it check, before each request and before storing, that the lease is still its own.
 */
export async function withRefreshLease<T>(
  db: Db,
  credentialId: string,
  fn: (waited: boolean, lease: HeldLease) => Promise<T>,
  opts: LeaseOptions = {}
): Promise<T> {
  const holder = newId();
  const ttl = opts.ttlMs ?? LEASE_TTL_MS;
  const poll = opts.pollMs ?? LEASE_POLL_MS;
  const maxWait = opts.maxWaitMs ?? ttl + (LEASE_MAX_WAIT_MS - LEASE_TTL_MS);
  const clock = opts.clock ?? systemClock;
  const timers = opts.timers ?? systemTimers;
  const sleep = opts.sleep ?? sleepOn(timers);
  const nowMs = () => clock.now().getTime();
  const started = nowMs();
  let waited = false;
  while (!tryAcquireLease(db, credentialId, holder, nowMs(), ttl)) {
    waited = true;
    if (opts.signal?.aborted)
      throw new KeydeskError(
        'OAUTH_CANCELLED',
        'The token refresh was cancelled while another Keydesk process was refreshing this credential.'
      );
    if (nowMs() - started > maxWait) {
      throw new KeydeskError(
        'VAULT_BUSY',
        'Another Keydesk process has been refreshing this credential for too long; try again in a moment. Nothing was changed.'
      );
    }
    await sleep(poll);
  }
  const lost = new AbortController();
  const check = (): boolean => {
    if (lost.signal.aborted) return false;
    if (renewLease(db, credentialId, holder, nowMs(), ttl)) return true;
    lost.abort(lostLease());
    return false;
  };
  const stopHeartbeat = timers.every(Math.max(10, Math.floor(ttl / 3)), () => {
    try {
      check();
    } catch {
      /* the database could not be written just now (closing?): the next beat tries again */
    }
  });
  const lease: HeldLease = {
    signal: lost.signal,
    assertHeld() {
      if (!check()) throw lostLease();
    }
  };
  try {
    return await fn(waited, lease);
  } finally {
    stopHeartbeat();
    releaseLease(db, credentialId, holder);
  }
}
