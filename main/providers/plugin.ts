import type { Clock } from '../clock.ts';
import type { CredentialMaterial, CredentialStatus } from '../vault/credentials.ts';
import type { CapabilityId, ProviderSpec } from './spec.ts';
import type { ProviderHttp } from './http.ts';

/**
 * The behaviour half of a provider plugin (the static half is its ProviderSpec). One module per provider,
 * loaded lazily by registry.ts so the CLI does not pay for every SDK on every command.
 */

export interface CapabilityReadiness {
  capability: CapabilityId;
  /** null when the provider does not tell us (we cannot know before trying). */
  ready: boolean | null;
  /** The exact permissions (scopes, roles, IAM actions) that are missing. */
  missing: string[];
  note?: string;
}

/** Readable facts validation learned. Stored in the credential's `observed` JSON; never secret. */
export interface Observed {
  /** Who the credential is: account id, ARN, client email, tenant, project… */
  identity?: Record<string, string>;
  readiness?: CapabilityReadiness[];
  /** Domains the tenant owns (Graph verified domains, Directory domains): binding suggestions. */
  suggestions?: string[];
  /** Scopes / roles the provider says were granted. */
  granted?: string[];
}

export interface ValidationOutcome {
  status: CredentialStatus;
  /** The provider's own error code plus a short actionable message. Never a secret, never a stack. */
  error: { code: string; message: string } | null;
  /** Expiry the provider told us (STS session, token, client secret end date); undefined = unknown. */
  expiresAt?: string | null;
  observed?: Observed;
}

export interface ValidateContext {
  credential: CredentialMaterial;
  /** fetch with the per-request timeout, the cancel signal and 429 Retry-After handling built in. */
  http: ProviderHttp;
  timeoutMs: number;
  signal: AbortSignal;
  clock: Clock;
}

export interface ProviderPlugin {
  spec: ProviderSpec;
  validate(ctx: ValidateContext): Promise<ValidationOutcome>;
}
