import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { systemClock, type Clock } from '../clock.ts';
import { KeydeskError } from '../errors.ts';
import {
  HEAD_ANCHORED_ACTION,
  appendAudit,
  assertAuditHead,
  assertHolds,
  recordAuditHead,
  type AuditAnchor,
  type AuditEventInput
} from './audit-log.ts';
import { EventBus } from '../events.ts';
import type { KeyObject } from 'node:crypto';
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
import {
  keySourceFor,
  type KdfRecord,
  type KekRotation,
  type KeyMeta,
  type KeySource,
  type KeySourceDescription,
  type KeySourceKind,
  type KeySourceStage
} from './key-source.ts';
import { osKeychain, type KeychainClient } from './keychain.ts';
import type { PassphraseSource } from './passphrase.ts';
import { newId, nodeFs } from '../builtins.ts';

export type { KeySourceKind } from './key-source.ts';

/** Vault-wide keys, each a random 256-bit key wrapped by the KEK like a DEK (so rotation re-wraps them). */
export const VAULT_KEY_NAMES = ['header_mac', 'audit_mac', 'binding_mac'] as const;
export type VaultKeyName = (typeof VAULT_KEY_NAMES)[number];

interface MetaRow extends KeyMeta {
  created_at: string;
  key_source: KeySourceKind;
  kek_check: Buffer;
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
  /** A restore: the vault keys to keep, the rows to put in (inside the creating transaction), and its audit entry. */
  seed?: VaultSeed;
}

/** What a restored vault starts from instead of nothing (see backup.ts). */
export interface VaultSeed {
  /** Raw vault keys (wiped once wrapped). */
  vaultKeys: Record<VaultKeyName, Buffer>;
  /** Inserts the backed-up rows; wraps what needs the new KEK (version 1) with it. */
  fill(db: Db, kek: SymmetricKey): void;
  /** Recorded instead of vault.init, as the first entry after the restored log. */
  audit: AuditEventInput;
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
  | KeySourceStage
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
  /** The OS keychain client (keytar unless injected). The audit anchor lives there for keychain vaults. */
  readonly keychain: KeychainClient;
  /** Where this vault's KEK comes from, chosen once from vault_meta.key_source (or the create option). */
  readonly keySource: KeySource;
  #keys: UnlockedKeys | null = null;
  #wroteSinceAnchor = false;
  /** The head anchored outside the file when this handle unlocked (or last anchored): a write refuses a log without it. */
  #anchorFloor: AuditAnchor | null = null;
  #walPending = false;
  /** Change events for the UI: every committed audit entry, lock and unlock. */
  readonly events = new EventBus();

  private constructor(path: string, db: Db, keychain: KeychainClient, keySource: KeySource, opts: VaultOptions) {
    this.path = path;
    this.db = db;
    this.clock = opts.clock ?? systemClock;
    this.actor = opts.actor ?? 'analyst:unknown';
    this.keychain = keychain;
    this.keySource = keySource;
  }

