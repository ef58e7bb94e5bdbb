import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { KeydeskError } from '../errors.ts';
import { registerAuditCommands } from './commands/audit.ts';
import { registerCredentialCommands } from './commands/credentials.ts';
import { registerExecutionCommands } from './commands/executions.ts';
import { registerOAuthCommands } from './commands/oauth.ts';
import { registerProviderCommands } from './commands/providers.ts';
import { registerRoutingCommands } from './commands/routing.ts';
import { registerVaultCommands } from './commands/vault.ts';
import { CliContext, type CliDeps } from './context.ts';
import { processIO, type CliIO } from './io.ts';

/** Exit codes: 0 ok, 1 failure, 2 usage error (bad arguments or input). */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export type CommandRegistrar = (program: Command, ctx: CliContext) => void;

/** Command groups. Later features add theirs here. */
const REGISTRARS: CommandRegistrar[] = [
  registerVaultCommands,
  registerCredentialCommands,
  registerAuditCommands,
  registerProviderCommands,
  registerRoutingCommands,
  registerExecutionCommands,
  registerOAuthCommands
];

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('keydesk')
    .description('Keydesk: the credentials your response actions run with, in an encrypted local vault')
    .option('--vault <path>', 'the vault file (default: $KEYDESK_VAULT, else the app-data folder)')
    .option('--json', 'machine-readable output (one JSON document; errors as {"error":{code,message}})')
    .version(packageVersion(), '--version', 'print the Keydesk version')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.io.stdout(s), writeErr: (s) => ctx.io.stderr(s) });
  for (const register of REGISTRARS) register(program, ctx);
  for (const sub of program.commands) applyOverrides(sub);
  return program;
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function applyOverrides(cmd: Command): void {
  cmd.exitOverride();
  for (const sub of cmd.commands) applyOverrides(sub);
}

/**
 * Runs one `keydesk` command and answers its exit code. bin/keydesk.js gives it the process's streams and environment;
 * in-process tests give it buffers, an explicit environment and, in `deps`, what a process would get from the OS.
 */
export async function run(argv: string[], io: CliIO = processIO(), deps: CliDeps = {}): Promise<number> {
  const ctx = new CliContext(io, deps);
  const program = buildProgram(ctx);
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      if (e.code === 'commander.executeSubCommandAsync') return EXIT.ok;
      // Commander has told a person on stderr; a script asked for --json gets its one JSON document too.
      if (json) ctx.printError(true, new KeydeskError('INPUT_INVALID', `${e.message.replace(/^error: /, '')}. See keydesk --help.`));
      return EXIT.usage;
    }
    ctx.printError(json, e);
    return e instanceof KeydeskError && e.code === 'INPUT_INVALID' ? EXIT.usage : EXIT.failure;
  } finally {
    await ctx.closeAll().catch(() => undefined);
  }
}
