import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from './index.ts';

function v2(): Database.Database {
  const db = new Database(':memory:');
  db.pragma('foreign_keys = ON');
  MIGRATIONS[0]!.up(db);
  MIGRATIONS[1]!.up(db);
  db.prepare(
    "INSERT INTO credentials (id, name, provider, mode, header_mac, created_at, updated_at, rotated_at) VALUES ('c1', 'M365', 'microsoft_365', 'client_secret', x'00', 't', 't', 't')"
  ).run();
  return db;
}

const execution = (id: string, status: string) =>
  `INSERT INTO executions (id, capability, target, reason, actor, actor_kind, credential_id, credential_name, provider, mode, status, dedupe_key, created_at, updated_at)
   VALUES ('${id}', 'disable_user', 'alice@corp.example', 'r', 'analyst:a', 'analyst', 'c1', 'M365', 'microsoft_365', 'client_secret', '${status}', 'k', 't', 't')`;

describe('migration 2: bindings, executions, re-auth prompts', () => {
  it('is version 2 in the registry', () => {
    expect(MIGRATIONS[1]).toMatchObject({ version: 2, name: 'routing_executions' });
  });

  it('removing a credential removes its bindings and prompts, and keeps its executions as history', () => {
    const db = v2();
    db.prepare(
      "INSERT INTO bindings (id, credential_id, domain, subdomains, created_at, mac) VALUES ('b1', 'c1', 'corp.example', 0, 't', x'00')"
    ).run();
    db.prepare(
      "INSERT INTO reauth_prompts (id, credential_id, state, reason_code, reason, raised_at, deadline) VALUES ('p1', 'c1', 'pending', 'X', 'x', 't', 't')"
    ).run();
    db.exec(execution('e1', 'succeeded'));
    db.prepare("DELETE FROM credentials WHERE id = 'c1'").run();
    expect(db.prepare('SELECT count(*) AS n FROM bindings').get()).toEqual({ n: 0 });
    expect(db.prepare('SELECT count(*) AS n FROM reauth_prompts').get()).toEqual({ n: 0 });
    expect(db.prepare("SELECT credential_id, credential_name FROM executions WHERE id = 'e1'").get()).toEqual({
      credential_id: null,
      credential_name: 'M365'
    });
  });

  it('refuses a status, failure reason or marker the lifecycle does not know', () => {
    const db = v2();
    expect(() => db.exec(execution('e2', 'done'))).toThrow(/CHECK constraint/);
    db.exec(execution('e3', 'failed'));
    expect(() => db.prepare("UPDATE executions SET failure_reason = 'oops' WHERE id = 'e3'").run()).toThrow(/CHECK constraint/);
    expect(() => db.prepare("UPDATE executions SET marker = 'oops' WHERE id = 'e3'").run()).toThrow(/CHECK constraint/);
  });

  it('allows one pending prompt per credential and one binding per credential and domain', () => {
    const db = v2();
    const prompt = (id: string, state: string) =>
      db
        .prepare(
          `INSERT INTO reauth_prompts (id, credential_id, state, reason_code, reason, raised_at, deadline) VALUES ('${id}', 'c1', '${state}', 'X', 'x', 't', 't')`
        )
        .run();
    prompt('p1', 'pending');
    expect(() => prompt('p2', 'pending')).toThrow(/UNIQUE/);
    prompt('p3', 'resolved');
    const bind = (id: string) =>
      db
        .prepare(
          `INSERT INTO bindings (id, credential_id, domain, subdomains, created_at, mac) VALUES ('${id}', 'c1', 'corp.example', 0, 't', x'00')`
        )
        .run();
    bind('b1');
    expect(() => bind('b2')).toThrow(/UNIQUE/);
  });
});
