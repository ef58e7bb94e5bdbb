import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { systemClock, type Clock } from '../clock.ts';
import { KeydeskError } from '../errors.ts';
import { appendAudit, type AuditEventInput } from '../audit/log.ts';
import { EventBus } from '../events.ts';
import { type KeyObject } from 'node:crypto';
import {
  AAD,
  AuthenticationFailed,
  KEK_CHECK_PLAINTEXT,
  canonical,
  hmac,
  keyObject,
  open,
  randomKey,
  seal,
  wipe,
  type SymmetricKey
} from './crypto.ts';
import { BUSY_TIMEOUT_MS, applyPragmas, openDatabase, stmt, type Db } from './db.ts';
import { keychainAccounts, osKeychain, type KeychainClient } from './keychain.ts';
import { DEFAULT_KDF, MIN_PASSPHRASE_LENGTH, derivePassphraseKey, newSalt, parseKdfParams, type PassphraseSource } from './passphrase.ts';

export type KeySourceKind = 'keychain' | 'passphrase';

/** Vault-wide keys, each a random 256-bit key wrapped by the KEK like a DEK (so rotation re-wraps them). */
export const VAULT_KEY_NAMES = ['header_mac', 'audit_mac', 'binding_mac'] as const;
export type VaultKeyName = (typeof VAULT_KEY_NAMES)[number];

interface MetaRow {
  vault_id: string;
  created_at: string;
  key_source: KeySourceKind;
  kek_version: number;
  kek_check: Buffer;
  kdf_salt: Buffer | null;
  kdf_params: string | null;
}

interface UnlockedKeys {
  kek: KeyObject;
  kekVersion: number;
  vaultKeys: Record<VaultKeyName, KeyObject>;
}

export interface VaultInfo {
  path: string;
  vaultId: string;
  createdAt: string;
  keySource: KeySourceKind;
  kekVersion: number;
  schemaVersion: number;
  credentials: number;
  auditEntries: number;
  unlocked: boolean;
}

export interface VaultOptions {
  clock?: Clock;
  /** The OS keychain; defaults to keytar. */
  keychain?: KeychainClient;
  /** Who acts through this handle, for the audit log ("analyst:alice (cli)"). */
  actor?: string;
}

export interface CreateOptions extends VaultOptions {
  keySource: KeySourceKind;
  passphrase?: PassphraseSource;
}

export interface WriteContext {
  db: Db;
  /** The transaction's time, ISO 8601. */
  now: string;
  vaultKey(name: VaultKeyName): KeyObject;
  kekVersion: number;
  kek: KeyObject;
  /** Appends an audit entry inside this transaction: it commits or rolls back with the change it records. */
  audit(event: AuditEventInput): void;
}

/** Points a rotation passes, reported to `onStage` (progress in the UI; fixed kill points in tests). */
export type RotationStage =
  | { stage: 'keychain-written'; version: number }
  | { stage: 'rewrapped'; done: number; total: number }
  | { stage: 'before-commit' }
  | { stage: 'committed'; version: number }
  | { stage: 'done'; version: number };

export interface RotateOptions {
  /** Passphrase vaults only: a new passphrase (omit to keep the passphrase and change only the salt). */
  newPassphrase?: PassphraseSource;
  onStage?: (s: RotationStage) => void;
}

export class Vault {
  readonly path: string;
  readonly db: Db;
  readonly clock: Clock;
  actor: string;
  #keychain: KeychainClient | null;
  #keys: UnlockedKeys | null = null;
  #wroteSinceAnchor = false;
  #walPending = false;
  /** Change events for the UI: every committed audit entry, lock and unlock. */
  readonly events = new EventBus();

  private constructor(path: string, db: Db, opts: VaultOptions) {
    this.path = path;
    this.db = db;
    this.clock = opts.clock ?? systemClock;
    this.actor = opts.actor ?? 'analyst:unknown';
    this.#keychain = opts.keychain ?? null;
  }

  get keychain(): KeychainClient {
    this.#keychain ??= osKeychain();
    return this.#keychain;
  }

