import { describe, expect, it } from 'vitest';
import { authorityConfig, certificateForMsal, defaultScope, entraOutcome, readTokenClaims, tokenRoles } from './entra.ts';
import { generateKeyPairSync } from 'node:crypto';
import { createClientCertificate } from '../../../e2e/peers/tls.ts';

const answer = (aadsts: number | null, status: number | null = 400, description = '', error: string | null = 'invalid_client') => ({
  status,
  error,
  aadsts,
  description,
  tenantId: 'contoso.onmicrosoft.com'
});

describe('entraOutcome: AADSTS answers mapped honestly', () => {
  it.each([
    [7000215, 'failed', /client secret/],
    [7000222, 'expired', /has expired/],
    [700016, 'failed', /no application with this client ID in tenant contoso\.onmicrosoft\.com/],
    [90002, 'failed', /does not know tenant contoso\.onmicrosoft\.com/],
    [7000112, 'failed', /disabled/],
    [500011, 'failed', /no service principal/],
    [700024, 'unknown', /clock is off/]
  ] as const)('AADSTS%s → %s', (code, status, message) => {
    const o = entraOutcome(answer(code));
    expect(o.status).toBe(status);
    expect(o.error?.code).toBe(`AADSTS${code}`);
    expect(o.error?.message).toMatch(message);
  });

  it('AADSTS700027 is expired only when Entra says the certificate expired', () => {
    expect(
      entraOutcome(
        answer(700027, 401, 'AADSTS700027: The certificate with identifier used to sign the client assertion is expired on application.')
      ).status
    ).toBe('expired');
    expect(entraOutcome(answer(700027, 401, 'AADSTS700027: Client assertion failed signature validation.')).status).toBe('failed');
  });

  it('throttling and server errors are unknown whatever the body says', () => {
    expect(entraOutcome(answer(7000215, 429))).toMatchObject({ status: 'unknown', error: { code: 'HTTP_429' } });
    expect(entraOutcome(answer(null, 503, '', null))).toMatchObject({ status: 'unknown', error: { code: 'HTTP_503' } });
  });

  it('an unlisted refusal is failed with its code; the description is never copied', () => {
    const o = entraOutcome(answer(53003, 400, 'AADSTS53003: Access has been blocked by Conditional Access policies. secret=hunter2-echo'));
    expect(o).toEqual({ status: 'failed', error: { code: 'AADSTS53003', message: 'Entra ID refused the token request (AADSTS53003).' } });
    expect(JSON.stringify(entraOutcome(answer(7000215, 401, 'hunter2-echo')))).not.toContain('hunter2-echo');
    expect(entraOutcome(answer(null, 400, '', 'Not A Token!')).error?.code).toBe('HTTP_400');
  });
});

describe('authorityConfig: MSAL needs no discovery call', () => {
  it('derives the authority, known authority and both metadata documents from the authority host and tenant', () => {
    const c = authorityConfig('https://login.microsoftonline.us/', 'contoso.onmicrosoft.com');
    expect(c.authority).toBe('https://login.microsoftonline.us/contoso.onmicrosoft.com');
    expect(c.knownAuthorities).toEqual(['login.microsoftonline.us']);
    const meta = JSON.parse(c.authorityMetadata!) as Record<string, unknown>;
    expect(meta).toMatchObject({
      token_endpoint: 'https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/token',
      authorization_endpoint: 'https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/authorize',
      issuer: 'https://login.microsoftonline.us/contoso.onmicrosoft.com/v2.0',
      jwks_uri: 'https://login.microsoftonline.us/contoso.onmicrosoft.com/discovery/v2.0/keys'
    });
    const cloud = JSON.parse(c.cloudDiscoveryMetadata!) as { metadata: { aliases: string[] }[] };
    expect(cloud.metadata[0]?.aliases).toEqual(['login.microsoftonline.us']);
  });

  it('keeps the port of a host (a loopback peer, a proxy)', () => {
    expect(authorityConfig('https://127.0.0.1:8443', 'tid').knownAuthorities).toEqual(['127.0.0.1:8443']);
  });

  it('the .default scope is the resource’s origin', () => {
    expect(defaultScope('https://graph.microsoft.com')).toBe('https://graph.microsoft.com/.default');
    expect(defaultScope('https://management.usgovcloudapi.net/')).toBe('https://management.usgovcloudapi.net/.default');
  });
});

describe('token claims', () => {
  it('reads roles from an access token’s payload without trusting anything else', () => {
    const payload = Buffer.from(JSON.stringify({ roles: ['User.ReadWrite.All', 7, 'Directory.Read.All'] })).toString('base64url');
    const claims = readTokenClaims(`x.${payload}.sig`);
    expect(tokenRoles(claims)).toEqual(['User.ReadWrite.All', 'Directory.Read.All']);
    expect(readTokenClaims('opaque-token')).toEqual({});
    expect(readTokenClaims('a.@@@.c')).toEqual({});
  });
});

describe('certificateForMsal', () => {
  it('gives MSAL the SHA-256 thumbprint and the PKCS#8 key of an RSA certificate', () => {
    const c = createClientCertificate();
    const m = certificateForMsal(c.bundle);
    expect(m).toEqual({ thumbprintSha256: c.sha256, privateKey: expect.stringContaining('-----BEGIN PRIVATE KEY-----') });
  });

  it('refuses a non-RSA key with a clear reason, before any network call', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const rsaCert = createClientCertificate();
    const m = certificateForMsal(`${rsaCert.certPem}${ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()}`);
    expect(m).toEqual({
      outcome: {
        status: 'failed',
        error: { code: 'UNSUPPORTED_KEY', message: 'Entra app certificates must have an RSA key; this one does not.' }
      }
    });
  });
});
