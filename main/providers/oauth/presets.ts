import { KeydeskError } from '../../errors.ts';
import { OAUTH_PRESETS } from './spec.ts';
import type { RedirectHost, ResponseMode } from '../../oauth/flow/loopback.ts';

/**
 * What Keydesk knows about well-known OAuth providers, for the generic `oauth` credential: their endpoints (so the
 * analyst types only a client id), the scopes to suggest, and how each expects the loopback redirect. A field the
 * analyst fills in (authorization_url, token_url, revocation_url, discovery_url) always wins over the preset.
 *
 * Facts marked "check" below come from the providers' public documentation as of writing and are not exercised by
 * the tests (which run against a local oidc-provider); confirm them against the provider before relying on them.
 */

export type PresetId = (typeof OAUTH_PRESETS)[number];

export interface OAuthPreset {
  id: PresetId;
  label: string;
  /** Issuer identifier (checked against RFC 9207 `iss` and ID tokens); null when the provider publishes none. */
  issuer: string | null;
  authorizationUrl: string;
  tokenUrl: string;
  /** RFC 7009 endpoint, or null when the provider has none (then `revocationNote` says what to do instead). */
  revocationUrl: string | null;
  revocationNote?: string;
  /** Suggested scopes (space-separated), prefilled in the form. */
  suggestedScopes: string;
  /** Extra authorization parameters the provider needs to issue a refresh token. */
  authorizationParams?: Record<string, string>;
  /** How the client authenticates at the token endpoint when it has a secret. */
  clientAuth: 'post' | 'basic';
  redirectHost: RedirectHost;
  redirectPath: string;
  responseMode: ResponseMode;
  notes: string;
}

/** Entra tenant segments that are not a tenant id or domain. */
export const MICROSOFT_TENANT_ALIASES = ['organizations', 'common', 'consumers'] as const;

export const PRESETS: Record<PresetId, OAuthPreset> = {
  google: {
    id: 'google',
    label: 'Google',
    issuer: 'https://accounts.google.com',
    authorizationUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    revocationUrl: 'https://oauth2.googleapis.com/revoke',
    suggestedScopes: 'openid email',
    // Google issues a refresh token only with access_type=offline, and again only when consent is shown.
    authorizationParams: { access_type: 'offline', prompt: 'consent' },
    clientAuth: 'post',
    redirectHost: '127.0.0.1',
    redirectPath: '/',
    responseMode: 'query',
    notes:
      'Create an OAuth client of type "Desktop app"; Google accepts a loopback redirect on any port. For Workspace admin actions use the google_workspace provider (oauth_user mode).'
  },
  microsoft: {
    id: 'microsoft',
    label: 'Microsoft (Entra ID)',
    // The v2.0 issuer names the tenant; for organizations/common it is the signed-in user's tenant, unknown in advance.
    issuer: null,
    authorizationUrl: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize',
    tokenUrl: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token',
    revocationUrl: null,
    revocationNote:
      'Microsoft Entra has no RFC 7009 revocation endpoint. To invalidate this user’s refresh tokens, call Microsoft Graph POST /users/{id}/revokeSignInSessions (or "Revoke sessions" in the Entra admin center); Keydesk can only forget its copy.',
    // offline_access is what makes Entra return a refresh token. No openid: with a multi-tenant authority the ID
    // token's issuer cannot be known in advance.
    suggestedScopes: 'offline_access https://graph.microsoft.com/User.Read',
    clientAuth: 'post',
    // Entra matches a registered http://localhost redirect on any port, but not 127.0.0.1 unless registered as such.
    redirectHost: 'localhost',
    redirectPath: '/',
    responseMode: 'query',
    notes:
      'Register a "Mobile and desktop applications" redirect http://localhost. Set tenant to your tenant id or domain (default: organizations). For Microsoft 365 actions use the microsoft_365 provider (oauth_delegated mode).'
  },
  github: {
    id: 'github',
    label: 'GitHub',
    issuer: null,
    authorizationUrl: 'https://github.com/login/oauth/authorize',
    tokenUrl: 'https://github.com/login/oauth/access_token',
    revocationUrl: null,
    revocationNote:
      'GitHub has no RFC 7009 endpoint: revoke the grant in GitHub (Settings → Applications → Authorized OAuth Apps), or with the REST API DELETE /applications/{client_id}/grant (it needs the client secret). Keydesk can only forget its copy.',
    suggestedScopes: 'read:user',
    clientAuth: 'post',
    redirectHost: '127.0.0.1',
    redirectPath: '/callback',
    responseMode: 'query',
    notes:
      'Register the callback URL http://127.0.0.1/callback; GitHub accepts any port for loopback callbacks (check). OAuth App tokens do not expire and come without a refresh token; GitHub Apps with expiring user tokens return one.'
  },
  slack: {
    id: 'slack',
    label: 'Slack',
    issuer: null,
    authorizationUrl: 'https://slack.com/oauth/v2/authorize',
    tokenUrl: 'https://slack.com/api/oauth.v2.access',
    revocationUrl: null,
    revocationNote:
      'Slack revokes tokens with its own auth.revoke Web API method, not RFC 7009; revoke the app’s tokens in the Slack app settings. Keydesk can only forget its copy.',
    suggestedScopes: 'channels:read',
    clientAuth: 'basic',
    redirectHost: '127.0.0.1',
    redirectPath: '/callback',
    responseMode: 'query',
    notes:
      'Scopes are bot scopes (the bot token is stored; user_scope is not handled). Turn on token rotation in the app settings to get a refresh token and 12-hour access tokens. Slack may require https redirect URLs for distributed apps (check).'
  }
};

export function presetById(id: string | undefined): OAuthPreset | null {
  if (id === undefined || id === '') return null;
  const p = (PRESETS as Record<string, OAuthPreset | undefined>)[id];
  if (!p) throw new KeydeskError('INPUT_INVALID', `Unknown OAuth preset. Known: ${OAUTH_PRESETS.join(', ')}.`);
  return p;
}

/** Fills `{tenant}` in a Microsoft preset URL. The tenant is a GUID, a domain or one of the aliases (checked by the spec). */
export function withTenant(url: string, tenant: string | undefined): string {
  return url.replace('{tenant}', encodeURIComponent(tenant && tenant.length > 0 ? tenant : 'organizations'));
}
