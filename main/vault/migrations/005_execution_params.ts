import type { Database } from 'better-sqlite3';

// Run parameters beyond capability, target and host: the scope a scoped capability acts in (block_ip's VPC or network
// ACL, network, NSG) and the run's yes/no options (isolate's "cut existing connections", power's "deallocate"), as
// one JSON object. They steer provider calls, so they are covered by the row's MAC (when present).
// Migrations never import application code: the schema they write must not change when the app does.
export function up(db: Database): void {
  db.exec(`ALTER TABLE executions ADD COLUMN params TEXT;`);
}
