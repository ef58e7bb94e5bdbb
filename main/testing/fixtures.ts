// Test support only (never imported by the app): temp vaults on the real OS keychain or a real passphrase.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, openApp, type AppConfig, type KeydeskApp } from '../app.ts';
import type { Clock } from '../clock.ts';
import { sleepOn, type Timers } from '../oauth/flow/timers.ts';
import type { CredentialSummary } from '../vault/credential-store.ts';

export const TEST_ACTOR = 'analyst:test (test)';

export function tempDir(prefix = 'keydesk-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface TempVault {
  app: KeydeskApp;
  path: string;
  dir: string;
  config: AppConfig;
  /** Opens a second, independent handle on the same vault (like another process would). */
  reopen(): KeydeskApp;
  cleanup(): Promise<void>;
}

async function tempVault(keySource: 'keychain' | 'passphrase', opts: { clock?: Clock; passphrase?: string }): Promise<TempVault> {
  const { dir, cleanup } = tempDir();
  const config: AppConfig = { vaultPath: join(dir, 'vault.sqlite'), actor: TEST_ACTOR, ...(opts.clock ? { clock: opts.clock } : {}) };
  const pass = opts.passphrase;
  const app = await createApp(config, keySource, pass === undefined ? undefined : () => Promise.resolve(pass));
  const opened: KeydeskApp[] = [app];
  return {
    app,
    path: config.vaultPath,
    dir,
    config,
    reopen() {
      const a = openApp(config);
      opened.push(a);
      return a;
    },
    async cleanup() {
      for (const a of opened) await a.close().catch(() => undefined);
      cleanup();
    }
  };
}

/** A vault whose key is in the real OS keychain (run inside scripts/with-keyring.js). */
export function keychainVault(opts: { clock?: Clock } = {}): Promise<TempVault> {
  return tempVault('keychain', opts);
}

/** A vault whose key is derived from `passphrase` with the real scrypt parameters. */
export function passphraseVault(passphrase: string, opts: { clock?: Clock } = {}): Promise<TempVault> {
  return tempVault('passphrase', { ...opts, passphrase });
}

/** A clock tests can move, and the timers that run on it: a timer fires only when the test moves time past it. */
export interface ManualClock extends Clock, Timers {
  /** Moves to `iso`, firing the timers due by then (as `advance` does). */
  set(iso: string): void;
  /**
   * Moves time forward by `ms`, firing every timer due by then in time order, each seeing `now()` at its own time.
   * Code a timer wakes (a resolved sleep) runs after this returns, at the new time.
   */
  advance(ms: number): void;
  /** Timers that have not fired (or, for `every`, not been stopped). */
  pendingTimers(): number;
}

export function manualClock(start = '2026-11-21T12:00:00.000Z'): ManualClock {
  let t = Date.parse(start);
  let nextId = 0;
  const timers = new Map<number, { at: number; every: number | null; fn: () => void }>();
  const moveTo = (target: number) => {
    for (;;) {
      let due: [number, { at: number; every: number | null; fn: () => void }] | null = null;
      for (const entry of timers) if (entry[1].at <= target && (!due || entry[1].at < due[1].at)) due = entry;
      if (!due) break;
      const [id, timer] = due;
      t = Math.max(t, timer.at);
      if (timer.every === null) timers.delete(id);
      else timer.at += timer.every;
      timer.fn();
    }
    t = target;
  };
  const schedule = (ms: number, every: number | null, fn: () => void) => {
    const id = nextId++;
    timers.set(id, { at: t + ms, every, fn });
    return () => void timers.delete(id);
  };
  return {
    now: () => new Date(t),
    set: (iso) => moveTo(Date.parse(iso)),
    advance: (ms) => moveTo(t + ms),
    after: (ms, fn) => schedule(Math.max(0, ms), null, fn),
    every: (ms, fn) => schedule(Math.max(1, ms), Math.max(1, ms), fn),
    pendingTimers: () => timers.size
  };
}

