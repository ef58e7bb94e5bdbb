import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIRECTORY_SCOPES, startGooglePeer, type GooglePeer, type ServiceAccount, type ServiceAccountKeyFile } from './google.ts';
import { nowSeconds, signJwt } from './jwt.ts';

/** The peer itself: it must refuse what Google refuses, or the plugin tests would prove nothing. */

let g: GooglePeer;
let sa: ServiceAccount;
let key: ServiceAccountKeyFile;

beforeAll(async () => {
  g = await startGooglePeer();
  ({ sa, keyFile: key } = g.createServiceAccount({ projectId: 'p1', name: 'svc' }));
  g.addCustomer({
    id: 'C0peer01',
    domains: [{ domainName: 'example.com', isPrimary: true, verified: true }],
    users: [{ primaryEmail: 'admin@example.com', isAdmin: true }]
  });
  g.delegate('C0peer01', sa.clientId, [DIRECTORY_SCOPES.userRead]);
});
afterAll(async () => {
  await g.close();
});

function assertion(claims: Record<string, unknown> = {}, opts: { key?: string; alg?: string } = {}): string {
  const iat = nowSeconds();
  return signJwt(
    { alg: opts.alg ?? 'RS256' },
    { iss: sa.email, aud: 'https://oauth2.googleapis.com/token', scope: DIRECTORY_SCOPES.userRead, iat, exp: iat + 3600, ...claims },
    opts.key ?? key.private_key
  );
}

async function token(jwt: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${g.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt })
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('Google peer: the JWT bearer grant is verified for real', () => {
  it('issues a token for a correctly signed assertion', async () => {
    const r = await token(assertion());
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: 'Bearer', access_token: expect.stringMatching(/^ya29\./), expires_in: 3599 });
  });

  it('refuses a signature by any other key, an unsigned ("none") or HMAC assertion, and a tampered payload', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect((await token(assertion({}, { key: other }))).body).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid JWT Signature.'
    });
    const good = assertion();
    const [h, , s] = good.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ iss: sa.email, aud: 'https://oauth2.googleapis.com/token', scope: 'https://www.googleapis.com/auth/cloud-platform', iat: nowSeconds(), exp: nowSeconds() + 60 })).toString('base64url')}.${s}`;
    expect((await token(tampered)).body.error).toBe('invalid_grant');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${good.split('.')[1]}.`;
    expect((await token(none)).body).toMatchObject({ error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
  });

  it('checks aud, the 1-hour lifetime and the clock, and requires a scope', async () => {
    expect((await token(assertion({ aud: `${g.url}/token-elsewhere` }))).body).toMatchObject({
      error: 'invalid_grant',
      error_description: expect.stringContaining('audience')
    });
    expect((await token(assertion({ iat: nowSeconds(), exp: nowSeconds() + 7200 }))).body.error_description).toMatch(/short-lived token/);
    expect((await token(assertion({ iat: nowSeconds() - 7200, exp: nowSeconds() - 3700 }))).body.error_description).toMatch(
      /short-lived token/
    );
    expect((await token(assertion({ scope: '' }))).body.error).toBe('invalid_scope');
  });

  it('domain-wide delegation: grants only delegated scopes, and only for users of the customer', async () => {
    expect((await token(assertion({ sub: 'admin@example.com' }))).status).toBe(200);
    const refused = await token(assertion({ sub: 'admin@example.com', scope: `${DIRECTORY_SCOPES.userRead} ${DIRECTORY_SCOPES.user}` }));
    expect(refused).toMatchObject({ status: 401, body: { error: 'unauthorized_client' } });
    expect((await token(assertion({ sub: 'ghost@example.com' }))).body).toMatchObject({
      error: 'invalid_grant',
      error_description: 'Invalid email or User ID'
    });
  });

  it('the Directory API checks the bearer token and its scope', async () => {
    const users = (t: string) =>
      fetch(`${g.url}/admin/directory/v1/users?customer=my_customer&maxResults=1`, { headers: { authorization: `Bearer ${t}` } });
    expect((await users('ya29.forged')).status).toBe(401);
    const noDelegation = (await token(assertion())).body.access_token as string; // no subject: not an admin
    expect((await users(noDelegation)).status).toBe(403);
    const delegated = (await token(assertion({ sub: 'admin@example.com' }))).body.access_token as string;
    const ok = await users(delegated);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { users: unknown[] }).users).toHaveLength(1);
    const domains = await fetch(`${g.url}/admin/directory/v1/customer/my_customer/domains`, {
      headers: { authorization: `Bearer ${delegated}` }
    });
    expect(domains.status).toBe(403); // the token carries the user scope only
  });

  it('STS verifies the subject token’s signature, issuer, audience and expiry', async () => {
    const wif = g.addWorkloadProvider({ projectNumber: '42', pool: 'p', provider: 'x' });
    const exchange = async (subject: string) => {
      const res = await fetch(`${g.url}/v1/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
          audience: wif.audience,
          requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
          subject_token: subject,
          scope: 'https://www.googleapis.com/auth/cloud-platform'
        })
      });
      return (await res.json()) as Record<string, unknown>;
    };
    expect(await exchange(wif.subjectToken())).toMatchObject({
      token_type: 'Bearer',
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token'
    });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect(
      (
        await exchange(
          signJwt({ alg: 'RS256' }, { iss: wif.issuer, aud: `https:${wif.audience}`, sub: 's', exp: nowSeconds() + 60 }, other)
        )
      ).error
    ).toBe('invalid_grant');
    expect((await exchange(wif.subjectToken({ iss: 'https://evil.example' }))).error_description).toMatch(/issuer/);
    expect((await exchange(wif.subjectToken({ aud: 'https://elsewhere' }))).error_description).toMatch(/audience/);
    expect((await exchange(wif.subjectToken({ exp: nowSeconds() - 10 }))).error_description).toMatch(/stale to sign-in/);
  });

  it('answers the generic faults in Google’s formats: OAuth endpoints and APIs each their own', async () => {
    g.setFault('rate_limited', { retryAfterSeconds: 7, count: 1 });
    const limited = await fetch(`${g.url}/token`, { method: 'POST', body: 'x' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(await limited.json()).toEqual({ error: 'rate_limit_exceeded', error_description: 'Rate Limit Exceeded' });
    g.setFault('server_error');
    const api = await fetch(`${g.url}/admin/directory/v1/users?customer=my_customer`);
    expect(api.status).toBe(500);
    expect(await api.json()).toMatchObject({ error: { code: 500, status: 'INTERNAL', errors: [{ reason: 'backendError' }] } });
    const sts = await fetch(`${g.url}/v1/token`, { method: 'POST', body: 'x' });
    expect(await sts.json()).toEqual({ error: 'internal_failure', error_description: 'Backend Error' });
    g.reset();
  });
});
