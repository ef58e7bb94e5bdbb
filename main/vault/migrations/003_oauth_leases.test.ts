import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from './index.ts';

function v3(): Database.Database {
  const db = new Database(':memory:');
  db.pragma('foreign_keys = ON');
  for (const m of MIGRATIONS.slice(0, 3)) m.up(db);
  db.prepare(
    "INSERT INTO credentials (id, name, provider, mode, header_mac, created_at, updated_at, rotated_at) VALUES ('c1', 'Okta', 'oauth', 'authorization_code', x'00', 't', 't', 't')"
  ).run();
  return db;
}

describe('migration 3: OAuth refresh leases', () => {
  it('is version 3 in the registry', () => {
    expect(MIGRATIONS[2]).toMatchObject({ version: 3, name: 'oauth_leases' });
  });

  it('holds one lease per credential, and removing the credential removes its lease', () => {
    const db = v3();
    const lease = (holder: string) =>
      db.prepare('INSERT INTO oauth_refresh_leases (credential_id, holder, expires_at) VALUES (?, ?, ?)').run('c1', holder, 1);
    lease('a');
    expect(() => lease('b')).toThrow(/UNIQUE|PRIMARY KEY/);
    db.prepare("DELETE FROM credentials WHERE id = 'c1'").run();
    expect(db.prepare('SELECT count(*) AS n FROM oauth_refresh_leases').get()).toEqual({ n: 0 });
  });

  it('refuses a lease for a credential that does not exist', () => {
    const db = v3();
    expect(() =>
      db.prepare('INSERT INTO oauth_refresh_leases (credential_id, holder, expires_at) VALUES (?, ?, ?)').run('nope', 'a', 1)
    ).toThrow(/FOREIGN KEY/);
  });
});
