import { describe, expect, it } from 'vitest';
import { accountFromIdToken, classifyTokenError, expiryFromSeconds, needsRefresh, scopeList, tokenEndpointError } from './tokens.ts';

const now = new Date('2026-11-21T12:00:00.000Z');

describe('token arithmetic and refusals', () => {
  it('refreshes within 5 minutes of expiry, not before', () => {
    expect(needsRefresh('2026-11-21T12:05:00.000Z', now)).toBe(true);
    expect(needsRefresh('2026-11-21T12:05:01.000Z', now)).toBe(false);
    expect(needsRefresh('2026-11-21T11:00:00.000Z', now)).toBe(true);
    expect(needsRefresh(null, now)).toBe(false);
    expect(needsRefresh('not a date', now)).toBe(true);
  });

  it('reads expires_in as the provider sent it, refusing nonsense', () => {
    expect(expiryFromSeconds(3600, now)).toBe('2026-11-21T13:00:00.000Z');
    expect(expiryFromSeconds('3600', now)).toBe('2026-11-21T13:00:00.000Z');
    for (const bad of [undefined, null, 0, -5, 'soon', Number.NaN, 1e12]) expect(expiryFromSeconds(bad, now)).toBeNull();
  });

  it('lists scopes sorted and de-duplicated', () => {
    expect(scopeList('openid  email openid api.read')).toEqual(['api.read', 'email', 'openid']);
    expect(scopeList(undefined)).toBeNull();
  });

  it('invalid_grant and invalid_rapt mean the credential is expired; other errors do not', () => {
    expect(classifyTokenError('invalid_grant', 'Token has been expired or revoked.', null)).toBe('invalid_grant');
    expect(classifyTokenError('invalid_grant', 'reauth related error (invalid_rapt)', null)).toBe('invalid_rapt');
    expect(classifyTokenError('invalid_grant', null, 'invalid_rapt')).toBe('invalid_rapt');
    expect(classifyTokenError('invalid_client', null, null)).toBeNull();
    const e = tokenEndpointError('refresh', {
      error: 'invalid_grant',
      description: 'grant request is invalid',
      status: 400,
      host: 'idp.example'
    });
    expect(e).toMatchObject({ code: 'PROVIDER_EXPIRED', expiredReason: 'invalid_grant' });
    expect(e.message).toContain('invalid_grant — grant request is invalid');
    expect(tokenEndpointError('refresh', { error: 'invalid_client', status: 401, host: 'idp.example' })).toMatchObject({
      code: 'PROVIDER_REJECTED',
      expiredReason: null
    });
    expect(tokenEndpointError('refresh', { error: 'server_error', status: 503, host: 'idp.example' })).toMatchObject({
      code: 'PROVIDER_UNREACHABLE'
    });
    expect(tokenEndpointError('exchange', { error: 'invalid_grant', status: 400, host: 'idp.example' })).toMatchObject({
      code: 'OAUTH_FAILED',
      expiredReason: null
    });
  });

  it('throttling and "temporarily unavailable" say nothing about the credential: unreachable, never rejected', () => {
    // After Keydesk waited out what Retry-After allowed, a 429 is still throttling, not a verdict on the token.
    expect(tokenEndpointError('refresh', { error: 'slow_down', status: 429, host: 'idp.example' })).toMatchObject({
      code: 'PROVIDER_UNREACHABLE',
      message: expect.stringContaining('rate-limiting')
    });
    // A library that lost the HTTP status still passes on the OAuth error code.
    expect(tokenEndpointError('refresh', { error: 'temporarily_unavailable', status: null, host: 'idp.example' })).toMatchObject({
      code: 'PROVIDER_UNREACHABLE'
    });
    expect(tokenEndpointError('refresh', { error: 'server_error', status: 400, host: 'idp.example' })).toMatchObject({
      code: 'PROVIDER_UNREACHABLE'
    });
    expect(tokenEndpointError('refresh', { error: 'unauthorized_client', status: null, host: 'idp.example' })).toMatchObject({
      code: 'PROVIDER_REJECTED'
    });
  });

  it('quotes a provider’s error text printable and bounded', () => {
    const e = tokenEndpointError('refresh', {
      error: 'invalid_request\u0000<b>',
      description: `${'x'.repeat(500)}\n`,
      status: 400,
      host: 'idp.example'
    });
    expect(e.message.includes('\u0000') || e.message.includes('\n')).toBe(false);
    expect(e.message.length).toBeLessThan(500);
  });

  it('shows who signed in from an ID token, for display only', () => {
    const jwt = (claims: object) => `h.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.s`;
    expect(accountFromIdToken(jwt({ sub: 'abc', email: 'alice@corp.example' }))).toBe('alice@corp.example');
    expect(accountFromIdToken(jwt({ sub: 'abc' }))).toBe('abc');
    expect(accountFromIdToken('garbage')).toBeNull();
    expect(accountFromIdToken(undefined)).toBeNull();
  });
});
