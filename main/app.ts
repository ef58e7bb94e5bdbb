import { assembleCore, vaultOptions, type CoreConfig, type KeydeskCore } from './core.ts';
import { ValidationService } from './credentials/validation.ts';
import { ExecutionService } from './executions/service.ts';
import { OAuthService } from './oauth/service.ts';
import { callSettings, type CallSettings } from './providers/call.ts';
import { RoutingService } from './routing/service.ts';
import { restoreBackup, type RestoreReport } from './vault/backup.ts';
import type { PassphraseSource } from './vault/passphrase.ts';
import { Vault, type KeySourceKind } from './vault/vault.ts';

/**
 * The composition root. Electron's main process, the CLI and the tests all build Keydesk's services here,
 * from one config, so every one of them runs the same code. The core (vault, providers, credentials, audit) comes
 * from main/core.ts, which offline inspection opens on its own.
 */
export interface AppConfig extends CoreConfig {
  /** Per-request timeout for provider calls, ms (default 15 000). */
  providerTimeoutMs?: number;
  /** Credentials validated at once by "validate all" (default 8). */
  validationConcurrency?: number;
  /** How long a run waits for re-authentication before it ends expired_awaiting_reauth, ms (default 1 hour). */
  reauthCutoffMs?: number;
  /** How long an OAuth sign-in waits for the browser, ms (default 5 minutes). */
  oauthFlowTimeoutMs?: number;
}

export interface KeydeskApp extends KeydeskCore {
  config: AppConfig;
  /** The provider-call settings (per-request timeout) every provider call of this process uses. */
  calls: CallSettings;
  validation: ValidationService;
  /** Domain bindings and tenant routing. */
  routing: RoutingService;
  /** Capability runs, their lifecycle, re-auth waits and revert. */
  executions: ExecutionService;
  /** OAuth sign-in (authorization code + PKCE), refresh, pasted tokens, revocation. */
  oauth: OAuthService;
}

function assemble(config: AppConfig, vault: Vault): KeydeskApp {
  const core = assembleCore(config, vault);
  const { providers, credentials } = core;
  const calls = callSettings({ timeoutMs: config.providerTimeoutMs });
  const validation = new ValidationService({
    credentials,
    registry: providers,
    events: vault.events,
    clock: vault.clock,
    calls,
    ...(config.validationConcurrency !== undefined ? { concurrency: config.validationConcurrency } : {})
  });
  const routing = new RoutingService(vault, credentials);
  const executions = new ExecutionService({
    vault,
    credentials,
    routing,
    calls,
    validate: async (id) => (await validation.validate(id)).credential,
    ...(config.reauthCutoffMs !== undefined ? { cutoffMs: config.reauthCutoffMs } : {})
  });
  const oauth = new OAuthService({
    vault,
    credentials,
    drivers: providers,
    events: vault.events,
    clock: vault.clock,
    calls,
    ...(config.oauthFlowTimeoutMs !== undefined ? { flowTimeoutMs: config.oauthFlowTimeoutMs } : {})
  });
  executions.connect({ accessToken: (id) => oauth.accessToken(id) });
  // A successful OAuth sign-in of an existing credential resumes the runs waiting on it (same execution ids).
  oauth.onReauthenticated(async (c) => {
    if (vault.isUnlocked()) await executions.resumeWaiting(c.id);
  });
  return {
    ...core,
    config,
    calls,
    validation,
    routing,
    executions,
    oauth,
    async close() {
      executions.dispose();
      await core.close();
    }
  };
}

export function openApp(config: AppConfig): KeydeskApp {
  return assemble(config, Vault.open(config.vaultPath, vaultOptions(config)));
}

export async function createApp(config: AppConfig, keySource: KeySourceKind, passphrase?: PassphraseSource): Promise<KeydeskApp> {
  const vault = await Vault.create(config.vaultPath, { ...vaultOptions(config), keySource, ...(passphrase ? { passphrase } : {}) });
  return assemble(config, vault);
}

/**
 * Restores an encrypted backup as a new vault at config.vaultPath (nothing may be there), its key from `keySource`
 * (a fresh OS keychain key, or the new `passphrase`). The app comes back unlocked.
 */
export async function restoreApp(
  config: AppConfig,
  file: string,
  backupPassphrase: PassphraseSource,
  keySource: KeySourceKind,
  passphrase?: PassphraseSource
): Promise<{ app: KeydeskApp; report: RestoreReport }> {
  const { vault, report } = await restoreBackup(file, backupPassphrase, config.vaultPath, {
    ...vaultOptions(config),
    keySource,
    ...(passphrase ? { passphrase } : {})
  });
  return { app: assemble(config, vault), report };
}
