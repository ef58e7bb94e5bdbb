import { AuditService } from './audit/service.ts';
import { systemClock, type Clock } from './clock.ts';
import { CredentialService } from './credentials/service.ts';
import { defaultRegistry, type ProviderRegistry } from './providers/registry.ts';
import type { KeychainClient } from './vault/keychain.ts';
import { Vault } from './vault/vault.ts';

/**
 * The part of the composition every process needs: the vault, the providers, the credentials and the audit log.
 * main/app.ts builds the rest of Keydesk on top of it; offline inspection (`keydesk list`, `show`, `status`,
 * `audit export`) opens only this, so it does not load the runner, routing, OAuth or the provider-call plumbing.
 */
export interface CoreConfig {
  vaultPath: string;
  clock?: Clock;
  keychain?: KeychainClient;
  /** Who acts, for the audit log: "analyst:alice (cli)". */
  actor?: string;
  /** The providers this process knows (default: every provider Keydesk ships; tests add fixture providers). */
  providers?: ProviderRegistry;
}

export interface KeydeskCore {
  vault: Vault;
  providers: ProviderRegistry;
  credentials: CredentialService;
  audit: AuditService;
  /** Anchors the audit head (keychain vaults) when this handle wrote, then closes the vault. */
  close(): Promise<void>;
}

/** The vault's handle options from a config. */
export function vaultOptions(config: CoreConfig): { clock: Clock; keychain?: KeychainClient; actor?: string } {
  return {
    clock: config.clock ?? systemClock,
    ...(config.keychain ? { keychain: config.keychain } : {}),
    ...(config.actor ? { actor: config.actor } : {})
  };
}

export function assembleCore(config: CoreConfig, vault: Vault): KeydeskCore {
  const providers = config.providers ?? defaultRegistry;
  const audit = new AuditService(vault);
  return {
    vault,
    providers,
    credentials: new CredentialService(vault, providers),
    audit,
    async close() {
      if (vault.isUnlocked() && vault.needsAnchor) await audit.anchor().catch(() => null);
      vault.close();
    }
  };
}

/** Opens an existing vault with the core services only (metadata readable at once; secrets need unlock()). */
export function openCore(config: CoreConfig): KeydeskCore {
  return assembleCore(config, Vault.open(config.vaultPath, vaultOptions(config)));
}
