import type { Database } from 'better-sqlite3';

// Execution integrity. What steers a run's provider calls — the credential it runs with, its provider and mode, the
// capability, target and host, and the revert context a revert acts on (which mailbox, filter, user or VPS) — is
// read back from the vault file when a run resumes or is reverted. The file is untrusted (DESIGN.md), so those
// columns carry mac = HMAC(header_mac key, "keydesk/v1/execution", …), checked before any provider call.
// Rows written before this version have no MAC and are refused for resume and revert (their effect can still be
// read; undo it at the provider by hand).
// Migrations never import application code: the schema they write must not change when the app does.
export function up(db: Database): void {
  db.exec(`ALTER TABLE executions ADD COLUMN mac BLOB;`);
}