  /** Opens an existing vault. Metadata is readable at once; secrets need `unlock()`. */
  static open(path: string, opts: VaultOptions = {}): Vault {
    const db = openDatabase(path, { create: false });
    const v = new Vault(path, db, opts);
    v.meta(); // refuses a file without a vault header
    return v;
  }

  /** Creates a new vault, unlocked. Nothing is left behind if any step fails. */
  static async create(path: string, opts: CreateOptions): Promise<Vault> {
    if (existsSync(path)) throw new KeydeskError('VAULT_EXISTS', `A file already exists at ${path}. Keydesk will not overwrite it.`);
    const vaultId = randomUUID();
    const createdAt = (opts.clock ?? systemClock).now().toISOString();
    let kek: Buffer;
    let salt: Buffer | null = null;
    let keychainWritten = false;
    const keychain = opts.keychain ?? osKeychain();

    if (opts.keySource === 'keychain') {
      kek = randomKey();
      await keychain.set(keychainAccounts.kek(vaultId, 1), kek.toString('base64'));
      keychainWritten = true;
    } else {
      if (!opts.passphrase)
        throw new KeydeskError('PASSPHRASE_REQUIRED', 'A passphrase vault needs a passphrase (KEYDESK_PASSPHRASE or a prompt).');
      const pass = await opts.passphrase();
      if (pass.length < MIN_PASSPHRASE_LENGTH)
        throw new KeydeskError('INPUT_INVALID', `The passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters.`);
      salt = newSalt();
      kek = await derivePassphraseKey(pass, salt, DEFAULT_KDF);
    }

    let db: Db | null = null;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      db = openDatabase(path, { create: true });
      chmodSync(path, 0o600);
      const vaultKeys = Object.fromEntries(VAULT_KEY_NAMES.map((n) => [n, randomKey()])) as Record<VaultKeyName, Buffer>;
      const vault = new Vault(path, db, { ...opts, keychain });
      const theDb = db;
      db.transaction(() => {
        theDb
          .prepare(
            'INSERT INTO vault_meta (id, vault_id, created_at, key_source, kek_version, kek_check, kdf_salt, kdf_params) VALUES (1, ?, ?, ?, 1, ?, ?, ?)'
          )
          .run(
            vaultId,
            createdAt,
            opts.keySource,
            seal(kek, KEK_CHECK_PLAINTEXT, AAD.kekCheck(vaultId, 1)),
            salt,
            salt ? JSON.stringify(DEFAULT_KDF) : null
          );
        const ins = theDb.prepare('INSERT INTO vault_keys (name, kek_version, wrapped) VALUES (?, 1, ?)');
        for (const name of VAULT_KEY_NAMES) ins.run(name, seal(kek, vaultKeys[name], AAD.vaultKey(vaultId, name, 1)));
      }).immediate();
      vault.#keys = { kek: keyObject(kek), kekVersion: 1, vaultKeys: toKeyObjects(vaultKeys) };
      wipe(kek, ...Object.values(vaultKeys));
      vault.write((w) => w.audit({ action: 'vault.init', outcome: 'ok', detail: { key_source: opts.keySource } }));
      return vault;
    } catch (e) {
      db?.close();
      if (keychainWritten) await keychain.delete(keychainAccounts.kek(vaultId, 1)).catch(() => false);
      throw e;
    }
  }

  meta(): MetaRow {
    const row = stmt(
      this.db,
      'SELECT vault_id, created_at, key_source, kek_version, kek_check, kdf_salt, kdf_params FROM vault_meta WHERE id = 1'
    ).get() as MetaRow | undefined;
    if (!row) throw new KeydeskError('VAULT_CORRUPT', `${this.path} has no vault header; it is not a usable Keydesk vault.`);
    return row;
  }

  get vaultId(): string {
    return this.meta().vault_id;
  }

  info(): VaultInfo {
    const m = this.meta();
    const count = (sql: string) => (this.db.prepare(sql).get() as { n: number }).n;
    return {
      path: this.path,
      vaultId: m.vault_id,
      createdAt: m.created_at,
      keySource: m.key_source,
      kekVersion: m.kek_version,
      schemaVersion: this.db.pragma('user_version', { simple: true }) as number,
      credentials: count('SELECT count(*) AS n FROM credentials'),
      auditEntries: count('SELECT count(*) AS n FROM audit_log'),
      unlocked: this.isUnlocked()
    };
  }

  isUnlocked(): boolean {
    return this.#keys !== null;
  }

  /**
   * Loads the KEK from its source and proves it against the check value before anything is decrypted.
   * Distinct failures: PASSPHRASE_REQUIRED, WRONG_PASSPHRASE, KEY_NOT_FOUND, KEY_MISMATCH, KEYCHAIN_*; VAULT_CORRUPT
   * when the vault's own wrapped keys fail authentication.
   */
  async unlock(opts: { passphrase?: PassphraseSource } = {}): Promise<void> {
    const m = this.meta();
    let kek: Buffer;
    if (m.key_source === 'keychain') {
      const stored = await this.keychain.get(keychainAccounts.kek(m.vault_id, m.kek_version));
      if (stored === null) {
        throw new KeydeskError(
          'KEY_NOT_FOUND',
          `The OS keychain has no key for this vault (vault ${m.vault_id}, key version ${m.kek_version}). It may have been created under another user account or machine; restore the keychain entry to open it.`
        );
      }
      kek = Buffer.from(stored, 'base64');
      if (kek.length !== 32 || !this.#checks(kek, m)) {
        wipe(kek);
        throw new KeydeskError(
          'KEY_MISMATCH',
          'The key in the OS keychain does not open this vault (the keychain entry was replaced or belongs to another vault).'
        );
      }
    } else {
      if (!opts.passphrase)
        throw new KeydeskError(
          'PASSPHRASE_REQUIRED',
          'This vault is protected by a passphrase: set KEYDESK_PASSPHRASE or enter it when asked.'
        );
      if (!m.kdf_salt) throw new KeydeskError('VAULT_CORRUPT', 'The vault’s passphrase salt is missing.');
      const params = parseKdfParams(m.kdf_params);
      kek = await derivePassphraseKey(await opts.passphrase(), m.kdf_salt, params);
      if (!this.#checks(kek, m)) {
        wipe(kek);
        throw new KeydeskError('WRONG_PASSPHRASE', 'Wrong passphrase: it does not open this vault. Nothing was changed.');
      }
    }
    const vaultKeys = this.#unwrapVaultKeys(kek, m);
    this.#keys = { kek: keyObject(kek), kekVersion: m.kek_version, vaultKeys: toKeyObjects(vaultKeys) };
    wipe(kek, ...Object.values(vaultKeys));
    this.events.emit('vault.lock', { locked: false });
    if (m.key_source === 'keychain' && m.kek_version > 1) {
      // A rotation that committed but died before deleting the previous key leaves it behind; tidy it now.
      await this.keychain.delete(keychainAccounts.kek(m.vault_id, m.kek_version - 1)).catch(() => false);
    }
  }

  #checks(kek: SymmetricKey, m: MetaRow): boolean {
    try {
      return open(kek, m.kek_check, AAD.kekCheck(m.vault_id, m.kek_version)).equals(KEK_CHECK_PLAINTEXT);
    } catch (e) {
      if (e instanceof AuthenticationFailed) return false;
      throw e;
    }
  }

  #unwrapVaultKeys(kek: Buffer, m: MetaRow): Record<VaultKeyName, Buffer> {
    const rows = this.db.prepare('SELECT name, kek_version, wrapped FROM vault_keys').all() as {
      name: string;
      kek_version: number;
      wrapped: Buffer;
    }[];
    const out: Partial<Record<VaultKeyName, Buffer>> = {};
    for (const name of VAULT_KEY_NAMES) {
      const row = rows.find((r) => r.name === name);
      if (!row) throw new KeydeskError('VAULT_CORRUPT', `The vault’s ${name} key is missing: the file was modified.`);
      try {
        out[name] = open(kek, row.wrapped, AAD.vaultKey(m.vault_id, name, m.kek_version));
      } catch {
        throw new KeydeskError('VAULT_CORRUPT', `The vault’s ${name} key failed authentication: the file was modified.`);
      }
    }
    return out as Record<VaultKeyName, Buffer>;
  }

  /** Forgets every key (the KeyObjects' native copies are freed when collected). Metadata stays readable. */
  lock(): void {
    if (!this.#keys) return;
    this.#keys = null;
    this.events.emit('vault.lock', { locked: true });
  }

  requireUnlocked(): UnlockedKeys {
    if (!this.#keys)
      throw new KeydeskError('VAULT_LOCKED', 'The vault is locked. Unlock it to use secrets (metadata stays readable while locked).');
    return this.#keys;
  }

  vaultKey(name: VaultKeyName): KeyObject {
    return this.requireUnlocked().vaultKeys[name];
  }

  /**
   * Runs `fn` as one BEGIN IMMEDIATE transaction: the change and its audit entries commit together or not at
   * all, and another process writing the same vault waits for us (busy_timeout) instead of interleaving.
   */
  write<T>(fn: (w: WriteContext) => T): T {
    const keys = this.requireUnlocked();
    const appended: { seq: number; action: string; credentialId: string | null }[] = [];
    const run = this.db.transaction((): T => {
      appended.length = 0;
      this.assertKeyCurrent();
      const now = this.clock.now().toISOString();
      const ctx: WriteContext = {
        db: this.db,
        now,
        kek: keys.kek,
        kekVersion: keys.kekVersion,
        vaultKey: (n) => keys.vaultKeys[n],
        audit: (event) => {
          const seq = appendAudit(this.db, keys.vaultKeys.audit_mac, { actor: this.actor, ...event, at: now });
          appended.push({ seq, action: event.action, credentialId: event.credentialId ?? null });
        }
      };
      return fn(ctx);
    });
    try {
      const result = run.immediate();
      this.#wroteSinceAnchor = true;
      for (const a of appended) this.events.emit('vault.changed', a);
      return result;
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_BUSY')
        throw new KeydeskError('VAULT_BUSY', 'The vault is busy in another Keydesk process; try again in a moment. Nothing was changed.');
      throw e;
    }
  }

  #liveKekVersion(): number {
    return (stmt(this.db, 'SELECT kek_version FROM vault_meta WHERE id = 1').get() as { kek_version: number }).kek_version;
  }

  /**
   * Another process may rotate the KEK while this handle holds the old one. Its wrapped DEKs then fail to open under
   * the old key — which must not read as tampering. When the vault's key version moved on, this handle locks itself
   * (the app shows its lock screen; unlocking fetches the current key) and throws KEY_ROTATED. No-op when current.
   */
  assertKeyCurrent(): void {
    const keys = this.#keys;
    if (keys && this.#liveKekVersion() !== keys.kekVersion) {
      this.lock();
      throw keyRotatedError();
    }
  }

  /**
   * KEK rotation. Keychain: a new random key stored under the next version's account first, then every DEK and
   * vault key re-wrapped and the version bumped in one transaction, then the old key deleted. Passphrase: the
   * current passphrase (proven against the vault) under a new salt, or a new passphrase, re-wrapped the same way.
   * A crash at any point leaves a vault that opens with exactly one of the two keys: before the commit the old
   * one, after it the new one.
   */
  async rotateKey(opts: RotateOptions & { passphrase?: PassphraseSource } = {}): Promise<{ kekVersion: number; rewrapped: number }> {
    const keys = this.requireUnlocked();
    const m = this.meta();
    let newKek: Buffer;
    let salt: Buffer | null = null;
    if (m.key_source === 'passphrase') {
      if (!opts.passphrase) throw new KeydeskError('PASSPHRASE_REQUIRED', 'Rotating a passphrase vault needs its current passphrase.');
      const current = await opts.passphrase();
      const proof = await derivePassphraseKey(current, m.kdf_salt ?? Buffer.alloc(0), parseKdfParams(m.kdf_params));
      const ok = this.#checks(proof, m);
      wipe(proof);
      if (!ok) throw new KeydeskError('WRONG_PASSPHRASE', 'Wrong passphrase: it does not open this vault. Nothing was changed.');
      const pass = opts.newPassphrase ? await opts.newPassphrase() : current;
      if (pass.length < MIN_PASSPHRASE_LENGTH)
        throw new KeydeskError('INPUT_INVALID', `The new passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters.`);
      salt = newSalt();
      newKek = await derivePassphraseKey(pass, salt, DEFAULT_KDF);
    } else {
      if (opts.newPassphrase)
        throw new KeydeskError('INPUT_INVALID', 'This vault keeps its key in the OS keychain; it has no passphrase to change.');
      newKek = randomKey();
    }
    return this.#commitRotation(keys, m, m.kek_version + 1, newKek, salt, opts.onStage ?? (() => {}));
  }

  async #commitRotation(
    keys: UnlockedKeys,
    m: MetaRow,
    next: number,
    newKek: Buffer,
    newSaltValue: Buffer | null,
    stage: (s: RotationStage) => void
  ): Promise<{ kekVersion: number; rewrapped: number }> {
    // A second connection holds the write lock across the keychain write, so no other writer (in this process or
    // another) can rotate concurrently and overwrite the next version's keychain entry.
    const newKekKey = keyObject(newKek);
    const conn = new Database(this.path, { fileMustExist: true });
    applyPragmas(conn);
    let committed = false;
    let keychainWritten = false;
    let rewrapped = 0;
    let seq: number;
    try {
      conn.exec('BEGIN IMMEDIATE');
      const live = conn.prepare('SELECT kek_version FROM vault_meta WHERE id = 1').get() as { kek_version: number };
      if (live.kek_version !== keys.kekVersion) throw keyRotatedError();
      if (m.key_source === 'keychain') {
        keychainWritten = true; // set before the await: a write that fails half-way may still have stored the key
        await this.keychain.set(keychainAccounts.kek(m.vault_id, next), newKek.toString('base64'));
        stage({ stage: 'keychain-written', version: next });
      }
      const rows = conn.prepare('SELECT credential_id, kek_version, wrapped_dek FROM credential_secrets').all() as {
        credential_id: string;
        kek_version: number;
        wrapped_dek: Buffer;
      }[];
      const upd = conn.prepare('UPDATE credential_secrets SET kek_version = ?, wrapped_dek = ? WHERE credential_id = ?');
      for (const r of rows) {
        let dek: Buffer;
        try {
          dek = open(keys.kek, r.wrapped_dek, AAD.dek(r.credential_id, r.kek_version));
        } catch {
          throw new KeydeskError(
            'SECRET_TAMPERED',
            `Credential ${r.credential_id} failed authentication; rotation stopped and nothing was changed. Run keydesk check.`
          );
        }
        upd.run(next, seal(newKekKey, dek, AAD.dek(r.credential_id, next)), r.credential_id);
        wipe(dek);
        rewrapped++;
        stage({ stage: 'rewrapped', done: rewrapped, total: rows.length });
      }
      const updKey = conn.prepare('UPDATE vault_keys SET kek_version = ?, wrapped = ? WHERE name = ?');
      for (const name of VAULT_KEY_NAMES) {
        const raw = keys.vaultKeys[name].export();
        updKey.run(next, seal(newKekKey, raw, AAD.vaultKey(m.vault_id, name, next)), name);
        wipe(raw);
      }
      conn
        .prepare(
          'UPDATE vault_meta SET kek_version = ?, kek_check = ?, kdf_salt = COALESCE(?, kdf_salt), kdf_params = CASE WHEN ? IS NULL THEN kdf_params ELSE ? END WHERE id = 1'
        )
        .run(
          next,
          seal(newKekKey, KEK_CHECK_PLAINTEXT, AAD.kekCheck(m.vault_id, next)),
          newSaltValue,
          newSaltValue,
          JSON.stringify(DEFAULT_KDF)
        );
      const now = this.clock.now().toISOString();
      seq = appendAudit(conn, keys.vaultKeys.audit_mac, {
        actor: this.actor,
        at: now,
        action: 'vault.rotate_key',
        outcome: 'ok',
        detail: { from_version: keys.kekVersion, to_version: next, rewrapped, key_source: m.key_source }
      });
      stage({ stage: 'before-commit' });
      conn.exec('COMMIT');
      committed = true;
      stage({ stage: 'committed', version: next });
    } catch (e) {
      if (conn.inTransaction) conn.exec('ROLLBACK');
      // Only the entry this rotation wrote, and only while it held the write lock: a rotation that never got the
      // lock (VAULT_BUSY) or found the key already rotated must not delete the next version's key — it may be the
      // one another process is about to commit, and the vault would then open with neither key.
      if (keychainWritten && !committed) await this.keychain.delete(keychainAccounts.kek(m.vault_id, next)).catch(() => false);
      wipe(newKek);
      if ((e as { code?: string }).code === 'SQLITE_BUSY')
        throw new KeydeskError(
          'VAULT_BUSY',
          'The vault is busy in another Keydesk process (another rotation or write); try the rotation again. Nothing was changed.'
        );
      if (e instanceof KeydeskError && e.code === 'KEY_ROTATED') this.lock();
      throw e;
    } finally {
      conn.close();
    }
    wipe(newKek);
    keys.kek = newKekKey;
    keys.kekVersion = next;
    this.#wroteSinceAnchor = true;
    this.events.emit('vault.changed', { seq, action: 'vault.rotate_key', credentialId: null });
    if (m.key_source === 'keychain') await this.keychain.delete(keychainAccounts.kek(m.vault_id, next - 1)).catch(() => false);
    stage({ stage: 'done', version: next });
    return { kekVersion: next, rewrapped };
  }

  /** True when this handle wrote since the audit head was last anchored. */
  get needsAnchor(): boolean {
    return this.#wroteSinceAnchor;
  }

  markAnchored(): void {
    this.#wroteSinceAnchor = false;
  }

  /**
   * Checkpoints the WAL into the main file and truncates it, so freed pages (zeroed by secure_delete) are all that
   * remain. It waits up to `waitMs` for readers in other processes to finish; while one still reads, the WAL keeps its
   * old frames (with whatever was deleted) and the truncation is retried when this handle closes.
   */
  checkpoint(opts: { waitMs?: number } = {}): { busy: boolean } {
    const wait = opts.waitMs ?? 2_000;
    this.db.pragma(`busy_timeout = ${wait}`);
    try {
      const r = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
      const busy = (r[0]?.busy ?? 0) !== 0;
      this.#walPending = busy;
      return { busy };
    } finally {
      this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  }

  /** True while a truncation that found a reader in the way is still owed (see checkpoint). */
  get walPending(): boolean {
    return this.#walPending;
  }

  close(): void {
    this.lock();
    if (this.db.open) {
      // A removal whose WAL truncation met a reader: try once more now that it may be done (SQLite also truncates it
      // when the last connection closes, but the app may keep the vault open for days).
      if (this.#walPending) {
        try {
          this.checkpoint({ waitMs: 1_000 });
        } catch {
          /* best effort: closing must not fail */
        }
      }
      this.db.close();
    }
  }
}

function keyRotatedError(): KeydeskError {
  return new KeydeskError(
    'KEY_ROTATED',
    'The vault key was rotated by another Keydesk process since this one unlocked, so Keydesk locked the vault here. Unlock it again (or run the command again) to continue. Nothing was changed.'
  );
}

function toKeyObjects(raw: Record<VaultKeyName, Buffer>): Record<VaultKeyName, KeyObject> {
  return Object.fromEntries(VAULT_KEY_NAMES.map((n) => [n, keyObject(raw[n])])) as Record<VaultKeyName, KeyObject>;
}

/** MAC over a credential header: id, provider, mode and name, under the vault's header key. */
export function headerMac(key: SymmetricKey, h: { id: string; provider: string; mode: string; name: string }): Buffer {
  return hmac(key, canonical('keydesk/v1/header', h.id, h.provider, h.mode, h.name));
}
