import { basename, dirname, join } from 'node:path';
import { KeydeskError } from '../errors.ts';
import { nodeCrypto, nodeFs } from '../builtins.ts';
import { canonicalJson } from './audit-log.ts';
import { AAD, AuthenticationFailed, canonical, open, seal, wipe, type SymmetricKey } from './crypto.ts';
import type { Db } from './db.ts';
import { LATEST_VERSION } from './migrations/index.ts';
import {
  DEFAULT_KDF,
  MIN_PASSPHRASE_LENGTH,
  SALT_BYTES,
  derivePassphraseKey,
  newSalt,
  parseKdfParams,
  type PassphraseSource
} from './passphrase.ts';
import { VAULT_KEY_NAMES, Vault, type CreateOptions, type VaultKeyName } from './vault.ts';

/**
 * Encrypted backup and restore of a whole vault, in one file with a passphrase of its own.
 *
 * The file is JSON: a readable header (format, when, which vault, schema version, the scrypt parameters and salt) and
 * two AES-256-GCM boxes under the key scrypt derives from the backup passphrase, both bound to the header as AAD: a
 * check value (so a wrong passphrase is told apart from a changed file) and the vault's contents. Those are every row
 * of the vault's tables (credentials, bindings, executions, prompts, the audit log and its head record) as stored, the
 * vault keys (header, audit and binding MAC keys) and each credential's DEK — so every MAC and sealed secret stays
 * valid, and a restore only wraps keys under the new machine's KEK. Nothing in the file is readable without the
 * backup passphrase; a secret appears in it only inside its own sealed payload, inside the box.
 *
 * A restore makes a new vault (a new vault id, a fresh KEK in that machine's keychain or from a new passphrase), re-wraps
 * every DEK and vault key, and records itself as the next audit entry, so `audit verify` passes afterwards. It
 * refuses a place that already holds a vault. Everything is checked before the new vault file is created; a failure
 * after that removes it.
 */

export const BACKUP_FORMAT = 'keydesk-backup/1';
const CHECK_PLAINTEXT = Buffer.from('keydesk backup check v1', 'utf8');
/** Tables a backup does not carry: the key material is re-made, and OAuth refresh leases are per-process and short. */
const NOT_CARRIED = new Set(['vault_meta', 'vault_keys', 'oauth_refresh_leases']);
/** Insertion order where rows refer to others (foreign keys are deferred anyway). */
const ORDER = ['credentials', 'credential_secrets', 'bindings', 'executions', 'reauth_prompts', 'audit_log', 'audit_head'];
/** A backup file larger than this is not one of ours (10,000 credentials make a few tens of MB). */
const MAX_FILE_BYTES = 1024 * 1024 * 1024;

type Cell = null | number | string | { b64: string };

interface Contents {
  keys: Record<VaultKeyName, string>;
  tables: Record<string, { columns: string[]; rows: Cell[][] }>;
}

export interface BackupHeader {
  format: string;
  created_at: string;
  source_vault_id: string;
  schema_version: number;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  cipher: 'AES-256-GCM';
}

export interface BackupReport {
  file: string;
  bytes: number;
  credentials: number;
  auditEntries: number;
  kdf: string;
}

export interface RestoreReport {
  sourceVaultId: string;
  backupCreatedAt: string;
  credentials: number;
  auditEntries: number;
}

const headerAad = (h: BackupHeader) => canonical('keydesk/v1/backup', canonicalJson(h));
const kdfLabel = (k: { N: number; r: number; p: number }) => `scrypt N=2^${Math.log2(k.N)}, r=${k.r}, p=${k.p}`;

