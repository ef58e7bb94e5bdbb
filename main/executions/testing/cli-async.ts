// Test support: the real `keydesk` CLI as a child process, awaited without blocking the test's event loop (the
// loopback peers the command talks to run in the test process, so spawnSync would deadlock).
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../../..');
const HAVE_SETSID = process.platform === 'linux' && spawnSync('setsid', ['--version'], { stdio: 'ignore' }).status === 0;

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
  json<T = Record<string, unknown>>(): T;
}

export function keydesk(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  for (const [k, v] of Object.entries(opts.env ?? {})) if (v === undefined) delete env[k];
  // setsid: no controlling terminal, so nothing can stop at a prompt.
  const argv = [process.execPath, resolve(ROOT, 'bin/keydesk.js'), ...args];
  const [cmd, ...rest] = HAVE_SETSID ? ['setsid', '-w', ...argv] : argv;
  return new Promise((done, fail) => {
    const p = spawn(cmd!, rest, { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    p.on('error', fail);
    p.on('close', (status) => {
      clearTimeout(timer);
      done({
        status,
        stdout,
        stderr,
        json<T>() {
          return JSON.parse(stdout) as T;
        }
      });
    });
    p.stdin.end(opts.input ?? '');
  });
}
