// Test support (never imported by the app): a child process whose stdout a test reads line by line as it runs.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Child {
  proc: ChildProcessWithoutNullStreams;
  /** Its stdout so far, line by line. */
  lines: string[];
  /** Resolves once a line equals (or matches) `line`; rejects if the child exits first. */
  waitFor(line: string | RegExp): Promise<void>;
  exit: Promise<number | null>;
  /** Its stderr so far. */
  stderr(): string;
}

/** Starts `argv` (argv[0] is the executable) under this process's environment plus `env`. */
export function spawnLines(argv: readonly string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Child {
  const [cmd, ...args] = argv;
  const proc = spawn(cmd!, args, { env: { ...process.env, ...env }, ...(cwd ? { cwd } : {}) });
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
    stderr: () => stderr,
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
