// Test support (never imported by the app): another Keydesk process on the same vault, running child.ts.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const CHILD = resolve(import.meta.dirname, 'child.ts');

export interface Child {
  proc: ChildProcessWithoutNullStreams;
  /** Its stdout, line by line ("claimed", "ready", then one JSON line with the outcome). */
  lines: string[];
  waitFor(line: string | RegExp): Promise<void>;
  exit: Promise<number | null>;
}

/** Starts `child.ts VAULT ...args` under this process's environment (plus `env`). */
export function spawnChild(vaultPath: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(process.execPath, [CHILD, vaultPath, ...args], { env: { ...process.env, ...env } });
  const lines: string[] = [];
  const waiters: { test: (l: string) => boolean; resolve: () => void }[] = [];
  createInterface({ input: proc.stdout }).on('line', (l) => {
    lines.push(l);
    for (const w of waiters.filter((x) => x.test(l))) w.resolve();
  });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return {
    proc,
    lines,
    exit,
    waitFor(line) {
      const test = (l: string) => (typeof line === 'string' ? l === line : line.test(l));
      if (lines.some(test)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        waiters.push({ test, resolve });
        void exit.then((code) => reject(new Error(`child exited (${code}) before "${String(line)}": ${stderr}`)));
      });
    }
  };
}
