import { describe, expect, it } from 'vitest';
import { validateValues } from '../../credentials/fields.ts';
import { defaultRegistry } from '../registry.ts';
import { resolveEndpoints } from './oauth.ts';
import { PRESETS, presetById, withTenant } from './presets.ts';

describe('OAuth presets', () => {
  it('prefill the endpoints; fields the analyst gives win', () => {
    expect(resolveEndpoints({ preset: 'google' }, PRESETS.google)).toEqual({
      authorizationUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
      tokenUrl: 'https://oauth2.googleapis.com/token',
      revocationUrl: 'https://oauth2.googleapis.com/revoke',
      discoveryUrl: undefined
    });
    expect(resolveEndpoints({ preset: 'google', token_url: 'https://proxy.example/token' }, PRESETS.google).tokenUrl).toBe(
      'https://proxy.example/token'
    );
    expect(resolveEndpoints({ preset: 'github' }, PRESETS.github).revocationUrl).toBeUndefined();
  });

  it('Microsoft is tenant-aware (default organizations) and has no revocation endpoint', () => {
    expect(resolveEndpoints({ preset: 'microsoft', tenant: 'contoso.onmicrosoft.com' }, PRESETS.microsoft).authorizationUrl).toBe(
      'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize'
    );
    expect(withTenant(PRESETS.microsoft.tokenUrl, undefined)).toBe('https://login.microsoftonline.com/organizations/oauth2/v2.0/token');
    expect(PRESETS.microsoft.revocationUrl).toBeNull();
    expect(PRESETS.microsoft.revocationNote).toContain('revokeSignInSessions');
    expect(PRESETS.microsoft.redirectHost).toBe('localhost');
  });

  it('every preset is https, suggests scopes, and is one the spec accepts', () => {
    const spec = defaultRegistry.mode('oauth', 'authorization_code');
    for (const p of Object.values(PRESETS)) {
      for (const u of [p.authorizationUrl, p.tokenUrl, p.revocationUrl].filter(Boolean)) expect(new URL(String(u)).protocol).toBe('https:');
      expect(p.suggestedScopes.length).toBeGreaterThan(0);
      expect(validateValues(spec, { preset: p.id, client_id: 'client-1', scopes: p.suggestedScopes })).toMatchObject({ preset: p.id });
    }
    expect(() => presetById('okta')).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
  });

  it('the spec refuses a tenant without the microsoft preset, and a malformed tenant', () => {
    const spec = defaultRegistry.mode('oauth', 'authorization_code');
    expect(() => validateValues(spec, { preset: 'google', tenant: 'contoso.com', client_id: 'c', scopes: 'openid' })).toThrow(
      expect.objectContaining({ fields: { tenant: expect.any(String) } })
    );
    expect(() => validateValues(spec, { preset: 'microsoft', tenant: 'not a tenant', client_id: 'c', scopes: 'openid' })).toThrow(
      expect.objectContaining({ code: 'INPUT_INVALID' })
    );
    expect(
      validateValues(spec, {
        preset: 'microsoft',
        tenant: '72f988bf-86f1-41af-91ab-2d7cd011db47',
        client_id: 'c',
        scopes: 'offline_access'
      })
    ).toMatchObject({ tenant: '72f988bf-86f1-41af-91ab-2d7cd011db47' });
  });
});
