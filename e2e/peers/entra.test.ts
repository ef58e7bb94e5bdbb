import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArmPeer, type ArmPeer } from './arm.ts';
import { startEntraPeer, type EntraApp, type EntraPeer, type EntraTenant } from './entra.ts';
import { startGraphPeer, type GraphPeer } from './graph.ts';
import { decodeJwt, nowSeconds, signJwt } from './jwt.ts';
import { createClientCertificate, trustTestCa, type ClientCertificate } from './tls.ts';

/** The Entra, ARM and Graph peers themselves: they must refuse what Microsoft refuses. */

let entra: EntraPeer;
let arm: ArmPeer;
let graph: GraphPeer;
let restore: () => void;
let tenant: EntraTenant;
let app: EntraApp;
let secret: string;
let cert: ClientCertificate;

beforeAll(async () => {
  entra = await startEntraPeer();
  restore = trustTestCa(entra.ca.certPem);
  arm = await startArmPeer(entra);
  graph = await startGraphPeer(entra);
  entra.resources.add(arm.url);
  entra.resources.add(graph.url);
  tenant = entra.addTenant();
  graph.addTenant({ id: tenant.id, domains: ['contoso.com'] });
  app = entra.addApp(tenant.id, { roles: { [graph.url]: ['Directory.Read.All'] } });
  secret = entra.addSecret(app).value;
  cert = createClientCertificate();
  entra.addCertificate(app, cert.certPem);
  arm.addSubscription({ tenantId: tenant.id, readers: [app.servicePrincipalId], subscriptionId: '00000000-0000-4000-8000-0000000000aa' });
});
afterAll(async () => {
  restore();
  await Promise.all([entra.close(), arm.close(), graph.close()]);
});

