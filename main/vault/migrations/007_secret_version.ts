import type { Database } from 'better-sqlite3';

// A per-credential version of its sealed secret, counted up by every change of it and bound into both the header MAC
// and the secret's AAD: an older copy of a secret row put back no longer opens. Rows from before carry version 0 and
// the older formats (no key at migration time to re-MAC them); their next secret change moves them to version 1.
// Migrations never import application code: the schema they write must not change when the app does.
export function up(db: Database): void {
  db.exec(`ALTER TABLE credentials ADD COLUMN secret_version INTEGER NOT NULL DEFAULT 0;`);
}
