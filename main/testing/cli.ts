// Test support: runs the `keydesk` CLI and returns what a user would see. `runCli` runs it in this process, through
// the same `run()` that bin/keydesk.js calls, with buffers for its streams and an explicit environment; `spawnCli` and
// `spawnCliAsync` run the real binary as a child process, for the few tests of what only a real process does.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { run } from '../cli/index.ts';
import type { CliIO } from '../cli/io.ts';
import type { Clock } from '../clock.ts';
import type { KeychainClient } from '../vault/keychain.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import { spawnLines, type Child } from './line-child.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
const HAVE_SETSID = process.platform === 'linux' && spawnSync('setsid', ['--version'], { stdio: 'ignore' }).status === 0;

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json runs). */
  json<T = unknown>(): T;
}

function result(status: number | null, stdout: string, stderr: string): CliResult {
  return {
    status,
    stdout,
    stderr,
    json<T>() {
      return JSON.parse(stdout) as T;
    }
  };
}

export interface RunCliOptions {
  /** What the command reads on stdin (`--secrets-from -`); empty when not given. */
  input?: string;
  /**
   * The command's whole environment. Nothing of this process's own environment is passed, so a KEYDESK_PASSPHRASE or
   * KEYDESK_VAULT set for one test (or in the shell that started the tests) cannot reach another. Undefined values are
   * left out. A browser the CLI starts (KEYDESK_BROWSER) gets this environment, less the passphrase variables.
   */
  env?: Record<string, string | undefined>;
  /** The keychain client; the OS keychain (the same one a spawned `keydesk` uses) when not given. */
  keychain?: KeychainClient;
  /** The clock; the system clock when not given. */
  clock?: Clock;
  /** The providers the CLI knows; the ones Keydesk ships when not given (a test adds a fixture provider). */
  providers?: ProviderRegistry;
}

/**
 * Runs one `keydesk` command in this process, as a user without a terminal would run it: nothing can prompt
 * (`promptHidden` is null), stderr is not a TTY, stdin is `input`. Refuses (throws) when the command leaves behind
 * what a process would have taken with it: an open vault file, a SIGINT listener, a loopback listener, a changed
 * `process.exitCode`. Anything the CLI writes straight to process.stdout/stderr instead of its IO is captured into
 * the result, as a user of the real binary would see it.
 */
export async function runCli(args: string[], opts: RunCliOptions = {}): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(opts.env ?? {})) if (v !== undefined) env[k] = v;
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    readStdin: () => Promise.resolve(opts.input ?? ''),
    env: Object.freeze(env),
    promptHidden: null,
    isTTY: false
  };
  const vaultFiles = vaultFilePrefix(args, env);
  const before = leftovers(vaultFiles);
  const exitCodeBefore = process.exitCode;
  const restore = captureProcessWrites(
    (s) => (stdout += s),
    (s) => (stderr += s)
  );
  let status: number;
  try {
    status = await run(args, io, {
      ...(opts.keychain ? { keychain: opts.keychain } : {}),
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.providers ? { providers: opts.providers } : {})
    });
  } finally {
    restore();
  }
  const problems: string[] = [];
  if (process.exitCode !== exitCodeBefore) {
    problems.push(`set process.exitCode to ${String(process.exitCode)} (the exit code is run()'s answer)`);
    process.exitCode = exitCodeBefore;
  }
  const after = leftovers(vaultFiles);
  const opened = [...after.vaultFds].filter((f) => !before.vaultFds.has(f));
  if (opened.length) problems.push(`left the vault open (${opened.join(', ')})`);
  if (after.sigint > before.sigint) problems.push(`left ${after.sigint - before.sigint} SIGINT listener(s)`);
  if (after.servers > before.servers) problems.push(`left ${after.servers - before.servers} listening server(s)`);
  if (problems.length) throw new Error(`keydesk ${args.join(' ')} ${problems.join('; ')}`);
  return result(status, stdout, stderr);
}

/** The path every file of the vault a command names starts with (vault.sqlite, -wal, -shm), as /proc shows it. */
function vaultFilePrefix(args: string[], env: NodeJS.ProcessEnv): string | null {
  let path: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--vault') path = args[i + 1];
    else if (a.startsWith('--vault=')) path = a.slice('--vault='.length);
  }
  path ??= env.KEYDESK_VAULT;
  if (!path) return null;
  const abs = resolve(path);
  try {
    return join(realpathSync(dirname(abs)), basename(abs));
  } catch {
    return abs;
  }
}

function leftovers(vaultFiles: string | null): { vaultFds: Set<string>; sigint: number; servers: number } {
  const vaultFds = new Set<string>();
  if (vaultFiles && process.platform === 'linux') {
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        const target = readlinkSync(`/proc/self/fd/${fd}`);
        if (target.startsWith(vaultFiles)) vaultFds.add(`fd ${fd} → ${target}`);
      } catch {
        /* closed while listing */
      }
    }
  }
  return {
    vaultFds,
    sigint: process.listenerCount('SIGINT'),
    servers: process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length
  };
}

function captureProcessWrites(out: (s: string) => void, err: (s: string) => void): () => void {
  const streams = [
    [process.stdout, out],
    [process.stderr, err]
  ] as const;
  const originals = streams.map(([stream]) => stream.write);
  for (const [stream, sink] of streams) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      sink(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const callback = rest.find((r): r is (e?: Error | null) => void => typeof r === 'function');
      callback?.();
      return true;
    }) as typeof stream.write;
  }
  return () => streams.forEach(([stream], i) => (stream.write = originals[i]!));
}

function spawnArgv(args: string[]): { cmd: string; rest: string[] } {
  // setsid: a new session has no controlling terminal, so a missing passphrase fails instead of prompting.
  const argv = [process.execPath, resolve(ROOT, 'bin/keydesk.js'), ...args];
  const [cmd, ...rest] = HAVE_SETSID ? ['setsid', '-w', ...argv] : argv;
  return { cmd: cmd!, rest };
}

function childEnv(extra: NodeJS.ProcessEnv | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const [k, v] of Object.entries(extra ?? {})) if (v === undefined) delete env[k];
  return env;
}

/**
 * The real `keydesk` binary as a child process, without a controlling terminal (so it can never stop to prompt). Its
 * environment is this process's (the private keyring session included) with `env` on top; undefined removes a variable.
 */
export function spawnCli(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CliResult {
  const { cmd, rest } = spawnArgv(args);
  const r = spawnSync(cmd, rest, {
    cwd: ROOT,
    env: childEnv(opts.env),
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000
  });
  return result(r.status, r.stdout, r.stderr);
}

/**
 * The same, without blocking this process: for tests whose loopback peers run in this process (spawnSync would
 * stop them answering while the child waits on them).
 */
export function spawnCliAsync(
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}
): Promise<CliResult> {
  const { cmd, rest } = spawnArgv(args);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, rest, {
      cwd: ROOT,
      env: childEnv(opts.env),
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 60_000
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolvePromise(result(status, stdout, stderr)));
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * The real binary as a live child process (no setsid: it can take a Ctrl-C), for commands that keep running, such as
 * `audit export --follow`: the test reads its stdout line by line and signals it.
 */
export function spawnCliLive(args: string[], env: NodeJS.ProcessEnv = {}): Child {
  return spawnLines([process.execPath, resolve(ROOT, 'bin/keydesk.js'), ...args], env, ROOT);
}