async function tokenRequest(form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(entra.tokenEndpoint(tenant.id), {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: app.appId, scope: `${graph.url}/.default`, ...form })
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function clientAssertion(over: { key?: string; x5t256?: string; claims?: Record<string, unknown>; alg?: string } = {}): string {
  const now = nowSeconds();
  return signJwt(
    { alg: over.alg ?? 'PS256', 'x5t#S256': Buffer.from(over.x5t256 ?? cert.sha256, 'hex').toString('base64url') },
    {
      aud: entra.tokenEndpoint(tenant.id),
      iss: app.appId,
      sub: app.appId,
      nbf: now,
      exp: now + 600,
      jti: crypto.randomUUID(),
      ...over.claims
    },
    over.key ?? cert.keyPem
  );
}
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('Entra peer: client authentication is verified for real', () => {
  it('serves the tenant’s OpenID metadata over HTTPS', async () => {
    const res = await fetch(`${entra.url}/${tenant.id}/v2.0/.well-known/openid-configuration`);
    expect(await res.json()).toMatchObject({ token_endpoint: entra.tokenEndpoint(tenant.id), issuer: `${entra.url}/${tenant.id}/v2.0` });
  });

  it('a client secret: the right one gets a token whose roles are the app’s granted permissions; a wrong one AADSTS7000215', async () => {
    const ok = await tokenRequest({ client_secret: secret });
    expect(ok.status).toBe(200);
    const claims = decodeJwt(ok.body.access_token as string)!.claims;
    expect(claims).toMatchObject({ aud: new URL(graph.url).origin, tid: tenant.id, appid: app.appId, roles: ['Directory.Read.All'] });
    const bad = await tokenRequest({ client_secret: `${secret}x` });
    expect(bad).toMatchObject({
      status: 401,
      body: { error: 'invalid_client', error_codes: [7000215], error_description: expect.stringMatching(/^AADSTS7000215: /) }
    });
  });

  it('a certificate assertion: PS256 or RS256 by the registered key passes; another key, another audience, a stale assertion do not', async () => {
    expect((await tokenRequest({ client_assertion_type: ASSERTION_TYPE, client_assertion: clientAssertion() })).status).toBe(200);
    expect(
      (await tokenRequest({ client_assertion_type: ASSERTION_TYPE, client_assertion: clientAssertion({ alg: 'RS256' }) })).status
    ).toBe(200);
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    // Same thumbprint header, signed by a key that is not the certificate's.
    expect(
      (await tokenRequest({ client_assertion_type: ASSERTION_TYPE, client_assertion: clientAssertion({ key: otherKey }) })).body
    ).toMatchObject({ error_codes: [700027], error_description: expect.stringContaining('failed signature validation') });
    expect(
      (await tokenRequest({ client_assertion_type: ASSERTION_TYPE, client_assertion: clientAssertion({ x5t256: 'AB'.repeat(32) }) })).body
    ).toMatchObject({ error_codes: [700027], error_description: expect.stringContaining('not registered') });
    expect(
      (
        await tokenRequest({
          client_assertion_type: ASSERTION_TYPE,
          client_assertion: clientAssertion({ claims: { aud: 'https://elsewhere/token' } })
        })
      ).body.error_codes
    ).toEqual([700212]);
    expect(
      (
        await tokenRequest({
          client_assertion_type: ASSERTION_TYPE,
          client_assertion: clientAssertion({ claims: { exp: nowSeconds() - 900 } })
        })
      ).body.error_codes
    ).toEqual([700024]);
    expect(
      (
        await tokenRequest({
          client_assertion_type: ASSERTION_TYPE,
          client_assertion: clientAssertion({ claims: { iss: 'someone-else', sub: 'someone-else' } })
        })
      ).body.error_codes
    ).toEqual([700021]);
  });

  it('an unknown resource is AADSTS500011, a scope without /.default is refused', async () => {
    expect((await tokenRequest({ client_secret: secret, scope: 'https://unknown.example/.default' })).body.error_codes).toEqual([500011]);
    expect((await tokenRequest({ client_secret: secret, scope: `${graph.url}/User.Read` })).body.error).toBe('invalid_scope');
  });
});

describe('ARM and Graph peers: bearer tokens are verified against the issuing Entra peer', () => {
  it('accept a token Entra issued for them, refuse a forged one (same claims, another key) and one for another audience', async () => {
    const graphToken = (await tokenRequest({ client_secret: secret })).body.access_token as string;
    const armToken = (await tokenRequest({ client_secret: secret, scope: `${arm.url}/.default` })).body.access_token as string;
    const forged = signJwt(
      { alg: 'RS256', kid: decodeJwt(graphToken)!.header.kid as string },
      decodeJwt(graphToken)!.claims,
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    );

    const org = (t: string) => fetch(`${graph.url}/v1.0/organization`, { headers: { authorization: `Bearer ${t}` } });
    expect((await org(graphToken)).status).toBe(200);
    expect((await org(forged)).status).toBe(401);
    expect((await org(armToken)).status).toBe(401);

    const subscription = (t: string) =>
      fetch(`${arm.url}/subscriptions/00000000-0000-4000-8000-0000000000aa?api-version=2022-12-01`, {
        headers: { authorization: `Bearer ${t}` }
      });
    expect((await subscription(armToken)).status).toBe(200);
    const wrongAudience = await subscription(graphToken);
    expect(wrongAudience.status).toBe(401);
    expect(await wrongAudience.json()).toEqual({ error: { code: 'InvalidAuthenticationToken', message: 'The access token is invalid.' } });
  });

  it('the generic faults come in each service’s own format (Entra AADSTS JSON, ARM and Graph error objects)', async () => {
    entra.setFault('rate_limited', { retryAfterSeconds: 3, count: 1 });
    const limited = await tokenRequest({ client_secret: secret });
    expect(limited).toMatchObject({
      status: 429,
      body: { error: 'temporarily_unavailable', error_codes: [50196], error_description: expect.stringMatching(/^AADSTS50196: /) }
    });
    entra.setFault('server_error');
    expect(await tokenRequest({ client_secret: secret })).toMatchObject({
      status: 500,
      body: { error: 'server_error', error_codes: [90033] }
    });
    entra.reset();
    arm.setFault('server_error');
    graph.setFault('rate_limited', { retryAfterSeconds: 2 });
    const a = await fetch(`${arm.url}/subscriptions/x?api-version=2022-12-01`);
    expect(await a.json()).toMatchObject({ error: { code: 'InternalServerError' } });
    const gr = await fetch(`${graph.url}/v1.0/organization`);
    expect(gr.headers.get('retry-after')).toBe('2');
    expect(await gr.json()).toMatchObject({ error: { code: 'TooManyRequests' } });
    arm.reset();
    graph.reset();
  });
});
