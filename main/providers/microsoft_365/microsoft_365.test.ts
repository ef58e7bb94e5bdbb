import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEntraPeer, type EntraApp, type EntraPeer, type EntraTenant } from '../../../e2e/peers/entra.ts';
import { startGraphPeer, type GraphPeer } from '../../../e2e/peers/graph.ts';
import { findLeak, pemLines, watchForLeaks } from '../../../e2e/peers/leaks.ts';
import { createClientCertificate, trustTestCa, type ClientCertificate } from '../../../e2e/peers/tls.ts';
import type { KeydeskApp } from '../../app.ts';
import { keychainVault, type TempVault } from '../../testing/fixtures.ts';
import { EXCHANGE_APP_ROLE } from './plugin.ts';

/** Exchange Online's resource for the Tenant Allow/Block List token: only ever named in a token request, never called. */
const EXCHANGE = 'http://127.0.0.1:9';
const FULL_GRAPH_ROLES = ['Directory.Read.All', 'MailboxSettings.ReadWrite', 'User.ReadWrite.All'];

let entra: EntraPeer;
let graph: GraphPeer;
let restoreTrust: () => void;
let tenant: EntraTenant;
let app: EntraApp;
let secret: string;
let cert: ClientCertificate;

function grant(graphRoles: string[], exchangeRoles: string[] = [EXCHANGE_APP_ROLE]) {
  app.roles.set(new URL(graph.url).origin, graphRoles);
  app.roles.set(EXCHANGE, exchangeRoles);
}

beforeAll(async () => {
  entra = await startEntraPeer();
  restoreTrust = trustTestCa(entra.ca.certPem);
  graph = await startGraphPeer(entra);
  entra.resources.add(graph.url);
  entra.resources.add(EXCHANGE);
  tenant = entra.addTenant({ domains: ['contoso.onmicrosoft.com', 'contoso.com'] });
  graph.addTenant({
    id: tenant.id,
    displayName: 'Contoso SOC',
    domains: ['Contoso.com', 'contoso.onmicrosoft.com', 'mail.contoso.com'],
    users: [{ userPrincipalName: 'alice@contoso.com' }]
  });
  app = entra.addApp(tenant.id, { displayName: 'Keydesk SOC' });
  secret = entra.addSecret(app).value;
  cert = createClientCertificate({ cn: 'keydesk-m365' });
  entra.addCertificate(app, cert.certPem);
  grant(FULL_GRAPH_ROLES);
});
afterAll(async () => {
  restoreTrust();
  await Promise.all([entra.close(), graph.close()]);
});

const vaults: TempVault[] = [];
afterEach(async () => {
  entra.reset();
  graph.reset();
  grant(FULL_GRAPH_ROLES);
  for (const v of vaults.splice(0)) await v.cleanup();
});

async function vault(): Promise<KeydeskApp> {
  const v = await keychainVault();
  vaults.push(v);
  return v.app;
}

type Mode = 'client_secret' | 'certificate';
function addM365(
  a: KeydeskApp,
  name: string,
  mode: Mode,
  over: { secret?: string; certificate?: string; tenantId?: string; graphEndpoint?: string } = {}
) {
  return a.credentials.add({
    name,
    provider: 'microsoft_365',
    mode,
    values: {
      tenant_id: over.tenantId ?? 'contoso.onmicrosoft.com',
      client_id: app.appId,
      ...(mode === 'client_secret' ? { client_secret: over.secret ?? secret } : { certificate_pem: over.certificate ?? cert.bundle }),
      authority_host: entra.url,
      graph_endpoint: over.graphEndpoint ?? graph.url,
      exchange_endpoint: EXCHANGE
    }
  });
}

const EXCHANGE_NOTE = expect.stringContaining('cannot be seen in a token');

