import { describe, expect, it } from 'vitest';
import { googleApiError, googleTokenOutcome, isSubjectToken, MAX_SUBJECT_TOKEN_BYTES } from './google-auth.ts';

const body = (error: string, error_description: string) => ({ error, error_description });

describe('googleTokenOutcome: Google’s token answers mapped honestly', () => {
  it.each([
    [
      'a wrong, deleted or expired key (Google says the same for all three)',
      400,
      body('invalid_grant', 'Invalid JWT Signature.'),
      'failed',
      'invalid_grant',
      /deleted, disabled or has expired/
    ],
    [
      'a deleted service account',
      400,
      body('invalid_grant', 'Invalid grant: account not found'),
      'failed',
      'invalid_grant',
      /deleted or disabled/
    ],
    ['a disabled service account', 400, body('invalid_grant', 'Robot is disabled.'), 'failed', 'invalid_grant', /deleted or disabled/],
    [
      'an answer that says the key expired',
      400,
      body('invalid_grant', 'The service account key has expired.'),
      'expired',
      'invalid_grant',
      /expired/
    ],
    [
      'a missing delegation',
      401,
      body(
        'unauthorized_client',
        'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.'
      ),
      'failed',
      'unauthorized_client',
      /Domain-wide delegation/
    ],
    ['throttling', 429, body('rate_limited', ''), 'unknown', 'HTTP_429', /rate-limiting/],
    ['a server error', 503, 'Service Unavailable', 'unknown', 'HTTP_503', /server-side error/],
    ['a 200 that is not a token', 200, 'not json at all', 'unknown', 'MALFORMED_RESPONSE', /could read/],
    ['a refusal without an OAuth body', 403, '<html>Forbidden</html>', 'failed', 'HTTP_403', /HTTP 403/]
  ] as const)('%s', (_what, status, data, expected, code, message) => {
    const o = googleTokenOutcome(status, data, { grant: 'service_account' });
    expect(o.status).toBe(expected);
    expect(o.error?.code).toBe(code);
    expect(o.error?.message).toMatch(message);
  });

  it('a clock problem ("Token must be a short-lived token … reasonable timeframe") is unknown: it says nothing about the credential', () => {
    const o = googleTokenOutcome(
      400,
      body(
        'invalid_grant',
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.'
      ),
      { grant: 'service_account' }
    );
    expect(o).toEqual({ status: 'unknown', error: { code: 'invalid_grant', message: expect.stringMatching(/clock is off/) } });
  });

  it('delegation: an unknown admin email is named as the problem', () => {
    const o = googleTokenOutcome(400, body('invalid_grant', 'Invalid email or User ID'), { grant: 'delegation' });
    expect(o.status).toBe('failed');
    expect(o.error?.message).toMatch(/delegated admin email is not a user/);
  });

  it('STS: a stale external identity token is expired; a bad one is failed; an unknown pool is failed', () => {
    expect(
      googleTokenOutcome(400, body('invalid_grant', 'ID Token issued at 1749625771 is stale to sign-in.'), { grant: 'sts' }).status
    ).toBe('expired');
    expect(
      googleTokenOutcome(400, body('invalid_grant', 'The provided subject token has an invalid signature.'), { grant: 'sts' }).status
    ).toBe('failed');
    expect(
      googleTokenOutcome(400, body('invalid_target', 'The target service indicated by the "audience" parameters is invalid.'), {
        grant: 'sts'
      })
    ).toMatchObject({ status: 'failed', error: { code: 'invalid_target' } });
  });

  it('never copies Google’s description into the message, and never keeps a code that is not a plain OAuth token', () => {
    const echo = 'ECHOED-SECRET-7f3a9c';
    for (const [status, data] of [
      [400, body('invalid_grant', `Invalid JWT Signature. ${echo}`)],
      [400, body('unauthorized_client', echo)],
      [400, body('weird error with spaces', echo)],
      [401, body(`invalid_${echo}`, echo)],
      [400, { error: echo, error_description: echo }]
    ] as const) {
      const o = googleTokenOutcome(status, data, { grant: 'delegation' });
      expect(JSON.stringify(o)).not.toContain(echo);
      expect(o.error?.code).toMatch(/^([a-z_]+|HTTP_\d{3})$/);
    }
  });
});

describe('googleApiError', () => {
  it('reads status and reason from a Google API error, and nothing that is not a plain token', () => {
    expect(googleApiError({ error: { code: 403, message: 'x', status: 'PERMISSION_DENIED', errors: [{ reason: 'forbidden' }] } })).toEqual({
      status: 'PERMISSION_DENIED',
      reason: 'forbidden'
    });
    expect(googleApiError({ error: { status: 'not a token; DROP', errors: [{ reason: 'a b' }] } })).toEqual({ status: null, reason: null });
    expect(googleApiError('<html>')).toEqual({ status: null, reason: null });
  });
});

describe('isSubjectToken: a credential source sends only a token of its type', () => {
  const JWT = 'urn:ietf:params:oauth:token-type:jwt';
  const SAML = 'urn:ietf:params:oauth:token-type:saml2';
  const jwt = `${Buffer.from('{"alg":"RS256","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.c2lnbmF0dXJl`;

  it('accepts a compact JWT for jwt / id_token, and base64 XML for saml2', () => {
    expect(isSubjectToken(jwt, JWT)).toBe(true);
    expect(isSubjectToken(`${jwt}\n`, 'urn:ietf:params:oauth:token-type:id_token')).toBe(true);
    expect(isSubjectToken(Buffer.from('<samlp:Response ID="x"></samlp:Response>').toString('base64'), SAML)).toBe(true);
  });

  it('refuses a private key, a refresh token, JSON, text, a JWT without a header, an oversize blob, and any other token type', () => {
    expect(isSubjectToken('-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----', JWT)).toBe(false);
    expect(isSubjectToken('1//0gFakeRefreshTokenValue-abcdefghijklmnop', JWT)).toBe(false);
    expect(isSubjectToken('{"access_token":"abc.def.ghi"}', JWT)).toBe(false);
    expect(isSubjectToken('aaaaaaaa.bbbbbbbb.cccccccc', JWT)).toBe(false);
    expect(isSubjectToken(`${jwt}${'a'.repeat(MAX_SUBJECT_TOKEN_BYTES)}`, JWT)).toBe(false);
    expect(isSubjectToken(Buffer.from('not xml').toString('base64'), SAML)).toBe(false);
    expect(isSubjectToken(jwt, 'urn:ietf:params:oauth:token-type:access_token')).toBe(false);
    expect(isSubjectToken(undefined, JWT)).toBe(false);
  });
});
