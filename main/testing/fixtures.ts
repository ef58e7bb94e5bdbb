// Test support only (never imported by the app): temp vaults on the real OS keychain or a real passphrase.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, openApp, type AppConfig, type KeydeskApp } from '../app.ts';
import type { Clock } from '../clock.ts';
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

/** A clock tests can move. */
export function manualClock(start = '2026-11-21T12:00:00.000Z'): Clock & { set(iso: string): void; advance(ms: number): void } {
  let t = Date.parse(start);
  return {
    now: () => new Date(t),
    set: (iso) => {
      t = Date.parse(iso);
    },
    advance: (ms) => {
      t += ms;
    }
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
