import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startArmPeer, type ArmPeer, type ArmSubscription } from '../../../e2e/peers/arm.ts';
import { startEntraPeer, type EntraApp, type EntraPeer, type EntraTenant } from '../../../e2e/peers/entra.ts';
import { findLeak, pemLines, watchForLeaks } from '../../../e2e/peers/leaks.ts';
import { createClientCertificate, createTestCa, trustTestCa, type ClientCertificate } from '../../../e2e/peers/tls.ts';
import type { KeydeskApp } from '../../app.ts';
import { keychainVault, type TempVault } from '../../testing/fixtures.ts';

let entra: EntraPeer;
let arm: ArmPeer;
let untrusted: EntraPeer;
let restoreTrust: () => void;
let tenant: EntraTenant;
let app: EntraApp;
let secret: string;
let cert: ClientCertificate;
let sub: ArmSubscription;

beforeAll(async () => {
  entra = await startEntraPeer();
  // The test CA joins this process's trust store, as an OS store would hold a corporate CA; the product's own
  // network code is unchanged. The second Entra peer's CA is never trusted.
  restoreTrust = trustTestCa(entra.ca.certPem);
  untrusted = await startEntraPeer({ ca: createTestCa('Some Other CA') });
  arm = await startArmPeer(entra);
  entra.resources.add(arm.url);
  tenant = entra.addTenant({ domains: ['contoso.onmicrosoft.com'] });
  app = entra.addApp(tenant.id, { displayName: 'Keydesk SOC' });
  secret = entra.addSecret(app).value;
  cert = createClientCertificate({ cn: 'keydesk-soc' });
  entra.addCertificate(app, cert.certPem);
  sub = arm.addSubscription({ tenantId: tenant.id, readers: [app.servicePrincipalId], displayName: 'SOC production' });
});
afterAll(async () => {
  restoreTrust();
  await Promise.all([entra.close(), arm.close(), untrusted.close()]);
});

const vaults: TempVault[] = [];
afterEach(async () => {
  entra.reset();
  arm.reset();
  for (const v of vaults.splice(0)) await v.cleanup();
});

async function vault(): Promise<KeydeskApp> {
  const v = await keychainVault();
  vaults.push(v);
  return v.app;
}

type Mode = 'client_secret' | 'certificate';
function addAzure(
  a: KeydeskApp,
  name: string,
  mode: Mode,
  over: {
    secret?: string;
    certificate?: string;
    clientId?: string;
    tenantId?: string;
    subscriptionId?: string;
    authorityHost?: string;
    expiresAt?: string;
  } = {}
) {
  return a.credentials.add({
    name,
    provider: 'azure',
    mode,
    values: {
      tenant_id: over.tenantId ?? tenant.id,
      client_id: over.clientId ?? app.appId,
      ...(mode === 'client_secret' ? { client_secret: over.secret ?? secret } : { certificate_pem: over.certificate ?? cert.bundle }),
      subscription_id: over.subscriptionId ?? sub.subscriptionId,
      authority_host: over.authorityHost ?? entra.url,
      arm_endpoint: arm.url
    },
    ...(over.expiresAt ? { expiresAt: over.expiresAt } : {})
  });
}

