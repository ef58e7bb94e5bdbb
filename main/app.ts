import { AuditService } from './audit/service.ts';
import { systemClock, type Clock } from './clock.ts';
import { CredentialService } from './credentials/service.ts';
import { ValidationService } from './credentials/validation.ts';
import { ExecutionService } from './executions/service.ts';
import { OAuthService } from './oauth/service.ts';
import { callSettings, type CallSettings } from './providers/call.ts';
import { defaultRegistry, type ProviderRegistry } from './providers/registry.ts';
import { RoutingService } from './routing/service.ts';
import type { KeychainClient } from './vault/keychain.ts';
import type { PassphraseSource } from './vault/passphrase.ts';
import { Vault, type KeySourceKind } from './vault/vault.ts';

/**
 * The composition root. Electron's main process, the CLI and the tests all build Keydesk's services here,
 * from one config, so every one of them runs the same code.
 */
export interface AppConfig {
  vaultPath: string;
  clock?: Clock;
  keychain?: KeychainClient;
  /** Who acts, for the audit log: "analyst:alice (cli)". */
  actor?: string;
  /** Per-request timeout for provider calls, ms (default 15 000). */
  providerTimeoutMs?: number;
  /** Credentials validated at once by "validate all" (default 8). */
  validationConcurrency?: number;
  /** How long a run waits for re-authentication before it ends expired_awaiting_reauth, ms (default 1 hour). */
  reauthCutoffMs?: number;
  /** How long an OAuth sign-in waits for the browser, ms (default 5 minutes). */
  oauthFlowTimeoutMs?: number;
  /** The providers this process knows (default: every provider Keydesk ships; tests add fixture providers). */
  providers?: ProviderRegistry;
}

export interface KeydeskApp {
  config: AppConfig;
  vault: Vault;
  providers: ProviderRegistry;
  /** The provider-call settings (per-request timeout) every provider call of this process uses. */
  calls: CallSettings;
  credentials: CredentialService;
  audit: AuditService;
  validation: ValidationService;
  /** Domain bindings and tenant routing. */
  routing: RoutingService;
  /** Capability runs, their lifecycle, re-auth waits and revert. */
  executions: ExecutionService;
  /** OAuth sign-in (authorization code + PKCE), refresh, pasted tokens, revocation. */
  oauth: OAuthService;
  /** Anchors the audit head (keychain vaults) when this handle wrote, then closes the vault. */
  close(): Promise<void>;
}

function assemble(config: AppConfig, vault: Vault): KeydeskApp {
  const providers = config.providers ?? defaultRegistry;
  const calls = callSettings({ timeoutMs: config.providerTimeoutMs });
  const credentials = new CredentialService(vault, providers);
  const audit = new AuditService(vault);
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
    config,
    vault,
    providers,
    calls,
    credentials,
    audit,
    validation,
    routing,
    executions,
    oauth,
    async close() {
      executions.dispose();
      if (vault.isUnlocked() && vault.needsAnchor) await audit.anchor().catch(() => null);
      vault.close();
    }
  };
}

export function openApp(config: AppConfig): KeydeskApp {
  const vault = Vault.open(config.vaultPath, {
    clock: config.clock ?? systemClock,
    ...(config.keychain ? { keychain: config.keychain } : {}),
    ...(config.actor ? { actor: config.actor } : {})
  });
  return assemble(config, vault);
}

export async function createApp(config: AppConfig, keySource: KeySourceKind, passphrase?: PassphraseSource): Promise<KeydeskApp> {
  const vault = await Vault.create(config.vaultPath, {
    keySource,
    clock: config.clock ?? systemClock,
    ...(passphrase ? { passphrase } : {}),
    ...(config.keychain ? { keychain: config.keychain } : {}),
    ...(config.actor ? { actor: config.actor } : {})
  });
  return assemble(config, vault);
}
