// Test support: runs the real `keydesk` CLI as a child process, without a controlling terminal (so it can never
// stop to prompt), and returns what a user would see.
import { spawn, spawnSync } from 'node:child_process';
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

/**
 * The same, without blocking this process: for tests whose loopback peers run in this process (spawnSync would
 * stop them answering while the child waits on them).
 */
export function cliAsync(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  for (const [k, v] of Object.entries(opts.env ?? {})) if (v === undefined) delete env[k];
  const argv = [process.execPath, resolve(ROOT, 'bin/keydesk.js'), ...args];
  const [cmd, ...rest] = HAVE_SETSID ? ['setsid', '-w', ...argv] : argv;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd!, rest, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) =>
      resolvePromise({
        status,
        stdout,
        stderr,
        json<T>() {
          return JSON.parse(stdout) as T;
        }
      })
    );
    child.stdin.end(opts.input ?? '');
  });
}
