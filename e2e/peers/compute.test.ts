import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPUTE_SCOPE, startComputePeer, type ComputePeer } from './compute.ts';
import { startGooglePeer, type GooglePeer } from './google.ts';

let g: GooglePeer;
let c: ComputePeer;
let token: string;
let readOnly: string;
const SA = 'responder@soc-prod.iam.gserviceaccount.com';
const I = '/compute/v1/projects/soc-prod/zones/europe-west1-b/instances/web-1';

beforeAll(async () => {
  g = await startGooglePeer();
  c = await startComputePeer(g);
  token = 'ya29.compute-test-token';
  readOnly = 'ya29.read-only-token';
  const exp = Math.floor(Date.now() / 1000) + 600;
  g.tokens.set(token, { principal: SA, subject: null, scopes: new Set([COMPUTE_SCOPE]), expiresAt: exp });
  g.tokens.set(readOnly, {
    principal: SA,
    subject: null,
    scopes: new Set(['https://www.googleapis.com/auth/cloud-platform.read-only']),
    expiresAt: exp
  });
  g.tokens.set('ya29.expired', { principal: SA, subject: null, scopes: new Set([COMPUTE_SCOPE]), expiresAt: 1 });
  c.addInstance('soc-prod', { name: 'web-1', zone: 'europe-west1-b', network: 'prod-vpc', tags: ['http-server'] });
  c.grant(SA, ['compute.instances.get', 'compute.instances.setTags', 'compute.instances.stop', 'compute.zoneOperations.get']);
});
afterAll(async () => {
  await c.close();
  await g.close();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test reads Google's JSON loosely
type Body = Record<string, any>;
const call = async (path: string, init: RequestInit = {}, t = token) => {
  const res = await fetch(`${c.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' }
  });
  return { status: res.status, body: (await res.json()) as Body };
};

describe('compute peer', () => {
  it('accepts only tokens the Google peer issued: unknown and expired ones get Google’s 401', async () => {
    for (const t of ['ya29.unknown', 'ya29.expired']) {
      const r = await call(I, {}, t);
      expect(r.status).toBe(401);
      expect(r.body.error).toMatchObject({
        code: 401,
        status: 'UNAUTHENTICATED',
        message: expect.stringMatching(/^Request had invalid authentication credentials/)
      });
    }
  });

  it('instances get, setTags with the fingerprint (a stale one is 412), 404 for an unknown instance', async () => {
    const got = await call(I);
    expect(got.body).toMatchObject({ name: 'web-1', status: 'RUNNING', tags: { items: ['http-server'] } });
    const fp = got.body.tags.fingerprint as string;
    const set = await call(`${I}/setTags`, { method: 'POST', body: JSON.stringify({ items: ['http-server', 'q'], fingerprint: fp }) });
    expect(set.body).toMatchObject({ kind: 'compute#operation', operationType: 'setTags' });
    const stale = await call(`${I}/setTags`, { method: 'POST', body: JSON.stringify({ items: [], fingerprint: fp }) });
    expect(stale.status).toBe(412);
    expect(stale.body.error).toMatchObject({
      message: 'Supplied fingerprint does not match current metadata fingerprint.',
      errors: [{ reason: 'conditionNotMet' }]
    });
    const missing = await call('/compute/v1/projects/soc-prod/zones/europe-west1-b/instances/x');
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe("The resource 'projects/soc-prod/zones/europe-west1-b/instances/x' was not found");
  });

  it('a missing permission is 403 naming it; stop goes STOPPING → TERMINATED when its operation is DONE', async () => {
    const denied = await call('/compute/v1/projects/soc-prod/global/firewalls');
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({
      status: 'PERMISSION_DENIED',
      message: "Required 'compute.firewalls.list' permission for 'projects/soc-prod'"
    });
    const op = await call(`${I}/stop`, { method: 'POST' });
    expect(op.body.status).toBe('RUNNING');
    expect(c.instance('soc-prod', 'europe-west1-b', 'web-1')!.status).toBe('STOPPING');
    const polled = await call(`/compute/v1/projects/soc-prod/zones/europe-west1-b/operations/${op.body.name as string}`);
    expect(polled.body.status).toBe('DONE');
    expect(c.instance('soc-prod', 'europe-west1-b', 'web-1')!.status).toBe('TERMINATED');
  });

  it('firewalls insert / get / delete check network updatePolicy and refuse mixed IPv4 / IPv6 ranges', async () => {
    c.grant(SA, ['compute.firewalls.create', 'compute.firewalls.get', 'compute.firewalls.delete', 'compute.firewalls.list']);
    const rule = {
      name: 'deny-x',
      network: 'projects/soc-prod/global/networks/prod-vpc',
      priority: 0,
      direction: 'INGRESS',
      denied: [{ IPProtocol: 'all' }],
      sourceRanges: ['203.0.113.7/32']
    };
    const noPolicy = await call('/compute/v1/projects/soc-prod/global/firewalls', { method: 'POST', body: JSON.stringify(rule) });
    expect(noPolicy.body.error.message).toContain("'compute.networks.updatePolicy'");
    c.grant(SA, ['compute.networks.updatePolicy']);
    const mixed = await call('/compute/v1/projects/soc-prod/global/firewalls', {
      method: 'POST',
      body: JSON.stringify({ ...rule, sourceRanges: ['203.0.113.7/32', '2001:db8::/48'] })
    });
    expect(mixed.status).toBe(400);
    expect((await call('/compute/v1/projects/soc-prod/global/firewalls', { method: 'POST', body: JSON.stringify(rule) })).status).toBe(200);
    expect((await call('/compute/v1/projects/soc-prod/global/firewalls', { method: 'POST', body: JSON.stringify(rule) })).status).toBe(409);
    expect((await call('/compute/v1/projects/soc-prod/global/firewalls/deny-x')).body).toMatchObject({
      network: 'https://www.googleapis.com/compute/v1/projects/soc-prod/global/networks/prod-vpc',
      priority: 0
    });
    expect((await call('/compute/v1/projects/soc-prod/global/firewalls/deny-x', { method: 'DELETE' })).status).toBe(200);
    expect((await call('/compute/v1/projects/soc-prod/global/firewalls/deny-x')).status).toBe(404);
  });

  it('testIamPermissions answers the subset granted (also on the Google peer, where CRM lives)', async () => {
    const body = JSON.stringify({ permissions: ['compute.instances.get', 'compute.instances.start'] });
    for (const base of [c.url, g.url]) {
      const res = await fetch(`${base}/v1/projects/soc-prod:testIamPermissions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${readOnly}`, 'content-type': 'application/json' },
        body
      });
      expect(await res.json()).toEqual({ permissions: ['compute.instances.get'] });
    }
  });
});
