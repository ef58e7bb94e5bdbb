import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../testing/fixtures.ts';
import { KEYDESK_APPLICATION_ID, migrate, openDatabase } from './db.ts';
import { LATEST_VERSION, MIGRATIONS, checkRegistry, type Migration } from './migrations/index.ts';

const dirs: (() => void)[] = [];
afterEach(() => dirs.splice(0).forEach((c) => c()));
function dir(): string {
  const d = tempDir();
  dirs.push(d.cleanup);
  return d.dir;
}
const digest = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('schema migrations', () => {
  it('brings a new vault to the latest version, marked as a Keydesk file, with WAL, foreign keys and secure_delete', () => {
    const p = join(dir(), 'v.sqlite');
    const db = openDatabase(p, { create: true });
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
    expect(db.pragma('application_id', { simple: true })).toBe(KEYDESK_APPLICATION_ID);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('secure_delete', { simple: true })).toBe(1);
    db.close();
  });

  it('version 1 creates the vault, credential, sealed-secret and audit tables', () => {
    const db = new Database(':memory:');
    MIGRATIONS[0]!.up(db);
    const tables = (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map(
      (r) => r.name
    );
    expect(tables).toEqual(expect.arrayContaining(['audit_log', 'credential_secrets', 'credentials', 'vault_keys', 'vault_meta']));
    const cols = (db.prepare('PRAGMA table_info(credential_secrets)').all() as { name: string }[]).map((c) => c.name);
    expect(cols).toEqual(['credential_id', 'kek_version', 'wrapped_dek', 'payload']);
    db.close();
  });

  it('refuses a vault written by a newer Keydesk and leaves the file untouched', () => {
    const p = join(dir(), 'v.sqlite');
    openDatabase(p, { create: true }).close();
    const raw = new Database(p);
    raw.pragma(`user_version = ${LATEST_VERSION + 1}`);
    raw.pragma('wal_checkpoint(TRUNCATE)');
    raw.close();
    const before = digest(p);
    expect(() => openDatabase(p, { create: false })).toThrow(expect.objectContaining({ code: 'VAULT_TOO_NEW' }));
    expect(digest(p)).toBe(before);
  });

  it('refuses an SQLite file that is not a Keydesk vault, and a file that is not SQLite, changing neither', () => {
    const other = join(dir(), 'other.sqlite');
    const raw = new Database(other);
    raw.exec('CREATE TABLE notes (x TEXT)');
    raw.close();
    const before = digest(other);
    expect(() => openDatabase(other, { create: false })).toThrow(expect.objectContaining({ code: 'VAULT_CORRUPT' }));
    expect(digest(other)).toBe(before);

    const junk = join(dir(), 'junk.sqlite');
    writeFileSync(junk, Buffer.alloc(4096, 7));
    expect(() => openDatabase(junk, { create: false })).toThrow(expect.objectContaining({ code: 'VAULT_CORRUPT' }));
  });

  it('reports a missing vault as VAULT_NOT_FOUND', () => {
    expect(() => openDatabase(join(dir(), 'nope.sqlite'), { create: false })).toThrow(expect.objectContaining({ code: 'VAULT_NOT_FOUND' }));
  });

  it('runs all pending migrations in one transaction: a failing one rolls back those before it', () => {
    const db = new Database(':memory:');
    const steps: Migration[] = [
      { version: 1, name: 'a', up: (d) => d.exec('CREATE TABLE a (x)') },
      {
        version: 2,
        name: 'b',
        up: () => {
          throw new Error('boom');
        }
      }
    ];
    expect(() => migrate(db, steps)).toThrow('boom');
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'a'").get()).toEqual({ n: 0 });
    db.close();
  });

  it('applies only the migrations newer than the recorded version', () => {
    const db = new Database(':memory:');
    const ran: number[] = [];
    const steps: Migration[] = [1, 2, 3].map((v) => ({ version: v, name: `m${v}`, up: () => void ran.push(v) }));
    migrate(db, steps.slice(0, 2));
    migrate(db, steps);
    expect(ran).toEqual([1, 2, 3]);
    expect(db.pragma('user_version', { simple: true })).toBe(3);
    db.close();
  });

  it('the registry refuses versions out of order', () => {
    expect(() => checkRegistry([{ version: 2, name: 'x', up: () => {} }])).toThrow(/out of order/);
    expect(() => checkRegistry(MIGRATIONS)).not.toThrow();
  });
});
