import { createApp, openApp, type AppConfig, type KeydeskApp } from '../app.ts';
import { systemClock, type Clock } from '../clock.ts';
import { KeydeskError, toErrorShape } from '../errors.ts';
import { EventBus } from '../events.ts';
import { defaultRegistry, type ProviderRegistry } from '../providers/registry.ts';
import type { KeychainClient } from '../vault/keychain.ts';
import { EVENT_NAMES, type ErrorShape, type KeySource, type KeydeskEvents, type VaultStatus } from '../../preload/contract.ts';
import { nodeFs } from '../builtins.ts';

export const DEFAULT_AUTO_LOCK_MINUTES = 15;

export interface SessionConfig {
  vaultPath: string;
  /** Who acts through the app, for the audit log: "analyst:alice (app)". */
  actor: string;
  clock?: Clock;
  keychain?: KeychainClient;
  autoLockMinutes?: number;
  /**
   * Opens a URL outside the app (OAuth sign-in pages): Electron's shell.openExternal behind the checked wrapper,
   * a second page in the e2e harness. Without it, sign-ins are refused (UNSUPPORTED).
   */
  openExternal?: (url: string) => Promise<void>;
  /** The providers this app knows (default: every provider Keydesk ships). */
  providers?: ProviderRegistry;
}

/**
 * The desktop app's state around one vault path: no vault yet (first run), a vault that cannot be opened, or an
 * open KeydeskApp, locked or unlocked. Electron's main process and the e2e harness both drive the IPC handlers
 * through one of these, so they run the same code. Events of the open vault are re-emitted on `events`.
 */
export class AppSession {
  readonly config: SessionConfig;
  readonly clock: Clock;
  /** The provider catalog: readable with no vault at all (the first-run form lists providers). */
  readonly providers: ProviderRegistry;
  readonly events = new EventBus<KeydeskEvents>();
  #app: KeydeskApp | null = null;
  #problem: ErrorShape | null = null;
  #detach: (() => void)[] = [];

  constructor(config: SessionConfig) {
    this.config = config;
    this.clock = config.clock ?? systemClock;
    this.providers = config.providers ?? defaultRegistry;
    this.#tryOpen();
  }

  #appConfig(): AppConfig {
    return {
      vaultPath: this.config.vaultPath,
      actor: this.config.actor,
      clock: this.clock,
      providers: this.providers,
      ...(this.config.keychain ? { keychain: this.config.keychain } : {})
    };
  }

  #tryOpen(): void {
    if (!nodeFs().existsSync(this.config.vaultPath)) return;
    try {
      this.#attach(openApp(this.#appConfig()));
    } catch (e) {
      this.#problem = toErrorShape(e);
    }
  }

  #attach(app: KeydeskApp): void {
    this.#app = app;
    this.#problem = null;
    for (const name of EVENT_NAMES) {
      this.#detach.push(app.vault.events.on(name, (payload) => this.events.emit(name, payload as never)));
    }
  }

  get autoLockMinutes(): number {
    return this.config.autoLockMinutes ?? DEFAULT_AUTO_LOCK_MINUTES;
  }

  /** The open app; VAULT_NOT_FOUND on first run, the open error when the file is unusable. */
  app(): KeydeskApp {
    if (this.#app) return this.#app;
    if (this.#problem) throw new KeydeskError(this.#problem.code, this.#problem.message);
    throw new KeydeskError('VAULT_NOT_FOUND', 'There is no vault yet. Create one first (the first-run screen, or keydesk init).');
  }

  /** The open app if there is one (the scheduler and the poller skip their work otherwise). */
  current(): KeydeskApp | null {
    return this.#app;
  }

  status(): VaultStatus {
    const base = { path: this.config.vaultPath, autoLockMinutes: this.autoLockMinutes };
    if (!this.#app) {
      // A vault another process created since we started (keydesk init) is picked up here.
      if (!this.#problem) this.#tryOpen();
      if (!this.#app) {
        return {
          ...base,
          state: this.#problem ? 'unusable' : 'missing',
          problem: this.#problem,
          keySource: null,
          vaultId: null,
          credentials: 0,
          auditEntries: 0
        };
      }
    }
    const info = this.#app.vault.info();
    return {
      ...base,
      state: info.unlocked ? 'unlocked' : 'locked',
      problem: null,
      keySource: info.keySource,
      vaultId: info.vaultId,
      credentials: info.credentials,
      auditEntries: info.auditEntries
    };
  }

  async create(keySource: KeySource, passphrase?: string): Promise<VaultStatus> {
    if (this.#app || nodeFs().existsSync(this.config.vaultPath)) {
      throw new KeydeskError('VAULT_EXISTS', `A vault already exists at ${this.config.vaultPath}. Keydesk will not overwrite it.`);
    }
    const app = await createApp(
      this.#appConfig(),
      keySource,
      keySource === 'passphrase' ? () => Promise.resolve(passphrase ?? '') : undefined
    );
    this.#attach(app);
    this.events.emit('vault.lock', { locked: false });
    return this.status();
  }

  async unlock(passphrase?: string): Promise<VaultStatus> {
    const app = this.app();
    if (app.vault.isUnlocked()) return this.status();
    const source = app.vault.meta().key_source;
    if (source === 'keychain' && passphrase !== undefined) {
      throw new KeydeskError('INPUT_INVALID', 'This vault keeps its key in the OS keychain; it has no passphrase.', {
        fields: { passphrase: 'Not used for a keychain vault' }
      });
    }
    if (source === 'passphrase' && !passphrase) {
      throw new KeydeskError('PASSPHRASE_REQUIRED', 'Enter the vault passphrase to unlock.', {
        fields: { passphrase: 'Enter the passphrase' }
      });
    }
    await app.vault.unlock(passphrase === undefined ? {} : { passphrase: () => Promise.resolve(passphrase) });
    return this.status();
  }

  /** Keychain vaults unlock on start; passphrase vaults wait for the analyst. Returns why it stayed locked, if it did. */
  async unlockOnStart(): Promise<ErrorShape | null> {
    const app = this.#app;
    if (!app || app.vault.isUnlocked() || app.vault.meta().key_source !== 'keychain') return null;
    try {
      await app.vault.unlock();
      return null;
    } catch (e) {
      return toErrorShape(e);
    }
  }

  /** Anchors the audit head (keychain vaults), then forgets every key. Metadata stays readable. */
  async lock(): Promise<VaultStatus> {
    const app = this.#app;
    if (app?.vault.isUnlocked()) {
      if (app.vault.needsAnchor) await app.audit.anchor().catch(() => null);
      app.vault.lock();
    }
    return this.status();
  }

  /**
   * "A one-click re-auth on a locked vault unlocks first, in the same gesture": a keychain vault fetches its key, a
   * passphrase vault needs the passphrase given with the gesture.
   */
  async ensureUnlocked(passphrase?: string): Promise<void> {
    const app = this.app();
    if (app.vault.isUnlocked()) return;
    if (app.vault.meta().key_source === 'passphrase' && !passphrase) {
      throw new KeydeskError('VAULT_LOCKED', 'The vault is locked: enter its passphrase to unlock and continue.', {
        fields: { passphrase: 'Enter the passphrase' }
      });
    }
    await this.unlock(app.vault.meta().key_source === 'passphrase' ? passphrase : undefined);
  }

  isUnlocked(): boolean {
    return this.#app?.vault.isUnlocked() ?? false;
  }

  async close(): Promise<void> {
    for (const d of this.#detach.splice(0)) d();
    const app = this.#app;
    this.#app = null;
    await app?.close();
  }
}
