// Test support (never imported by the app): another Keydesk process on the same vault, running child.ts.
import { resolve } from 'node:path';
import { spawnLines, type Child } from '../../testing/line-child.ts';

export type { Child };

const CHILD = resolve(import.meta.dirname, 'child.ts');

/** Starts `child.ts VAULT ...args` under this process's environment (plus `env`). */
export function spawnChild(vaultPath: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  return spawnLines([process.execPath, CHILD, vaultPath, ...args], env);
}
