import type { Database } from 'better-sqlite3';

// The audit chain's head kept outside the log table (see audit-log.ts): every append updates it in the same
// transaction, with a tag keyed from the audit key. A migration has no key, so an existing log's head is recorded
// untagged here and tagged by the first append after it. An empty log gets its record with its first entry.
// Migrations never import application code: the schema they write must not change when the app does.
export function up(db: Database): void {
  db.exec(`
    CREATE TABLE audit_head (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      seq INTEGER NOT NULL,
      mac BLOB NOT NULL,
      tag BLOB
    );
    INSERT INTO audit_head (id, seq, mac, tag) SELECT 1, seq, mac, NULL FROM audit_log ORDER BY seq DESC LIMIT 1;
  `);
}