describe.each(['client_secret', 'certificate'] as const)('microsoft_365 %s', (mode) => {
  it('ok: a Graph token, then /organization; verified domains come back as binding suggestions, readiness from the token’s roles', async () => {
    const a = await vault();
    addM365(a, `m365-${mode}`, mode);
    const r = await a.validation.validate(`m365-${mode}`);
    expect(r.credential.status).toBe('ok');
    expect(r.credential.observed).toEqual({
      identity: {
        tenant_id: 'contoso.onmicrosoft.com',
        client_id_last4: app.appId.slice(-4),
        tenant_guid: tenant.id,
        tenant_name: 'Contoso SOC',
        default_domain: 'contoso.com'
      },
      suggestions: ['contoso.com', 'contoso.onmicrosoft.com', 'mail.contoso.com'],
      granted: FULL_GRAPH_ROLES,
      readiness: [
        { capability: 'block_sender', ready: true, missing: [] },
        { capability: 'block_email_domain', ready: null, missing: [], note: EXCHANGE_NOTE },
        { capability: 'disable_user', ready: true, missing: [] }
      ]
    });
    // Only token requests reached the authority (no discovery); Graph saw one read.
    expect(entra.control.requests.every((q) => q.method === 'POST' && q.path === '/contoso.onmicrosoft.com/oauth2/v2.0/token')).toBe(true);
    expect(graph.control.requests.map((q) => `${q.method} ${q.path}`)).toEqual(['GET /v1.0/organization']);
  });

  it('readiness: a token lacking exactly User.ReadWrite.All names that role and only disable_user', async () => {
    grant(['Directory.Read.All', 'MailboxSettings.ReadWrite']);
    const a = await vault();
    addM365(a, `m365-nowrite-${mode}`, mode);
    const r = await a.validation.validate(`m365-nowrite-${mode}`);
    expect(r.credential.status).toBe('ok');
    expect(r.credential.observed.readiness).toEqual([
      { capability: 'block_sender', ready: true, missing: [] },
      { capability: 'block_email_domain', ready: null, missing: [], note: EXCHANGE_NOTE },
      { capability: 'disable_user', ready: false, missing: ['User.ReadWrite.All'] }
    ]);
  });

  it('readiness: no Exchange.ManageAsApp on the Exchange Online token blocks block_email_domain, naming it', async () => {
    grant(FULL_GRAPH_ROLES, []);
    const a = await vault();
    addM365(a, `m365-noexo-${mode}`, mode);
    const r = await a.validation.validate(`m365-noexo-${mode}`);
    expect(r.credential.observed.readiness).toContainEqual({
      capability: 'block_email_domain',
      ready: false,
      missing: [EXCHANGE_APP_ROLE]
    });
  });

  it('readiness: a tenant without Exchange Online (AADSTS500011 for its token) says so for block_email_domain; the credential is still ok', async () => {
    entra.resources.delete(EXCHANGE);
    try {
      const a = await vault();
      addM365(a, `m365-noexchange-${mode}`, mode);
      const r = await a.validation.validate(`m365-noexchange-${mode}`);
      expect(r.credential.status).toBe('ok');
      expect(r.credential.observed.readiness).toContainEqual({
        capability: 'block_email_domain',
        ready: null,
        missing: [],
        note: expect.stringContaining('Exchange Online has no service principal in this tenant')
      });
    } finally {
      entra.resources.add(EXCHANGE);
    }
  });

  it('failed: the app may not read the organization (Graph 403 Authorization_RequestDenied); readiness is still reported', async () => {
    grant(['MailboxSettings.ReadWrite']);
    const a = await vault();
    addM365(a, `m365-noorg-${mode}`, mode);
    const r = await a.validation.validate(`m365-noorg-${mode}`);
    expect(r.credential).toMatchObject({
      status: 'failed',
      lastError: { code: 'Authorization_RequestDenied', message: expect.stringContaining('Organization.Read.All') }
    });
    expect(r.credential.observed.readiness).toContainEqual({ capability: 'disable_user', ready: false, missing: ['User.ReadWrite.All'] });
  });

  it('failed: an unknown tenant (AADSTS90002)', async () => {
    const a = await vault();
    addM365(a, `m365-notenant-${mode}`, mode, { tenantId: 'fabrikam.onmicrosoft.com' });
    expect((await a.validation.validate(`m365-notenant-${mode}`)).credential).toMatchObject({
      status: 'failed',
      lastError: { code: 'AADSTS90002', message: expect.stringContaining('fabrikam.onmicrosoft.com') }
    });
  });

  it('failed: Graph rejecting the token (401 InvalidAuthenticationToken)', async () => {
    const a = await vault();
    addM365(a, `m365-graph401-${mode}`, mode);
    graph.setFault('revoked');
    expect((await a.validation.validate(`m365-graph401-${mode}`)).credential).toMatchObject({
      status: 'failed',
      lastError: { code: 'InvalidAuthenticationToken' }
    });
  });

  it('unknown, not failed: a graph_endpoint that is not Graph (its 400 "Resource not found for the segment")', async () => {
    const a = await vault();
    const c = addM365(a, `m365-wrongbase-${mode}`, mode, { graphEndpoint: `${graph.url}/not-graph` });
    expect((await a.validation.validate(c.id)).credential).toMatchObject({
      status: 'unknown',
      lastError: { code: 'BadRequest', message: expect.stringContaining('graph_endpoint') }
    });
  });

  it('unknown: Entra 500, Graph 500, throttling, and a hang', async () => {
    const a = await vault();
    addM365(a, `m365-flaky-${mode}`, mode);
    entra.setFault('server_error');
    expect((await a.validation.validate(`m365-flaky-${mode}`)).credential).toMatchObject({
      status: 'unknown',
      lastError: { code: 'HTTP_500' }
    });
    entra.setFault('none');
    graph.setFault('server_error');
    expect((await a.validation.validate(`m365-flaky-${mode}`)).credential).toMatchObject({
      status: 'unknown',
      lastError: { code: 'HTTP_500' }
    });
    graph.setFault('rate_limited', { retryAfterSeconds: 600 });
    expect((await a.validation.validate(`m365-flaky-${mode}`)).credential).toMatchObject({
      status: 'unknown',
      lastError: { code: 'HTTP_429' }
    });
    graph.setFault('hang');
    expect((await a.validation.validate(`m365-flaky-${mode}`, { timeoutMs: 300 })).credential).toMatchObject({
      status: 'unknown',
      lastError: { code: 'PROVIDER_UNREACHABLE' }
    });
  });
});