/**
 * A sleep on `timers` that tells the test when it is called: `started(n)` resolves once `n` sleeps (default 1) have
 * begun (e.g. a lease waiter found the lease held and waits to poll again); `count()` says how many began.
 */
export function watchedSleep(timers: Timers): {
  sleep: (ms: number) => Promise<void>;
  started(n?: number): Promise<void>;
  count(): number;
} {
  const sleep = sleepOn(timers);
  let begun = 0;
  let waiters: { n: number; resolve: () => void }[] = [];
  return {
    sleep: (ms) => {
      begun++;
      const due = waiters.filter((w) => w.n <= begun);
      waiters = waiters.filter((w) => w.n > begun);
      for (const w of due) w.resolve();
      return sleep(ms);
    },
    started: (n = 1) => (begun >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }))),
    count: () => begun
  };
}

/** A clock that runs with the system clock, and that a test moves forward (past a deadline) instead of waiting. */
export function movableClock(): Clock & { passDeadline(iso: string): void } {
  let offset = 0;
  return {
    now: () => new Date(Date.now() + offset),
    /** Moves the clock to 1 ms past `iso` (or leaves it where it is, when that is past already). */
    passDeadline(iso) {
      offset += Math.max(0, Date.parse(iso) + 1 - (Date.now() + offset));
    }
  };
}

/** Every byte Keydesk keeps on disk for a vault: the SQLite file, its WAL and shared-memory files. */
export function vaultFilesBytes(vaultPath: string): Buffer {
  const dir = join(vaultPath, '..');
  const base = vaultPath.split('/').pop() ?? '';
  return Buffer.concat(
    readdirSync(dir)
      .filter((f) => f.startsWith(base))
      .map((f) => readFileSync(join(dir, f)))
  );
}

/** The encodings a leaked secret could take in text or bytes. */
export function encodingsOf(secret: string): string[] {
  const b = Buffer.from(secret, 'utf8');
  return [
    secret,
    b.toString('base64'),
    b.toString('base64url'),
    b.toString('hex'),
    b.toString('hex').toUpperCase(),
    encodeURIComponent(secret)
  ];
}

export function containsAnyEncoding(haystack: string | Buffer, secret: string): string | null {
  const buf = typeof haystack === 'string' ? Buffer.from(haystack, 'utf8') : haystack;
  for (const enc of encodingsOf(secret)) if (buf.includes(Buffer.from(enc, 'utf8'))) return enc;
  return null;
}

/** Valid field values per provider/mode, for tests that need any credential. */
export const SAMPLE = {
  hostinger: (token = 'hst_sample_token_0123456789') => ({ provider: 'hostinger', mode: 'api_token', values: { api_token: token } }),
  aws: (secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY') => ({
    provider: 'aws',
    mode: 'access_key',
    values: { access_key_id: 'AKIAIOSFODNN7EXAMPLE', secret_access_key: secret, region: 'us-east-1' }
  }),
  blocklist: (token = 'blk_sample_token_0123456789', url = 'https://blocklist.example') => ({
    provider: 'agentsoc_mail_block',
    mode: 'bearer_token',
    values: { token, blocklist_url: url }
  })
} as const;

/** A credential's readable summary, as the store would return it, for pure view/lifecycle tests. */
export function credentialSummary(over: Partial<CredentialSummary> = {}): CredentialSummary {
  return {
    id: 'c1',
    name: 'cred',
    provider: 'hostinger',
    mode: 'api_token',
    metadata: {},
    secretsSet: ['api_token'],
    observed: {},
    status: 'unknown',
    lastError: null,
    checkedAt: null,
    expiresAt: null,
    expirySource: null,
    createdAt: '2026-11-01T00:00:00.000Z',
    updatedAt: '2026-11-01T00:00:00.000Z',
    rotatedAt: '2026-11-01T00:00:00.000Z',
    ...over
  };
}