function cell(v: unknown): Cell {
  if (v === null || typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return Number(v);
  if (Buffer.isBuffer(v)) return { b64: v.toString('base64') };
  throw new KeydeskError('INTERNAL', 'A vault column holds a value a backup cannot carry.');
}

function uncell(v: Cell): null | number | string | Buffer {
  return v !== null && typeof v === 'object' ? Buffer.from(v.b64, 'base64') : v;
}

async function backupPassphrase(source: PassphraseSource): Promise<string> {
  const pass = await source();
  if (pass.length < MIN_PASSPHRASE_LENGTH)
    throw new KeydeskError('INPUT_INVALID', `A backup passphrase has at least ${MIN_PASSPHRASE_LENGTH} characters.`, {
      fields: { passphrase: `at least ${MIN_PASSPHRASE_LENGTH} characters` }
    });
  return pass;
}

/** Reads every carried table in one read transaction (one consistent snapshot), DEKs unwrapped. */
function snapshot(vault: Vault): { contents: Contents; credentials: number; auditEntries: number } {
  const keys = vault.requireUnlocked();
  const db = vault.db;
  return db.transaction(() => {
    const names = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]
    )
      .map((r) => r.name)
      .filter((n) => !NOT_CARRIED.has(n));
    const tables: Contents['tables'] = {};
    for (const name of names) {
      const rows = db.prepare(`SELECT * FROM "${name}"`).raw().all() as unknown[][];
      const columns = (db.prepare(`SELECT * FROM "${name}" LIMIT 0`).columns() as { name: string }[]).map((c) => c.name);
      if (name === 'credential_secrets') {
        const id = columns.indexOf('credential_id');
        const kv = columns.indexOf('kek_version');
        const wrapped = columns.indexOf('wrapped_dek');
        const payload = columns.indexOf('payload');
        tables[name] = {
          columns: ['credential_id', 'dek', 'payload'],
          rows: rows.map((r) => {
            let dek: Buffer;
            try {
              dek = open(keys.kek, r[wrapped] as Buffer, AAD.dek(r[id] as string, r[kv] as number));
            } catch (e) {
              if (e instanceof AuthenticationFailed)
                throw new KeydeskError(
                  'SECRET_TAMPERED',
                  `The key of credential ${String(r[id])} fails authentication: the vault file was modified. Run keydesk check; nothing was backed up.`
                );
              throw e;
            }
            const out = [r[id] as string, { b64: dek.toString('base64') }, cell(r[payload])];
            wipe(dek);
            return out;
          })
        };
      } else tables[name] = { columns, rows: rows.map((r) => r.map(cell)) };
    }
    const exported = Object.fromEntries(
      VAULT_KEY_NAMES.map((n) => {
        const raw = vault.vaultKey(n).export();
        const b64 = raw.toString('base64');
        wipe(raw);
        return [n, b64];
      })
    ) as Record<VaultKeyName, string>;
    return {
      contents: { keys: exported, tables },
      credentials: tables.credentials?.rows.length ?? 0,
      auditEntries: tables.audit_log?.rows.length ?? 0
    };
  })();
}