describe.each(['client_secret', 'certificate'] as const)('azure %s', (mode) => {
  it('ok: an MSAL client-credentials token for ARM, then the subscription; tenant, subscription and client id (last 4) are readable', async () => {
    const a = await vault();
    addAzure(a, `az-${mode}`, mode);
    const r = await a.validation.validate(`az-${mode}`);
    expect(r.credential.status).toBe('ok');
    expect(r.credential.observed.identity).toEqual({
      tenant_id: tenant.id,
      subscription_id: sub.subscriptionId,
      client_id_last4: app.appId.slice(-4),
      service_principal_id: app.servicePrincipalId,
      subscription_name: 'SOC production',
      subscription_state: 'Enabled'
    });
    expect(r.credential.metadata.client_id_last4).toBe(app.appId.slice(-4));
  });

  it('MSAL makes no discovery call: the only request to the authority is the token request', async () => {
    const a = await vault();
    addAzure(a, `az-nodisco-${mode}`, mode);
    await a.validation.validate(`az-nodisco-${mode}`);
    expect(entra.control.requests.map((q) => `${q.method} ${q.path}`)).toEqual([`POST /${tenant.id}/oauth2/v2.0/token`]);
    // Then the subscription, and the permissions readiness is computed from (one call, at subscription scope).
    expect(arm.control.requests.map((q) => `${q.method} ${q.path}`)).toEqual([
      `GET /subscriptions/${sub.subscriptionId}`,
      `GET /subscriptions/${sub.subscriptionId}/providers/Microsoft.Authorization/permissions`
    ]);
  });

  it('failed: an unknown application (AADSTS700016) and an unknown tenant (AADSTS90002)', async () => {
    const a = await vault();
    addAzure(a, `az-noapp-${mode}`, mode, { clientId: '0b1c2d3e-0000-4000-8000-00000000c0de' });
    addAzure(a, `az-notenant-${mode}`, mode, { tenantId: 'ffffffff-0000-4000-8000-000000000000' });
    expect((await a.validation.validate(`az-noapp-${mode}`)).credential).toMatchObject({
      status: 'failed',
      lastError: { code: 'AADSTS700016' }
    });
    expect((await a.validation.validate(`az-notenant-${mode}`)).credential).toMatchObject({
      status: 'failed',
      lastError: { code: 'AADSTS90002' }
    });
  });

  it('failed: a token, but no Reader role on the subscription (ARM 403 AuthorizationFailed); a subscription that does not exist (404)', async () => {
    const a = await vault();
    const noRole = arm.addSubscription({ tenantId: tenant.id, readers: [] });
    addAzure(a, `az-norole-${mode}`, mode, { subscriptionId: noRole.subscriptionId });
    addAzure(a, `az-nosub-${mode}`, mode, { subscriptionId: '12345678-0000-4000-8000-000000000000' });
    expect((await a.validation.validate(`az-norole-${mode}`)).credential).toMatchObject({
      status: 'failed',
      lastError: { code: 'AuthorizationFailed', message: expect.stringContaining('Reader role') }
    });
    expect((await a.validation.validate(`az-nosub-${mode}`)).credential).toMatchObject({
      status: 'failed',
      lastError: { code: 'SubscriptionNotFound' }
    });
  });

  it('unknown: Entra 500, throttling, a malformed answer, and a hang (short timeout)', async () => {
    const a = await vault();
    addAzure(a, `az-flaky-${mode}`, mode);
    for (const [fault, code] of [
      ['server_error', 'HTTP_500'],
      ['malformed', 'MALFORMED_RESPONSE']
    ] as const) {
      entra.setFault(fault);
      expect((await a.validation.validate(`az-flaky-${mode}`)).credential, fault).toMatchObject({ status: 'unknown', lastError: { code } });
    }
    entra.setFault('rate_limited', { retryAfterSeconds: 600 });
    expect((await a.validation.validate(`az-flaky-${mode}`)).credential).toMatchObject({
      status: 'unknown',
      lastError: { code: 'HTTP_429' }
    });
    entra.setFault('hang');
    const r = await a.validation.validate(`az-flaky-${mode}`, { timeoutMs: 300 });
    expect(r.credential).toMatchObject({
      status: 'unknown',
      lastError: {
        code: 'PROVIDER_UNREACHABLE',
        message: expect.stringContaining(`${new URL(entra.url).host} did not answer within 0.3 s`)
      }
    });
  });

  it('unknown: Resource Manager 503 after a good token', async () => {
    const a = await vault();
    addAzure(a, `az-armdown-${mode}`, mode);
    arm.setFault('server_error');
    expect((await a.validation.validate(`az-armdown-${mode}`)).credential).toMatchObject({
      status: 'unknown',
      lastError: { code: 'HTTP_500' }
    });
  });

  it('an authority whose TLS certificate the system does not trust gets nothing: no token request is made', async () => {
    const a = await vault();
    const t = untrusted.addTenant({ id: tenant.id });
    const other = untrusted.addApp(t.id);
    untrusted.addSecret(other, { value: secret });
    addAzure(a, `az-untrusted-${mode}`, mode, { authorityHost: untrusted.url });
    const r = await a.validation.validate(`az-untrusted-${mode}`);
    expect(r.credential).toMatchObject({
      status: 'unknown',
      lastError: {
        code: 'PROVIDER_UNREACHABLE',
        message: expect.stringMatching(/Could not reach .*\((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/)
      }
    });
    expect(untrusted.control.requests).toEqual([]);
  });
});

describe('azure client_secret: secret health', () => {
  it('failed: a wrong secret (AADSTS7000215) — the peer compares it with the app’s secrets', async () => {
    const a = await vault();
    addAzure(a, 'az-wrong', 'client_secret', { secret: 'Wr0ng~secret-value-that-Entra-never-issued' });
    const r = await a.validation.validate('az-wrong');
    expect(r.credential).toMatchObject({
      status: 'failed',
      lastError: { code: 'AADSTS7000215', message: expect.stringContaining('Entra rejected the client secret') }
    });
  });

  it('expired: a secret past its end date (AADSTS7000222)', async () => {
    const a = await vault();
    const old = entra.addSecret(app, { endDateTime: new Date(Date.now() - 24 * 3600_000) });
    addAzure(a, 'az-expired', 'client_secret', { secret: old.value });
    const r = await a.validation.validate('az-expired');
    expect(r.credential).toMatchObject({
      status: 'expired',
      lastError: { code: 'AADSTS7000222', message: expect.stringContaining('client secret has expired') }
    });
  });
});

describe('azure certificate: certificate health', () => {
  it('the certificate’s expiry is recorded when the credential is added (from the PEM) and kept by validation', async () => {
    const a = await vault();
    const c = addAzure(a, 'az-cert-expiry', 'certificate');
    expect(c.expiresAt).toBe(cert.notAfter.toISOString());
    expect(c.expirySource).toBe('secret');
    expect(c.metadata.certificate_thumbprint).toBe(cert.sha1);
    const r = await a.validation.validate('az-cert-expiry');
    expect(r.credential).toMatchObject({ status: 'ok', expiresAt: cert.notAfter.toISOString(), expirySource: 'secret' });
  });

  it('failed: a certificate not registered on the app (AADSTS700027) — the peer checks the assertion’s signature with the registered key', async () => {
    const a = await vault();
    addAzure(a, 'az-foreign-cert', 'certificate', { certificate: createClientCertificate({ cn: 'someone-else' }).bundle });
    const r = await a.validation.validate('az-foreign-cert');
    expect(r.credential).toMatchObject({
      status: 'failed',
      lastError: { code: 'AADSTS700027', message: expect.stringContaining('not (or no longer) registered') }
    });
  });

  it('expired: a certificate past its notAfter (Entra: AADSTS700027 "expired")', async () => {
    const a = await vault();
    const old = createClientCertificate({ cn: 'keydesk-old', notAfter: new Date(Date.now() - 3 * 24 * 3600_000) });
    entra.addCertificate(app, old.certPem);
    addAzure(a, 'az-old-cert', 'certificate', { certificate: old.bundle });
    const r = await a.validation.validate('az-old-cert');
    expect(r.credential).toMatchObject({
      status: 'expired',
      lastError: { code: 'AADSTS700027', message: expect.stringContaining('certificate has expired') }
    });
  });
});

describe('canary: the client secret and the certificate’s key never reach an error, the readable vault, the audit log or an event', () => {
  it('even when Entra and ARM echo them back', async () => {
    const a = await vault();
    const canary = `Kd~canary-${crypto.randomUUID()}`;
    entra.echo.text = canary;
    addAzure(a, 'az-canary-secret', 'client_secret', { secret: canary });
    const foreign = createClientCertificate({ cn: 'canary' });
    addAzure(a, 'az-canary-cert', 'certificate', { certificate: foreign.bundle });
    const watch = watchForLeaks(a);
    const first = await a.validation.validateAll();
    expect(first.results.map((x) => x.credential.status)).toEqual(['failed', 'failed']);
    expect(entra.answers.some((t) => t.includes(canary))).toBe(true);
    expect(findLeak(watch.surfaces(first), [canary, foreign.keyPem, ...pemLines(foreign.keyPem)])).toBeNull();
  });

  it('and the full client id (only its last four characters are readable) stays out of errors that Entra words with it', async () => {
    const a = await vault();
    const unknownClient = '5e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b';
    addAzure(a, 'az-canary-client', 'client_secret', { clientId: unknownClient });
    const watch = watchForLeaks(a);
    const r = await a.validation.validate('az-canary-client');
    expect(r.credential.lastError?.code).toBe('AADSTS700016');
    expect(entra.answers.some((t) => t.includes(unknownClient))).toBe(true);
    expect(findLeak(watch.surfaces(r), [unknownClient])).toBeNull();
  });
});
