import { endpointField, field, pattern, scopeList, type ProviderSpec } from '../spec.ts';

export const OAUTH_PRESETS = ['google', 'microsoft', 'github', 'slack'] as const;

export const oauthSpec: ProviderSpec = {
  id: 'oauth',
  label: 'OAuth (any provider)',
  tenantScoped: false,
  modes: [
    {
      id: 'authorization_code',
      label: 'Authorization code + PKCE',
      oauth: true,
      rotationDays: 90,
      fields: [
        field({
          name: 'preset',
          label: 'Preset',
          required: false,
          endpoint: true,
          help: 'google, microsoft, github or slack prefill the URLs.',
          rule: pattern('Preset', /^(google|microsoft|github|slack)$/, 'one of google, microsoft, github, slack', 16)
        }),
        field({
          name: 'tenant',
          label: 'Tenant',
          required: false,
          // The preset and the tenant pick the token endpoint, so they count as endpoint overrides: changing either
          // needs the client secret again and is refused while sign-in tokens are stored.
          endpoint: true,
          help: 'Microsoft preset only: your tenant id or domain (default organizations).',
          rule: pattern(
            'Tenant',
            /^(organizations|common|consumers|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})$/i,
            'a tenant id (GUID), a verified domain, or organizations, common or consumers',
            253
          )
        }),
        endpointField('authorization_url', 'Authorization URL', 'Required unless a preset or discovery URL gives it.'),
        endpointField('token_url', 'Token URL', 'Required unless a preset or discovery URL gives it.'),
        endpointField('revocation_url', 'Revocation URL', 'RFC 7009 endpoint, where the provider has one.'),
        endpointField('discovery_url', 'Discovery URL', 'An OpenID Connect or RFC 8414 discovery document.'),
        field({
          name: 'client_id',
          label: 'Client ID',
          rule: pattern('Client ID', /^[\x21-\x7E]{1,512}$/, 'a client id (printable characters, no spaces)', 512)
        }),
        field({
          name: 'client_secret',
          label: 'Client secret',
          secret: true,
          required: false,
          rule: pattern('Client secret', /^\S{1,512}$/, 'a client secret (no spaces)', 512)
        }),
        field({ name: 'scopes', label: 'Scopes', kind: 'scopes', placeholder: 'openid offline_access', rule: scopeList('Scopes') })
      ],
      check: (v) => ({
        ...(v.preset || v.discovery_url || (v.authorization_url && v.token_url)
          ? {}
          : { authorization_url: 'Give a preset, a discovery URL, or both the authorization and token URLs' }),
        ...(v.tenant && v.preset !== 'microsoft' ? { tenant: 'Only the microsoft preset uses a tenant' } : {})
      })
    }
  ],
  capabilities: [],
  validationPermissions: ['a token refresh against the token endpoint']
};