/** Writes `file` (which must not exist yet) whole or not at all: a private temporary file, synced, then renamed. */
function writeAtomically(file: string, text: string): number {
  const fs = nodeFs();
  if (fs.existsSync(file))
    throw new KeydeskError('BACKUP_EXISTS', `${file} already exists. Keydesk will not overwrite it: choose another name.`);
  const tmp = join(dirname(file), `.${basename(file)}.${nodeCrypto().randomBytes(6).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  try {
    fs.linkSync(tmp, file); // fails if `file` appeared meanwhile: never replaces one
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return Buffer.byteLength(text);
}

/** Backs the unlocked vault up into `file`, encrypted with the passphrase `passphrase` gives; audited. */
export async function writeBackup(vault: Vault, file: string, passphrase: PassphraseSource): Promise<BackupReport> {
  vault.requireUnlocked();
  const pass = await backupPassphrase(passphrase);
  const salt = newSalt();
  const key = await derivePassphraseKey(pass, salt, DEFAULT_KDF);
  try {
    const snap = snapshot(vault);
    const header: BackupHeader = {
      format: BACKUP_FORMAT,
      created_at: vault.clock.now().toISOString(),
      source_vault_id: vault.vaultId,
      schema_version: vault.db.pragma('user_version', { simple: true }) as number,
      kdf: { name: 'scrypt', ...DEFAULT_KDF, salt: salt.toString('base64') },
      cipher: 'AES-256-GCM'
    };
    const aad = headerAad(header);
    const plain = Buffer.from(JSON.stringify(snap.contents), 'utf8');
    const box = seal(key, plain, aad);
    wipe(plain);
    const text = `${JSON.stringify({ ...header, check: seal(key, CHECK_PLAINTEXT, aad).toString('base64'), box: box.toString('base64') })}\n`;
    const bytes = writeAtomically(file, text);
    vault.write((w) =>
      w.audit({
        action: 'vault.backup',
        outcome: 'ok',
        detail: { file: basename(file), credentials: snap.credentials, audit_entries: snap.auditEntries, kdf: kdfLabel(DEFAULT_KDF) }
      })
    );
    return { file, bytes, credentials: snap.credentials, auditEntries: snap.auditEntries, kdf: kdfLabel(DEFAULT_KDF) };
  } finally {
    wipe(key);
  }
}

const invalid = (why: string) =>
  new KeydeskError('BACKUP_INVALID', `This is not a Keydesk backup Keydesk can read (${why}). Nothing was written.`);

/** The header and boxes of a backup file, shape-checked (untrusted until the boxes open). */
function readBackupFile(file: string): { header: BackupHeader; check: Buffer; box: Buffer } {
  const fs = nodeFs();
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    throw new KeydeskError('NOT_FOUND', `No backup file at ${file}.`);
  }
  if (size > MAX_FILE_BYTES) throw invalid('it is larger than any backup');
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    throw invalid('it is not the JSON a backup is: truncated, or not a backup');
  }
  if (o === null || typeof o !== 'object') throw invalid('it is not a JSON object');
  if (o.format !== BACKUP_FORMAT)
    throw invalid(
      typeof o.format === 'string' && o.format.startsWith('keydesk-backup/')
        ? `format ${o.format.slice(0, 40)} is newer than this Keydesk`
        : 'no backup format'
    );
  const k = o.kdf as Record<string, unknown> | undefined;
  const b64 = (v: unknown) => typeof v === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(v);
  if (
    typeof o.created_at !== 'string' ||
    typeof o.source_vault_id !== 'string' ||
    !Number.isInteger(o.schema_version) ||
    o.cipher !== 'AES-256-GCM' ||
    !k ||
    k.name !== 'scrypt' ||
    !b64(k.salt) ||
    !b64(o.check) ||
    !b64(o.box)
  )
    throw invalid('its header is incomplete');
  let params: ReturnType<typeof parseKdfParams>;
  try {
    params = parseKdfParams(JSON.stringify({ N: k.N, r: k.r, p: k.p })); // refuses weak or absurd parameters
  } catch {
    throw invalid('its scrypt parameters are weaker than Keydesk accepts, or absurd');
  }
  const salt = Buffer.from(k.salt as string, 'base64');
  if (salt.length !== SALT_BYTES) throw invalid('its salt is not 16 bytes');
  const header: BackupHeader = {
    format: BACKUP_FORMAT,
    created_at: o.created_at,
    source_vault_id: o.source_vault_id,
    schema_version: o.schema_version as number,
    kdf: { name: 'scrypt', N: params.N, r: params.r, p: params.p, salt: k.salt as string },
    cipher: 'AES-256-GCM'
  };
  return { header, check: Buffer.from(o.check as string, 'base64'), box: Buffer.from(o.box as string, 'base64') };
}

/** Opens a backup with its passphrase: WRONG_PASSPHRASE, BACKUP_TAMPERED or BACKUP_INVALID, else its contents. */
async function openBackup(file: string, passphrase: PassphraseSource): Promise<{ header: BackupHeader; contents: Contents }> {
  const { header, check, box } = readBackupFile(file);
  if (header.schema_version !== LATEST_VERSION)
    throw new KeydeskError(
      'BACKUP_INVALID',
      `The backup holds a vault of schema version ${header.schema_version}; this Keydesk restores version ${LATEST_VERSION}. Restore it with the Keydesk version that made it, then back it up again. Nothing was written.`
    );
  const pass = await passphrase();
  const key = await derivePassphraseKey(pass, Buffer.from(header.kdf.salt, 'base64'), header.kdf);
  const aad = headerAad(header);
  try {
    try {
      if (!open(key, check, aad).equals(CHECK_PLAINTEXT)) throw new AuthenticationFailed();
    } catch (e) {
      if (!(e instanceof AuthenticationFailed)) throw e;
      throw new KeydeskError(
        'WRONG_PASSPHRASE',
        'The backup passphrase is wrong (or the backup’s header was changed). Nothing was written.'
      );
    }
    let plain: Buffer;
    try {
      plain = open(key, box, aad);
    } catch (e) {
      if (!(e instanceof AuthenticationFailed)) throw e;
      throw new KeydeskError(
        'BACKUP_TAMPERED',
        'The backup’s contents fail authentication: the file was changed or cut short. Nothing was written.'
      );
    }
    try {
      return { header, contents: JSON.parse(plain.toString('utf8')) as Contents };
    } finally {
      wipe(plain);
    }
  } finally {
    wipe(key);
  }
}

/** Every table's real columns: a backup's column names are checked against them before any SQL names them. */
function tableColumns(db: Db): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as {
    name: string;
  }[])
    out.set(name, new Set((db.prepare(`SELECT * FROM "${name}" LIMIT 0`).columns() as { name: string }[]).map((c) => c.name)));
  return out;
}

function fill(db: Db, kek: SymmetricKey, contents: Contents): void {
  db.pragma('defer_foreign_keys = ON');
  const real = tableColumns(db);
  const names = Object.keys(contents.tables);
  for (const name of [...ORDER.filter((n) => names.includes(n)), ...names.filter((n) => !ORDER.includes(n))]) {
    const t = contents.tables[name]!;
    if (NOT_CARRIED.has(name) || !real.has(name)) throw invalid(`it holds a table "${name.slice(0, 40)}" this vault does not have`);
    if (name === 'credential_secrets') {
      const ins = db.prepare('INSERT INTO credential_secrets (credential_id, kek_version, wrapped_dek, payload) VALUES (?, 1, ?, ?)');
      for (const [id, dekCell, payload] of t.rows) {
        const dek = uncell(dekCell!) as Buffer;
        try {
          ins.run(id, seal(kek, dek, AAD.dek(id as string, 1)), uncell(payload!));
        } finally {
          wipe(dek);
        }
      }
      continue;
    }
    const cols = real.get(name)!;
    if (!Array.isArray(t.columns) || t.columns.some((c) => !cols.has(c)))
      throw invalid(`its ${name} rows have columns this vault does not`);
    const ins = db.prepare(
      `INSERT INTO "${name}" (${t.columns.map((c) => `"${c}"`).join(', ')}) VALUES (${t.columns.map(() => '?').join(', ')})`
    );
    for (const row of t.rows) ins.run(...row.map(uncell));
  }
}

/**
 * Restores the backup in `file` as a new vault at `opts` (nothing may exist there yet), with a fresh KEK from the key
 * source `opts` names. Returns the new vault, unlocked.
 */
export async function restoreBackup(
  file: string,
  backupPass: PassphraseSource,
  path: string,
  opts: CreateOptions
): Promise<{ vault: Vault; report: RestoreReport }> {
  if (nodeFs().existsSync(path))
    throw new KeydeskError(
      'VAULT_EXISTS',
      `A vault (or another file) already exists at ${path}. A backup is restored as a new vault: choose an empty place (--vault PATH). Nothing was written.`
    );
  const { header, contents } = await openBackup(file, backupPass);
  if (!contents || typeof contents !== 'object' || !contents.tables || !contents.keys) throw invalid('its contents are incomplete');
  const vaultKeys = {} as Record<VaultKeyName, Buffer>;
  for (const n of VAULT_KEY_NAMES) {
    const k = Buffer.from(String(contents.keys[n] ?? ''), 'base64');
    if (k.length !== 32) throw invalid(`its ${n} key is missing`);
    vaultKeys[n] = k;
  }
  const report: RestoreReport = {
    sourceVaultId: header.source_vault_id,
    backupCreatedAt: header.created_at,
    credentials: contents.tables.credentials?.rows.length ?? 0,
    auditEntries: contents.tables.audit_log?.rows.length ?? 0
  };
  const vault = await Vault.create(path, {
    ...opts,
    seed: {
      vaultKeys,
      fill: (db, kek) => fill(db, kek, contents),
      audit: {
        action: 'vault.restore',
        outcome: 'ok',
        detail: {
          file: basename(file),
          source_vault_id: header.source_vault_id,
          backup_created_at: header.created_at,
          credentials: report.credentials,
          audit_entries: report.auditEntries,
          key_source: opts.keySource
        }
      }
    }
  });
  return { vault, report };
}