  /** Opens an existing vault. Metadata is readable at once; secrets need `unlock()`. */
  static open(path: string, opts: VaultOptions = {}): Vault {
    const db = openDatabase(path, { create: false });
    try {
      const m = readMeta(db, path); // refuses a file without a vault header
      const keychain = opts.keychain ?? osKeychain();
      const source = keySourceFor(m.key_source, { keychain });
      if (!source) throw new KeydeskError('VAULT_CORRUPT', `${path} names a key source Keydesk does not know; it is not a usable vault.`);
      return new Vault(path, db, keychain, source, opts);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  /** Creates a new vault, unlocked. Nothing is left behind if any step fails. */
  static async create(path: string, opts: CreateOptions): Promise<Vault> {
    if (nodeFs().existsSync(path))
      throw new KeydeskError('VAULT_EXISTS', `A file already exists at ${path}. Keydesk will not overwrite it.`);
    const keychain = opts.keychain ?? osKeychain();
    const source = keySourceFor(opts.keySource, { keychain });
    if (!source) throw new KeydeskError('INPUT_INVALID', 'The key source is keychain or passphrase.');
    const vaultId = newId();
    const createdAt = (opts.clock ?? systemClock).now().toISOString();
    const first = await source.create(vaultId, opts.passphrase ? { passphrase: opts.passphrase } : {});
    const { kek, kdf } = first;

    let db: Db | null = null;
    try {
      nodeFs().mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      db = openDatabase(path, { create: true });
      nodeFs().chmodSync(path, 0o600);
      const vaultKeys =
        opts.seed?.vaultKeys ?? (Object.fromEntries(VAULT_KEY_NAMES.map((n) => [n, randomKey()])) as Record<VaultKeyName, Buffer>);
      const vault = new Vault(path, db, keychain, source, opts);
      const theDb = db;
      db.transaction(() => {
        theDb
          .prepare(
            'INSERT INTO vault_meta (id, vault_id, created_at, key_source, kek_version, kek_check, kdf_salt, kdf_params) VALUES (1, ?, ?, ?, 1, ?, ?, ?)'
          )
          .run(vaultId, createdAt, source.kind, seal(kek, KEK_CHECK_PLAINTEXT, AAD.kekCheck(vaultId, 1)), ...kdfColumns(kdf));
        const ins = theDb.prepare('INSERT INTO vault_keys (name, kek_version, wrapped) VALUES (?, 1, ?)');
        for (const name of VAULT_KEY_NAMES) ins.run(name, seal(kek, vaultKeys[name], AAD.vaultKey(vaultId, name, 1)));
        opts.seed?.fill(theDb, kek);
      }).immediate();
      vault.#keys = { kek: keyObject(kek), kekVersion: 1, vaultKeys: toKeyObjects(vaultKeys) };
      wipe(kek, ...Object.values(vaultKeys));
      // audit_head: true — this log has had a tagged head record from its first entry (see audit-log.ts).
      vault.write((w) =>
        w.audit(opts.seed?.audit ?? { action: 'vault.init', outcome: 'ok', detail: { key_source: source.kind, audit_head: true } })
      );
      return vault;
    } catch (e) {
      db?.close();
      wipe(kek, ...(opts.seed ? Object.values(opts.seed.vaultKeys) : []));
      await first.discard();
      // Nothing left behind: the file this call created (it did not exist before), with its WAL and shared memory.
      if (db) for (const f of [path, `${path}-wal`, `${path}-shm`]) nodeFs().rmSync(f, { force: true });
      throw e;
    }
  }

  meta(): MetaRow {
    return readMeta(this.db, this.path);
  }

  /** What `keydesk status` and the app may show about the key source, e.g. "passphrase (scrypt N=2^17, r=8, p=1)". */
  describeKeySource(): KeySourceDescription {
    return this.keySource.describe(this.meta());
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
    const kek = await this.keySource.load(m, this.#proof(m), opts);
    let vaultKeys: Record<VaultKeyName, Buffer>;
    try {
      vaultKeys = this.#unwrapVaultKeys(kek, m);
    } catch (e) {
      wipe(kek);
      throw e;
    }
    this.#keys = { kek: keyObject(kek), kekVersion: m.kek_version, vaultKeys: toKeyObjects(vaultKeys) };
    wipe(kek, ...Object.values(vaultKeys));
    // An unreadable anchor leaves no floor here; `audit verify` reports it.
    this.#anchorFloor = await this.keySource.readAnchor(m).catch(() => null);
    this.events.emit('vault.lock', { locked: false });
    await this.keySource.tidy(m);
  }

  /** Proves a candidate KEK against the check value of the key version `m` names. */
  #proof(m: MetaRow): (kek: SymmetricKey) => boolean {
    return (kek) => {
      try {
        return open(kek, m.kek_check, AAD.kekCheck(m.vault_id, m.kek_version)).equals(KEK_CHECK_PLAINTEXT);
      } catch (e) {
        if (e instanceof AuthenticationFailed) return false;
        throw e;
      }
    };
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
    // A write inside another one (a savepoint): the outer write checked the head record, and may have appended since.
    const nested = this.db.inTransaction;
    const run = this.db.transaction((): T => {
      appended.length = 0;
      this.assertKeyCurrent();
      // A file older than its anchor (rolled back, or its log cut short) takes no write: it would build a second history.
      if (this.#anchorFloor) assertHolds(this.db, this.#anchorFloor);
      const now = this.clock.now().toISOString();
      const ctx: WriteContext = {
        db: this.db,
        now,
        kek: keys.kek,
        kekVersion: keys.kekVersion,
        vaultKey: (n) => keys.vaultKeys[n],
        audit: (event) => {
          if (appended.length === 0 && !nested && assertAuditHead(this.db, keys.vaultKeys.audit_mac).untagged) {
            // The first write since the schema-6 upgrade: recorded, so an untagged head record never passes again.
            const seq = appendAudit(this.db, keys.vaultKeys.audit_mac, {
              actor: this.actor,
              action: HEAD_ANCHORED_ACTION,
              outcome: 'ok',
              at: now
            });
            appended.push({ seq, action: HEAD_ANCHORED_ACTION, credentialId: null });
          }
          const seq = appendAudit(this.db, keys.vaultKeys.audit_mac, { actor: this.actor, ...event, at: now });
          appended.push({ seq, action: event.action, credentialId: event.credentialId ?? null });
        }
      };
      const result = fn(ctx);
      if (appended.length > 0) recordAuditHead(this.db, keys.vaultKeys.audit_mac);
      return result;
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
   * KEK rotation: the key source makes the next KEK (keychain: a new random key; passphrase: the current
   * passphrase, proven against the vault, under a new salt, or a new passphrase) and stores it where it keeps keys
   * while this holds the write lock; then every DEK and vault key is re-wrapped and the version bumped in one
   * transaction; then the source retires the old key. A crash at any point leaves a vault that opens with exactly
   * one of the two keys: before the commit the old one, after it the new one.
   */
  async rotateKey(opts: RotateOptions & { passphrase?: PassphraseSource } = {}): Promise<{ kekVersion: number; rewrapped: number }> {
    const keys = this.requireUnlocked();
    const m = this.meta();
    const rotation = await this.keySource.rotate(m, this.#proof(m), opts);
    return this.#commitRotation(keys, m, rotation, opts.onStage ?? (() => {}));
  }

  async #commitRotation(
    keys: UnlockedKeys,
    m: MetaRow,
    rotation: KekRotation,
    stage: (s: RotationStage) => void
  ): Promise<{ kekVersion: number; rewrapped: number }> {
    // A second connection holds the write lock across the source's store step, so no other writer (in this process
    // or another) can rotate concurrently and overwrite the next version's keychain entry.
    const { kek: newKek, version: next } = rotation;
    const newKekKey = keyObject(newKek);
    const conn = new Database(this.path, { fileMustExist: true });
    applyPragmas(conn);
    let committed = false;
    let rewrapped = 0;
    let seq: number;
    try {
      conn.exec('BEGIN IMMEDIATE');
      const live = conn.prepare('SELECT kek_version FROM vault_meta WHERE id = 1').get() as { kek_version: number };
      if (live.kek_version !== keys.kekVersion) throw keyRotatedError();
      await rotation.store(stage);
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
      const [salt, params] = kdfColumns(rotation.kdf);
      conn
        .prepare(
          'UPDATE vault_meta SET kek_version = ?, kek_check = ?, kdf_salt = COALESCE(?, kdf_salt), kdf_params = COALESCE(?, kdf_params) WHERE id = 1'
        )
        .run(next, seal(newKekKey, KEK_CHECK_PLAINTEXT, AAD.kekCheck(m.vault_id, next)), salt, params);
      const now = this.clock.now().toISOString();
      if (assertAuditHead(conn, keys.vaultKeys.audit_mac).untagged)
        appendAudit(conn, keys.vaultKeys.audit_mac, {
          actor: this.actor,
          action: HEAD_ANCHORED_ACTION,
          outcome: 'ok',
          at: this.clock.now().toISOString()
        });
      seq = appendAudit(conn, keys.vaultKeys.audit_mac, {
        actor: this.actor,
        at: now,
        action: 'vault.rotate_key',
        outcome: 'ok',
        detail: { from_version: keys.kekVersion, to_version: next, rewrapped, key_source: this.keySource.kind }
      });
      recordAuditHead(conn, keys.vaultKeys.audit_mac);
      stage({ stage: 'before-commit' });
      conn.exec('COMMIT');
      committed = true;
      stage({ stage: 'committed', version: next });
    } catch (e) {
      if (conn.inTransaction) conn.exec('ROLLBACK');
      // Only what this rotation's store step wrote (the source knows whether it got that far): a rotation that never
      // got the lock (VAULT_BUSY) or found the key already rotated must not delete the next version's key.
      if (!committed) await rotation.abandon();
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
    await rotation.retire();
    stage({ stage: 'done', version: next });
    return { kekVersion: next, rewrapped };
  }

  /** True when this handle wrote since the audit head was last anchored. */
  get needsAnchor(): boolean {
    return this.#wroteSinceAnchor;
  }

  /** After the audit service anchored `anchor` (null: nothing outside the file) — the new floor for writes. */
  markAnchored(anchor: AuditAnchor | null = null): void {
    this.#wroteSinceAnchor = false;
    if (anchor && (!this.#anchorFloor || anchor.seq > this.#anchorFloor.seq)) this.#anchorFloor = anchor;
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

function readMeta(db: Db, path: string): MetaRow {
  const row = stmt(
    db,
    'SELECT vault_id, created_at, key_source, kek_version, kek_check, kdf_salt, kdf_params FROM vault_meta WHERE id = 1'
  ).get() as MetaRow | undefined;
  if (!row) throw new KeydeskError('VAULT_CORRUPT', `${path} has no vault header; it is not a usable Keydesk vault.`);
  return row;
}

/** vault_meta's kdf_salt and kdf_params for what a key source records (NULLs: nothing, or unchanged on rotation). */
function kdfColumns(kdf: KdfRecord | null): [Buffer | null, string | null] {
  return kdf ? [kdf.salt, JSON.stringify(kdf.params)] : [null, null];
}

function toKeyObjects(raw: Record<VaultKeyName, Buffer>): Record<VaultKeyName, KeyObject> {
  return Object.fromEntries(VAULT_KEY_NAMES.map((n) => [n, keyObject(raw[n])])) as Record<VaultKeyName, KeyObject>;
}

/** MAC over a credential header: id, provider, mode and name, under the vault's header key. */
/** A credential's header MAC; from secret version 1 on, the version of its sealed secret is bound in too. */
export function headerMac(
  key: SymmetricKey,
  h: { id: string; provider: string; mode: string; name: string; secret_version?: number }
): Buffer {
  const version = h.secret_version ?? 0;
  return version > 0
    ? hmac(key, canonical('keydesk/v2/header', h.id, h.provider, h.mode, h.name, version))
    : hmac(key, canonical('keydesk/v1/header', h.id, h.provider, h.mode, h.name));
}
