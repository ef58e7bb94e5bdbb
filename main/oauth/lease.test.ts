import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { manualClock, watchedSleep } from '../testing/fixtures.ts';
import { MIGRATIONS } from '../vault/migrations/index.ts';
import { releaseLease, renewLease, tryAcquireLease, withRefreshLease } from './lease.ts';

// Lease time is a manual clock (also the timers the polling and the heartbeat run on): the tests move it, and
// `watchedSleep` tells them when a waiter found the lease held. Nothing here waits for real time to pass.

/** Resolves when `waiting` does; fails at once if `call` settles first (it never waited: the race did not happen). */
function waitedFor(waiting: Promise<void>, call: Promise<unknown>): Promise<void> {
  return Promise.race([
    waiting,
    call.then(() => {
      throw new Error('It finished without waiting for the lease.');
    })
  ]);
}

function db(): Database.Database {
  const d = new Database(':memory:');
  d.pragma('foreign_keys = ON');
  for (const m of MIGRATIONS) m.up(d);
  d.prepare(
    "INSERT INTO credentials (id, name, provider, mode, header_mac, created_at, updated_at, rotated_at) VALUES ('c1', 'Okta', 'oauth', 'authorization_code', x'00', 't', 't', 't')"
  ).run();
  return d;
}

describe('refresh lease (one refresher per credential across processes)', () => {
  it('one holder at a time; released, it can be taken again', () => {
    const d = db();
    expect(tryAcquireLease(d, 'c1', 'app', 1_000)).toBe(true);
    expect(tryAcquireLease(d, 'c1', 'cli', 1_001)).toBe(false);
    releaseLease(d, 'c1', 'cli'); // not the holder: no effect
    expect(tryAcquireLease(d, 'c1', 'cli', 1_002)).toBe(false);
    releaseLease(d, 'c1', 'app');
    expect(tryAcquireLease(d, 'c1', 'cli', 1_003)).toBe(true);
  });

  it('a lease whose holder died expires by itself', () => {
    const d = db();
    expect(tryAcquireLease(d, 'c1', 'crashed', 1_000, 30_000)).toBe(true);
    expect(tryAcquireLease(d, 'c1', 'next', 30_999, 30_000)).toBe(false);
    expect(tryAcquireLease(d, 'c1', 'next', 31_001, 30_000)).toBe(true);
  });

  it('a waiter runs after the holder releases, and is told it waited', async () => {
    const d = db();
    const time = manualClock();
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = withRefreshLease(
      d,
      'c1',
      async (waited) => {
        order.push(`first waited=${waited}`);
        await gate;
      },
      { clock: time, timers: time }
    );
    // The interleaving: the second asks while the first holds the lease, finds it held and waits; then the first releases.
    const waits = watchedSleep(time);
    const second = withRefreshLease(d, 'c1', async (waited) => void order.push(`second waited=${waited}`), {
      pollMs: 5,
      clock: time,
      timers: time,
      sleep: waits.sleep
    });
    await waitedFor(waits.started(), second);
    expect(order).toEqual(['first waited=false']);
    release();
    await first;
    time.advance(5);
    await Promise.all([first, second]);
    expect(order).toEqual(['first waited=false', 'second waited=true']);
    expect(d.prepare('SELECT count(*) AS n FROM oauth_refresh_leases').get()).toEqual({ n: 0 });
  });

  it('a holder still working past the TTL keeps its lease (heartbeat): no other process can take it meanwhile', async () => {
    const d = db();
    const time = manualClock();
    const taken: boolean[] = [];
    await withRefreshLease(
      d,
      'c1',
      async () => {
        // Three TTLs of work (a slow token endpoint, a Retry-After wait): another process keeps asking.
        for (let i = 0; i < 3; i++) {
          time.advance(400);
          taken.push(tryAcquireLease(d, 'c1', 'other', time.now().getTime(), 600));
        }
      },
      { ttlMs: 600, clock: time, timers: time }
    );
    expect(taken).toEqual([false, false, false]);
    expect(tryAcquireLease(d, 'c1', 'other', time.now().getTime(), 600)).toBe(true);
  });

  it('a holder that stalled past its TTL and was taken over learns it before sending anything more, and leaves the new lease alone', async () => {
    const d = db();
    const time = manualClock();
    let sawAbort: unknown = null;
    await expect(
      withRefreshLease(
        d,
        'c1',
        async (_waited, lease) => {
          lease.assertHeld(); // still ours
          // As if this process froze past the TTL: another one found the lease expired and took it.
          d.prepare('UPDATE oauth_refresh_leases SET expires_at = 0').run();
          expect(tryAcquireLease(d, 'c1', 'other', time.now().getTime(), 60_000)).toBe(true);
          lease.signal.addEventListener('abort', () => (sawAbort = lease.signal.reason));
          lease.assertHeld(); // before the next request: refused
        },
        { ttlMs: 60_000, clock: time, timers: time }
      )
    ).rejects.toMatchObject({ code: 'VAULT_BUSY' });
    expect(sawAbort).toMatchObject({ code: 'VAULT_BUSY' });
    expect(d.prepare('SELECT holder FROM oauth_refresh_leases').get()).toEqual({ holder: 'other' });
    expect(renewLease(d, 'c1', 'other', time.now().getTime(), 1000)).toBe(true);
  });

  it('a holder that died mid-refresh (its row left behind) blocks the next process only until the lease lapses; that one is told it waited', async () => {
    const d = db();
    const time = manualClock();
    tryAcquireLease(d, 'c1', 'killed -9', time.now().getTime(), 150); // never renewed, never released
    const waits = watchedSleep(time);
    const running = withRefreshLease(
      d,
      'c1',
      async (waited) => ({ waited, holder: (d.prepare('SELECT holder FROM oauth_refresh_leases').get() as { holder: string }).holder }),
      { pollMs: 10, clock: time, timers: time, sleep: waits.sleep }
    );
    // Blocked while the dead holder's lease lasts: it found the lease held, and is waiting.
    await waitedFor(waits.started(), running);
    time.advance(149);
    await waitedFor(waits.started(2), running); // it asked again just before the lease lapses: still held, so it waits again
    expect(d.prepare('SELECT holder FROM oauth_refresh_leases').get()).toEqual({ holder: 'killed -9' });
    time.advance(10); // its next poll comes after the lease lapsed
    const ran = await running;
    expect(ran.waited).toBe(true);
    expect(ran.holder).not.toBe('killed -9');
  });

  it('gives up with VAULT_BUSY rather than waiting forever, and a cancelled wait says so', async () => {
    const d = db();
    const time = manualClock();
    tryAcquireLease(d, 'c1', 'stuck', time.now().getTime(), 60_000);
    const waits = watchedSleep(time);
    const waiting = withRefreshLease(d, 'c1', async () => 1, { pollMs: 5, maxWaitMs: 30, clock: time, timers: time, sleep: waits.sleep });
    await waitedFor(waits.started(), waiting);
    time.advance(31); // past the longest wait, the lease still held
    await expect(waiting).rejects.toMatchObject({ code: 'VAULT_BUSY' });
    const ac = new AbortController();
    ac.abort();
    await expect(
      withRefreshLease(d, 'c1', async () => 1, { pollMs: 5, signal: ac.signal, clock: time, timers: time })
    ).rejects.toMatchObject({
      code: 'OAUTH_CANCELLED'
    });
  });
});
