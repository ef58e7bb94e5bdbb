import { userInfo } from 'node:os';
import type { Command } from './program.ts';
import type { AppConfig, KeydeskApp } from '../app.ts';
import { openCore, type KeydeskCore } from '../core.ts';
import type { Clock } from '../clock.ts';
import { KeydeskError, toErrorShape } from '../errors.ts';
import { defaultVaultPath } from '../paths.ts';
import { defaultRegistry, type ProviderRegistry } from '../providers/registry.ts';
import type { KeychainClient } from '../vault/keychain.ts';
import { terminalText } from './format.ts';
import { passphraseFrom, type CliIO } from './io.ts';

export interface GlobalOptions {
  vault?: string;
  json?: boolean;
}

/** What a `keydesk` process takes from the OS, unless given (in-process tests give them). */
export interface CliDeps {
  /** The OS keychain unless given. */
  keychain?: KeychainClient;
  /** The system clock unless given (tests move a clock past a deadline instead of waiting for it). */
  clock?: Clock;
  /** The providers Keydesk ships unless given (a test registers a fixture provider). */
  providers?: ProviderRegistry;
}

/** Everything a command needs: where the vault is, how to print, how to unlock. */
export class CliContext {
  readonly io: CliIO;
  /** The OS keychain unless given (in-process tests pass the same keytar client under another service name). */
  readonly keychain: KeychainClient | undefined;
  readonly clock: Clock | undefined;
  /** The providers this CLI knows: help texts and field checks before any vault is open come from here. */
  readonly providers: ProviderRegistry;
  #opened: KeydeskCore[] = [];
  /** A command that ran but found problems (check, verify) sets 1 here. */
  exitCode = 0;

  constructor(io: CliIO, deps: CliDeps = {}) {
    this.io = io;
    this.keychain = deps.keychain;
    this.clock = deps.clock;
    this.providers = deps.providers ?? defaultRegistry;
  }

  globals(cmd: Command): GlobalOptions {
    return cmd.optsWithGlobals<GlobalOptions>();
  }

  config(cmd: Command): AppConfig {
    const g = this.globals(cmd);
    const actorEnv = this.io.env.KEYDESK_ACTOR;
    let user = 'unknown';
    try {
      user = userInfo().username;
    } catch {
      /* no passwd entry */
    }
    return {
      vaultPath: g.vault ?? defaultVaultPath(this.io.env),
      actor: actorEnv && /^(analyst|agent):[\w.@-]{1,64}$/.test(actorEnv) ? `${actorEnv} (cli)` : `analyst:${user} (cli)`,
      providers: this.providers,
      ...(this.keychain ? { keychain: this.keychain } : {}),
      ...(this.clock ? { clock: this.clock } : {})
    };
  }

  /**
   * The whole app over the vault (every command that unlocks, runs, binds or signs in): loaded when first used, so
   * inspection commands do not pay for the services they never call.
   */
  async open(cmd: Command): Promise<KeydeskApp> {
    const { openApp } = await import('../app.ts');
    return this.track(openApp(this.config(cmd)));
  }

  /** The vault, providers, credentials and audit log only: offline inspection (list, show, status, audit export). */
  inspect(cmd: Command): KeydeskCore {
    return this.track(openCore(this.config(cmd)));
  }

  track<T extends KeydeskCore>(app: T): T {
    this.#opened.push(app);
    return app;
  }

  /** Unlocks with the vault's own key source: the OS keychain, or KEYDESK_PASSPHRASE / a prompt. */
  async unlock(app: KeydeskCore, why: string): Promise<void> {
    if (app.vault.isUnlocked()) return;
    try {
      await app.vault.unlock({ passphrase: passphraseFrom(this.io) });
    } catch (e) {
      if (e instanceof KeydeskError && e.code === 'PASSPHRASE_REQUIRED') {
        throw new KeydeskError('PASSPHRASE_REQUIRED', `${why} needs the vault key. ${e.message}`);
      }
      throw e;
    }
  }

  json(cmd: Command): boolean {
    return Boolean(this.globals(cmd).json);
  }

  /** Prints a result: one JSON document with --json, the human rendering otherwise. */
  print(cmd: Command, value: unknown, human: () => string): void {
    if (this.json(cmd)) this.io.stdout(`${JSON.stringify(value, null, 2)}\n`);
    else this.io.stdout(terminalText(human()));
  }

  printError(json: boolean, e: unknown): void {
    const shape = toErrorShape(e);
    if (json) this.io.stdout(`${JSON.stringify({ error: shape }, null, 2)}\n`);
    else this.io.stderr(terminalText(`keydesk: ${shape.message} [${shape.code}]\n`));
  }

  async closeAll(): Promise<void> {
    for (const app of this.#opened.splice(0)) await app.close();
  }
}
