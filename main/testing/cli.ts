// Test support: runs the real `keydesk` CLI as a child process, without a controlling terminal (so it can never
// stop to prompt), and returns what a user would see.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
const HAVE_SETSID = process.platform === 'linux' && spawnSync('setsid', ['--version'], { stdio: 'ignore' }).status === 0;

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json runs). */
  json<T = unknown>(): T;
}

export function cli(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CliResult {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  for (const [k, v] of Object.entries(opts.env ?? {})) if (v === undefined) delete env[k];
  // setsid: a new session has no controlling terminal, so a missing passphrase fails instead of prompting.
  const argv = [process.execPath, resolve(ROOT, 'bin/keydesk.js'), ...args];
  const [cmd, ...rest] = HAVE_SETSID ? ['setsid', '-w', ...argv] : argv;
  const r = spawnSync(cmd!, rest, { cwd: ROOT, env, input: opts.input ?? '', encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000 });
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    json<T>() {
      return JSON.parse(r.stdout) as T;
    }
  };
}