describe('microsoft_365 credential health', () => {
  it('failed: a wrong client secret (AADSTS7000215)', async () => {
    const a = await vault();
    addM365(a, 'm365-wrong', 'client_secret', { secret: 'Wr0ng~secret-value-that-Entra-never-issued' });
    expect((await a.validation.validate('m365-wrong')).credential).toMatchObject({
      status: 'failed',
      lastError: { code: 'AADSTS7000215' }
    });
  });

  it('expired: a client secret past its end date (AADSTS7000222)', async () => {
    const a = await vault();
    const old = entra.addSecret(app, { endDateTime: new Date(Date.now() - 3600_000) });
    addM365(a, 'm365-expired', 'client_secret', { secret: old.value });
    expect((await a.validation.validate('m365-expired')).credential).toMatchObject({
      status: 'expired',
      lastError: { code: 'AADSTS7000222' }
    });
  });

  it('failed / expired: a certificate that is not registered, and one past its notAfter (with its expiry recorded from the PEM)', async () => {
    const a = await vault();
    addM365(a, 'm365-foreign-cert', 'certificate', { certificate: createClientCertificate().bundle });
    const old = createClientCertificate({ notAfter: new Date(Date.now() - 24 * 3600_000) });
    entra.addCertificate(app, old.certPem);
    const added = addM365(a, 'm365-old-cert', 'certificate', { certificate: old.bundle });
    expect(added.expiresAt).toBe(old.notAfter.toISOString());
    expect((await a.validation.validate('m365-foreign-cert')).credential).toMatchObject({
      status: 'failed',
      lastError: { code: 'AADSTS700027' }
    });
    expect((await a.validation.validate('m365-old-cert')).credential).toMatchObject({
      status: 'expired',
      lastError: { code: 'AADSTS700027' }
    });
  });

  it('a revoked (deleted) app registration is failed, not unknown', async () => {
    const a = await vault();
    addM365(a, 'm365-deleted-app', 'client_secret');
    entra.setFault('revoked');
    expect((await a.validation.validate('m365-deleted-app')).credential).toMatchObject({
      status: 'failed',
      lastError: { code: 'AADSTS700016' }
    });
  });
});

describe('canary: the client secret and the certificate key never reach an error, the readable vault, the audit log or an event', () => {
  it('even when Entra and Graph echo them back', async () => {
    const a = await vault();
    const canary = `M365~canary-${crypto.randomUUID()}`;
    entra.echo.text = canary;
    graph.echo.text = secret;
    addM365(a, 'm365-canary', 'client_secret', { secret: canary });
    addM365(a, 'm365-canary-graph', 'client_secret');
    const foreign = createClientCertificate({ cn: 'canary' });
    addM365(a, 'm365-canary-cert', 'certificate', { certificate: foreign.bundle });
    grant(['MailboxSettings.ReadWrite']); // Graph answers 403 and echoes the real secret
    const watch = watchForLeaks(a);
    const run = await a.validation.validateAll();
    expect(run.results.map((x) => [x.credential.name, x.credential.status])).toEqual([
      ['m365-canary', 'failed'],
      ['m365-canary-cert', 'failed'],
      ['m365-canary-graph', 'failed']
    ]);
    expect(entra.answers.some((t) => t.includes(canary))).toBe(true);
    expect(graph.answers.some((t) => t.includes(secret))).toBe(true);
    expect(findLeak(watch.surfaces(run), [canary, secret, foreign.keyPem, ...pemLines(foreign.keyPem), app.appId])).toBeNull();
  });
});
