import type { Database } from 'better-sqlite3';
import { up as v1 } from './001_initial.ts';
import { up as v2 } from './002_routing_executions.ts';
import { up as v3 } from './003_oauth_leases.ts';
import { up as v4 } from './004_execution_mac.ts';
import { up as v5 } from './005_execution_params.ts';
import { up as v6 } from './006_audit_head.ts';
import { up as v7 } from './007_secret_version.ts';

export interface Migration {
  version: number;
  name: string;
  up: (db: Database) => void;
}

/** One module per schema version, in order. Add new versions at the end; never edit a shipped one. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial', up: v1 },
  { version: 2, name: 'routing_executions', up: v2 },
  { version: 3, name: 'oauth_leases', up: v3 },
  { version: 4, name: 'execution_mac', up: v4 },
  { version: 5, name: 'execution_params', up: v5 },
  { version: 6, name: 'audit_head', up: v6 },
  { version: 7, name: 'secret_version', up: v7 }
];

export function checkRegistry(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`Migration registry out of order: position ${i} holds version ${m.version}`);
  });
}
checkRegistry(MIGRATIONS);

export const LATEST_VERSION = MIGRATIONS.length;
