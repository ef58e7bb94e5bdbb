import type { Database } from 'better-sqlite3';

// OAuth refresh leases (issue 4). The app and the CLI may open the same vault at once; a refresh token that rotates
// must be spent by one of them only, or the provider sees it reused and revokes the whole grant. Before refreshing,
// a process takes this credential's lease row (in a BEGIN IMMEDIATE transaction); another process that finds an
// unexpired lease waits for it and then uses the tokens the holder stored. A lease expires on its own (expires_at,
// milliseconds since the epoch, wall clock) so a process that died mid-refresh does not block the others.
// Migrations never import application code: the schema they write must not change when the app does.
export function up(db: Database): void {
  db.exec(`
    CREATE TABLE oauth_refresh_leases (
      credential_id TEXT PRIMARY KEY REFERENCES credentials (id) ON DELETE CASCADE,
      holder        TEXT NOT NULL,
      expires_at    INTEGER NOT NULL
    ) STRICT;
  `);
}
