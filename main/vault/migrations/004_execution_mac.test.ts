import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from './index.ts';

const insertRun = (db: Database.Database, id: string) =>
  db
    .prepare(
      `INSERT INTO executions (id, capability, target, reason, actor, actor_kind, credential_id, credential_name, provider, mode, status, dedupe_key, created_at, updated_at)
       VALUES (?, 'power', '42', 'r', 'analyst:a', 'analyst', NULL, 'VPS', 'hostinger', 'api_token', 'succeeded', 'k', 't', 't')`
    )
    .run(id);

describe('migration 4: execution MAC', () => {
  it('is version 4 in the registry', () => {
    expect(MIGRATIONS[3]).toMatchObject({ version: 4, name: 'execution_mac' });
  });

  it('adds a nullable mac column: runs recorded before it keep their history, with no MAC', () => {
    const db = new Database(':memory:');
    for (const m of MIGRATIONS.slice(0, 3)) m.up(db);
    insertRun(db, 'before');
    MIGRATIONS[3]!.up(db);
    insertRun(db, 'after');
    db.prepare("UPDATE executions SET mac = x'0102' WHERE id = 'after'").run();
    expect(db.prepare('SELECT id, mac FROM executions ORDER BY id').all()).toEqual([
      { id: 'after', mac: Buffer.from([1, 2]) },
      { id: 'before', mac: null }
    ]);
    expect(() => db.prepare("UPDATE executions SET mac = 'text' WHERE id = 'after'").run()).toThrow(
      /cannot store TEXT value in BLOB column/
    );
  });
});
