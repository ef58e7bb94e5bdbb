import type { DriverFactory } from '../oauth/drivers/types.ts';
import type { ProviderCapabilities, ValidationPlugin } from './plugin.ts';
import type { ProviderSpec } from './spec.ts';

/**
 * What a provider is, in one object: `main/providers/<id>/index.ts` exports its manifest, and the registry
 * (registry.ts) holds the list. Everything else — the catalog the form and `keydesk providers` show, CLI help,
 * readiness, which plugin validates, which handlers act, which library signs in — is derived from manifests, so a new
 * provider is one folder plus one line in the registry.
 *
 * Importing a manifest must stay cheap (every command loads them all, `keydesk list` included): the spec is plain
 * data and rule functions; the SDK-backed halves are behind the lazy loaders.
 */
export interface ProviderManifest {
  spec: ProviderSpec;
  texts: ProviderTexts;
  /** The validation plugin; absent when the provider's credentials are checked otherwise (OAuth: a token refresh). */
  validator?: () => Promise<ValidationPlugin>;
  /** The capability handlers (one per capability the spec lists); absent when it lists none. */
  capabilities?: () => Promise<ProviderCapabilities>;
  /** Per OAuth mode (a mode whose spec says `oauth: true`), the driver speaking that provider's library. */
  oauth?: Readonly<Record<string, () => Promise<DriverFactory>>>;
}

/** The words a provider brings for people (labels of modes, fields and capabilities live in its spec). */
export interface ProviderTexts {
  /** One line: what a credential of this provider is and what Keydesk does with it. */
  summary: string;
  /** Where the analyst creates or finds the credential (a console path, a docs page). */
  setup: string;
}
