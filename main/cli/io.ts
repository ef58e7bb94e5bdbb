import { KeydeskError } from '../errors.ts';
import type { PassphraseSource } from '../vault/passphrase.ts';
import { nodeFs } from '../builtins.ts';

/** What the CLI touches of the outside world; tests give it buffers instead of the process's streams. */
export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  readStdin: () => Promise<string>;
  env: NodeJS.ProcessEnv;
  /** Asks on the terminal without echo; null when there is no terminal. */
  promptHidden: ((question: string) => Promise<string>) | null;
  /** True when stderr is a terminal (progress bars). */
  isTTY: boolean;
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads a line from the controlling terminal with echo off (stdin may be busy carrying a secrets file). */
export function ttyPrompt(question: string): Promise<string> {
  let fd: number;
  try {
    fd = nodeFs().openSync('/dev/tty', 'r+');
  } catch {
    return Promise.reject(new KeydeskError('PASSPHRASE_REQUIRED', 'No terminal to ask for the passphrase: set KEYDESK_PASSPHRASE.'));
  }
  // node:tty (and the net and stream modules it loads) only when a passphrase is really asked for.
  const { ReadStream, WriteStream } = process.getBuiltinModule('node:tty');
  const input = new ReadStream(fd);
  const output = new WriteStream(fd);
  return new Promise<string>((resolve, reject) => {
    let value = '';
    const done = (err: Error | null) => {
      input.setRawMode(false);
      input.removeAllListeners('data');
      input.pause();
      output.write('\n');
      input.destroy();
      output.destroy();
      try {
        nodeFs().closeSync(fd);
      } catch {
        /* already closed with the streams */
      }
      if (err) reject(err);
      else resolve(value);
    };
    output.write(question);
    input.setRawMode(true);
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done(null);
        if (ch === '\u0003') return done(new KeydeskError('INPUT_INVALID', 'Cancelled.'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    });
  });
}

let epipeHandled = false;

/**
 * A reader that goes away (`keydesk audit export | head`) ends the command quietly, as Unix tools do, instead of
 * an EPIPE stack trace: nothing more can be said to it.
 */
function quietOnClosedStdout(): void {
  if (epipeHandled) return;
  epipeHandled = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    throw e;
  });
}

export function processIO(): CliIO {
  quietOnClosedStdout();
  let hasTty: boolean;
  try {
    nodeFs().closeSync(nodeFs().openSync('/dev/tty', 'r'));
    hasTty = true;
  } catch {
    hasTty = false;
  }
  return {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    readStdin: () => readAll(process.stdin),
    env: process.env,
    promptHidden: hasTty && process.platform !== 'win32' ? ttyPrompt : null,
    isTTY: Boolean(process.stderr.isTTY)
  };
}

/** KEYDESK_PASSPHRASE, else a prompt on the terminal, else a clear error. Asked at most once per command. */
export function passphraseFrom(io: CliIO, opts: { envVar?: string; question?: string; confirm?: boolean } = {}): PassphraseSource {
  const envVar = opts.envVar ?? 'KEYDESK_PASSPHRASE';
  let cached: Promise<string> | null = null;
  return () => {
    cached ??= (async () => {
      const fromEnv = io.env[envVar];
      if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
      if (!io.promptHidden) {
        throw new KeydeskError(
          'PASSPHRASE_REQUIRED',
          `This needs the vault passphrase: set ${envVar}, or run keydesk in a terminal to be asked.`
        );
      }
      const first = await io.promptHidden(opts.question ?? 'Vault passphrase: ');
      if (opts.confirm) {
        const again = await io.promptHidden('Repeat the passphrase: ');
        if (again !== first) throw new KeydeskError('INPUT_INVALID', 'The two passphrases differ. Nothing was changed.');
      }
      return first;
    })();
    return cached;
  };
}
