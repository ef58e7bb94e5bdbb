import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import { KeydeskError } from '../errors.ts';
import { MIGRATIONS, type Migration } from './migrations/index.ts';
import { nodeFs } from '../builtins.ts';

export type { Db };

const statementCache = new WeakMap<Db, Map<string, Database.Statement>>();

/** A prepared statement, cached per connection (preparing costs more than running most of our queries). */
export function stmt(db: Db, sql: string): Database.Statement {
  let cache = statementCache.get(db);
  if (!cache) statementCache.set(db, (cache = new Map()));
  let s = cache.get(sql);
  if (!s) cache.set(sql, (s = db.prepare(sql)));
  return s;
}

/**
 * A result column holding the file's SQLite data_version as of the statement that reads it (it moves when another
 * connection commits). A cache of rows from another table can be checked against the very snapshot a query read, at
 * no extra statement: a separate `PRAGMA data_version` costs as much as the query itself (its own read lock).
 */
export const DATA_VERSION_COLUMN = '(SELECT data_version FROM pragma_data_version) AS data_version';

/** How long a writer waits for another process's write transaction before giving up (VAULT_BUSY). */
export const BUSY_TIMEOUT_MS = 10_000;

/** SQLite's application_id header field: marks the file as a Keydesk vault ("KDv1"). */
export const KEYDESK_APPLICATION_ID = 0x4b447631;

export function applyPragmas(db: Db): void {
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('secure_delete = ON');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  // NORMAL is durable across application crashes in WAL mode; a power cut may lose the last commit, never corrupt.
  db.pragma('synchronous = NORMAL');
}

export function openDatabase(path: string, opts: { create: boolean }): Db {
  // A mistyped path (or a folder that does not exist) is "no vault here", not a damaged vault.
  if (!opts.create && !nodeFs().existsSync(path))
    throw new KeydeskError('VAULT_NOT_FOUND', `No vault at ${path}. Create one with: keydesk init`);
  let db: Db;
  try {
    db = new Database(path, { fileMustExist: !opts.create });
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_CANTOPEN') {
      throw new KeydeskError(
        opts.create ? 'VAULT_CORRUPT' : 'VAULT_NOT_FOUND',
        opts.create ? `Cannot create a vault at ${path}.` : `No vault at ${path}. Create one with: keydesk init`
      );
    }
    throw new KeydeskError('VAULT_CORRUPT', `Cannot open ${path} as a vault.`, { cause: e });
  }
  try {
    const appId = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    if (opts.create) {
      const tables = db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get() as { n: number };
      if (tables.n > 0 || version !== 0) throw new KeydeskError('VAULT_EXISTS', `${path} already holds a database; choose another path.`);
    } else if (appId !== KEYDESK_APPLICATION_ID || version === 0) {
      throw new KeydeskError('VAULT_CORRUPT', `${path} is not a Keydesk vault.`);
    }
    applyPragmas(db);
    if (opts.create) db.pragma(`application_id = ${KEYDESK_APPLICATION_ID}`);
    migrate(db);
  } catch (e) {
    db.close();
    if (e instanceof KeydeskError) throw e;
    if ((e as { code?: string }).code === 'SQLITE_NOTADB')
      throw new KeydeskError('VAULT_CORRUPT', `${path} is not a Keydesk vault (not an SQLite database).`);
    if ((e as { code?: string }).code === 'SQLITE_BUSY')
      throw new KeydeskError('VAULT_BUSY', 'The vault is busy in another process; try again.');
    throw e;
  }
  return db;
}

/**
 * Brings the schema to LATEST_VERSION: all pending migrations in one IMMEDIATE transaction, recorded in
 * user_version. A vault written by a newer Keydesk is refused rather than opened (we cannot know what it means).
 */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): number {
  const latest = migrations.length; // the registry is contiguous from version 1
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > latest) {
    throw new KeydeskError(
      'VAULT_TOO_NEW',
      `This vault uses schema version ${current}, written by a newer Keydesk; this one understands up to version ${latest}. Update Keydesk to open it.`
    );
  }
  if (current === latest) return current;
  db.transaction(() => {
    // Re-read inside the write lock: another process may have migrated meanwhile.
    const now = db.pragma('user_version', { simple: true }) as number;
    for (const m of migrations) {
      if (m.version > now) m.up(db);
    }
    db.pragma(`user_version = ${latest}`);
  }).immediate();
  return latest;
}
