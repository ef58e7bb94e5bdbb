import { Command, ParseError } from './program.ts';
import { KeydeskError } from '../errors.ts';
import { CliContext, type CliDeps } from './context.ts';
import { processIO, type CliIO } from './io.ts';
import { nodeFs } from '../builtins.ts';

/** Exit codes: 0 ok, 1 failure, 2 usage error (bad arguments or input). */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export type CommandRegistrar = (program: Command, ctx: CliContext) => void;

/** A module of commands: the command names it defines, and the loader of its registrar. */
export interface CommandGroup {
  commands: readonly string[];
  load: () => Promise<CommandRegistrar>;
}

/**
 * Command groups, loaded only when one of their commands runs (or for help, which lists them all): a command pays
 * for its own group's modules, not for every other command's. Later features add their group here.
 */
export const COMMAND_GROUPS: readonly CommandGroup[] = [
  {
    commands: ['init', 'status', 'check', 'rotate-key', 'backup', 'restore'],
    load: () => import('./commands/vault.ts').then((m) => m.registerVaultCommands)
  },
  {
    commands: ['add', 'list', 'due', 'show', 'update', 'rotate', 'rename', 'remove'],
    load: () => import('./commands/credentials.ts').then((m) => m.registerCredentialCommands)
  },
  { commands: ['audit'], load: () => import('./commands/audit.ts').then((m) => m.registerAuditCommands) },
  {
    commands: ['validate', 'readiness', 'permissions', 'providers'],
    load: () => import('./commands/providers.ts').then((m) => m.registerProviderCommands)
  },
  {
    commands: ['bind', 'unbind', 'bindings', 'resolve'],
    load: () => import('./commands/routing.ts').then((m) => m.registerRoutingCommands)
  },
  {
    commands: ['run', 'executions', 'revert', 'prompts'],
    load: () => import('./commands/executions.ts').then((m) => m.registerExecutionCommands)
  },
  {
    commands: ['connect', 'reauth', 'refresh', 'revoke', 'paste-tokens'],
    load: () => import('./commands/oauth.ts').then((m) => m.registerOAuthCommands)
  }
];

/** Global options that take a value: the word after them is not the command. */
const VALUE_OPTIONS = new Set(['--vault']);

/** The command `argv` names (its first word that is neither an option nor an option's value), if any. */
export function commandOf(argv: readonly string[]): string | null {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return argv[i + 1] ?? null;
    if (VALUE_OPTIONS.has(a)) i++;
    else if (!a.startsWith('-')) return a;
  }
  return null;
}

/**
 * The program for one run: the global options, and the commands of the group `argv` names — or of every group when
 * it names none, or one no group has (help and the parser's "unknown command" then see them all).
 */
export async function buildProgram(ctx: CliContext, argv: readonly string[] = []): Promise<Command> {
  const name = commandOf(argv);
  const own = COMMAND_GROUPS.filter((g) => name !== null && g.commands.includes(name));
  const program = new Command('keydesk')
    .description('Keydesk: the credentials your response actions run with, in an encrypted local vault')
    .option('--vault <path>', 'the vault file (default: $KEYDESK_VAULT, else the app-data folder)')
    .option('--json', 'machine-readable output (one JSON document; errors as {"error":{code,message}})')
    .version(packageVersion())
    .configureOutput({ writeOut: (s) => ctx.io.stdout(s), writeErr: (s) => ctx.io.stderr(s) });
  for (const group of own.length ? own : COMMAND_GROUPS) (await group.load())(program, ctx);
  return program;
}

function packageVersion(): string {
  try {
    return (
      (JSON.parse(nodeFs().readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ??
      'unknown'
    );
  } catch {
    return 'unknown';
  }
}

/**
 * Runs one `keydesk` command and answers its exit code. bin/keydesk.js gives it the process's streams and environment;
 * in-process tests give it buffers, an explicit environment and, in `deps`, what a process would get from the OS.
 */
export async function run(argv: string[], io: CliIO = processIO(), deps: CliDeps = {}): Promise<number> {
  const ctx = new CliContext(io, deps);
  const program = await buildProgram(ctx, argv);
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof ParseError) {
      if (e.code === 'help' || e.code === 'version') return EXIT.ok;
      // The parser has told a person on stderr; a script asked for --json gets its one JSON document too.
      if (json) ctx.printError(true, new KeydeskError('INPUT_INVALID', `${e.message.replace(/^error: /, '')}. See keydesk --help.`));
      return EXIT.usage;
    }
    ctx.printError(json, e);
    return e instanceof KeydeskError && e.code === 'INPUT_INVALID' ? EXIT.usage : EXIT.failure;
  } finally {
    await ctx.closeAll().catch(() => undefined);
  }
}
