import { generateKeyPairSync } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startGooglePeer, type GooglePeer, type ServiceAccount, type ServiceAccountKeyFile } from '../../../e2e/peers/google.ts';
import { findLeak, pemLines, watchForLeaks } from '../../../e2e/peers/leaks.ts';
import type { KeydeskApp } from '../../app.ts';
import { keychainVault, type TempVault } from '../../testing/fixtures.ts';
import { WORKSPACE_SCOPES } from './spec.ts';

const ALL_SCOPES = Object.values(WORKSPACE_SCOPES);
const CUSTOMER = 'C01abc234';

let g: GooglePeer;
let sa: ServiceAccount;
let key: ServiceAccountKeyFile;

beforeAll(async () => {
  g = await startGooglePeer();
  ({ sa, keyFile: key } = g.createServiceAccount({ projectId: 'soc-prod', name: 'keydesk-dwd' }));
  g.addCustomer({
    id: CUSTOMER,
    domains: [
      {
        domainName: 'Example.com',
        isPrimary: true,
        verified: true,
        domainAliases: [{ domainAliasName: 'example.net', verified: true, parentDomainName: 'example.com' }]
      },
      { domainName: 'subsidiary.example', isPrimary: false, verified: true },
      { domainName: 'pending.example', isPrimary: false, verified: false }
    ],
    users: [
      { primaryEmail: 'admin@example.com', isAdmin: true },
      { primaryEmail: 'bob@example.com' },
      { primaryEmail: 'carol@example.com' }
    ]
  });
  g.delegate(CUSTOMER, sa.clientId, ALL_SCOPES);
});
afterAll(async () => {
  await g.close();
});

const vaults: TempVault[] = [];
afterEach(async () => {
  g.reset();
  g.delegate(CUSTOMER, sa.clientId, ALL_SCOPES);
  for (const v of vaults.splice(0)) await v.cleanup();
});

async function app(): Promise<KeydeskApp> {
  const v = await keychainVault();
  vaults.push(v);
  return v.app;
}

function addDwd(a: KeydeskApp, name: string, over: { keyFile?: object; admin?: string; customer?: string; expiresAt?: string } = {}) {
  return a.credentials.add({
    name,
    provider: 'google_workspace',
    mode: 'service_account_dwd',
    values: {
      service_account_json: JSON.stringify(over.keyFile ?? key),
      delegated_admin_email: over.admin ?? 'admin@example.com',
      customer_id: over.customer ?? CUSTOMER,
      token_url: `${g.url}/token`,
      api_base_url: g.url
    },
    ...(over.expiresAt ? { expiresAt: over.expiresAt } : {})
  });
}

function delegateAllBut(...missing: string[]) {
  g.delegate(
    CUSTOMER,
    sa.clientId,
    ALL_SCOPES.filter((s) => !missing.includes(s))
  );
}

describe('google_workspace service_account_dwd', () => {
  it('ok: tokens as the delegated admin, users.list and domains.list; verified domains come back as binding suggestions', async () => {
    const a = await app();
    addDwd(a, 'workspace');
    const r = await a.validation.validate('workspace');
    expect(r.credential.status).toBe('ok');
    expect(r.credential.observed).toMatchObject({
      identity: { client_email: sa.email, admin_email: 'admin@example.com', customer_id: CUSTOMER, primary_domain: 'example.com' },
      // Verified domains and aliases, lower case; the unverified one is not offered.
      suggestions: ['example.com', 'example.net', 'subsidiary.example'],
      readiness: [
        { capability: 'block_sender', ready: true, missing: [] },
        { capability: 'block_email_domain', ready: true, missing: [] },
        { capability: 'disable_user', ready: true, missing: [] }
      ]
    });
    expect((r.credential.observed.granted as string[]).sort()).toEqual([...ALL_SCOPES].sort());
  });

  it('reads the directory with read-only scopes, as the delegated admin, even though the read-write scope is delegated', async () => {
    const a = await app();
    addDwd(a, 'least-privilege');
    await a.validation.validate('least-privilege');
    expect(g.apiCalls).toEqual([
      { method: 'GET', path: '/admin/directory/v1/users', scopes: [WORKSPACE_SCOPES.userRead], subject: 'admin@example.com' },
      {
        method: 'GET',
        path: `/admin/directory/v1/customer/${CUSTOMER}/domains`,
        scopes: [WORKSPACE_SCOPES.domainRead],
        subject: 'admin@example.com'
      }
    ]);
  });

  it('readiness: a delegation lacking exactly the suspend scope names that scope and only disable_user; the credential is still ok', async () => {
    delegateAllBut(WORKSPACE_SCOPES.userWrite);
    const a = await app();
    addDwd(a, 'no-suspend');
    const r = await a.validation.validate('no-suspend');
    expect(r.credential.status).toBe('ok');
    expect(r.credential.observed.readiness).toEqual([
      { capability: 'block_sender', ready: true, missing: [] },
      { capability: 'block_email_domain', ready: true, missing: [] },
      { capability: 'disable_user', ready: false, missing: [WORKSPACE_SCOPES.userWrite] }
    ]);
  });

  it('readiness: a delegation lacking exactly gmail.settings.basic blocks both Gmail-filter capabilities, naming that scope', async () => {
    delegateAllBut(WORKSPACE_SCOPES.gmailSettings);
    const a = await app();
    addDwd(a, 'no-gmail');
    const r = await a.validation.validate('no-gmail');
    expect(r.credential.status).toBe('ok');
    expect(r.credential.observed.readiness).toEqual([
      { capability: 'block_sender', ready: false, missing: [WORKSPACE_SCOPES.gmailSettings] },
      { capability: 'block_email_domain', ready: false, missing: [WORKSPACE_SCOPES.gmailSettings] },
      { capability: 'disable_user', ready: true, missing: [] }
    ]);
  });

  it('failed: a delegation lacking a scope validation needs (unauthorized_client) names it, and still reports readiness', async () => {
    delegateAllBut(WORKSPACE_SCOPES.domainRead);
    const a = await app();
    addDwd(a, 'no-domains');
    const r = await a.validation.validate('no-domains');
    expect(r.credential.status).toBe('failed');
    expect(r.credential.lastError).toEqual({
      code: 'unauthorized_client',
      message: `Domain-wide delegation for client ID ${sa.clientId} lacks ${WORKSPACE_SCOPES.domainRead}, which validation needs. Add it in the Admin console → Security → API controls → Domain-wide delegation.`
    });
    expect(r.credential.observed.readiness).toHaveLength(3);
    // No Directory call was made without the scope it needs.
    expect(g.apiCalls).toEqual([]);
  });

  it('failed: no domain-wide delegation at all for the client id', async () => {
    g.customers.get(CUSTOMER)!.delegations.delete(sa.clientId);
    const a = await app();
    addDwd(a, 'no-dwd');
    const r = await a.validation.validate('no-dwd');
    expect(r.credential).toMatchObject({
      status: 'failed',
      lastError: { code: 'unauthorized_client', message: expect.stringContaining('Google refused every scope') }
    });
  });

  it('failed: the delegated admin is not an administrator (Directory 403), is not a user (invalid_grant), or the customer id is wrong', async () => {
    const a = await app();
    addDwd(a, 'not-admin', { admin: 'bob@example.com' });
    addDwd(a, 'no-such-admin', { admin: 'nobody@example.com' });
    addDwd(a, 'wrong-customer', { customer: 'C99999999' });
    expect((await a.validation.validate('not-admin')).credential).toMatchObject({
      status: 'failed',
      lastError: { code: 'PERMISSION_DENIED', message: expect.stringContaining('must be a Workspace administrator') }
    });
    expect((await a.validation.validate('no-such-admin')).credential).toMatchObject({
      status: 'failed',
      lastError: { code: 'invalid_grant', message: expect.stringContaining('not a user of this Google Workspace') }
    });
    expect((await a.validation.validate('wrong-customer')).credential).toMatchObject({
      status: 'failed',
      lastError: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('does not know customer C99999999') }
    });
  });

  it('failed: a key the peer cannot verify with the account’s registered public key', async () => {
    const a = await app();
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    addDwd(a, 'wrong-key', { keyFile: { ...key, private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() } });
    const r = await a.validation.validate('wrong-key');
    expect(r.credential).toMatchObject({ status: 'failed', lastError: { code: 'invalid_grant' } });
    // It stopped at the first refused token: nothing learned, nothing more asked.
    expect(g.control.requests).toHaveLength(1);
  });

  it('expired: the key’s recorded expiry has passed and Google refuses its signature', async () => {
    const a = await app();
    addDwd(a, 'expired-key', { expiresAt: '2026-03-01' });
    g.setFault('expired');
    const r = await a.validation.validate('expired-key');
    expect(r.credential).toMatchObject({
      status: 'expired',
      lastError: { code: 'invalid_grant', message: expect.stringContaining('Its recorded expiry (2026-03-01) has passed') }
    });
  });

  it('unknown: token service 500, Directory 503, throttling, a malformed answer, a hang', async () => {
    const a = await app();
    addDwd(a, 'flaky');
    g.setFault('server_error');
    expect((await a.validation.validate('flaky')).credential).toMatchObject({ status: 'unknown', lastError: { code: 'HTTP_500' } });
    g.setFault('none');
    const off = g.route('GET', /^\/admin\/directory\/v1\/users$/, (_q, res, ctx) =>
      ctx.json(res, 503, { error: { code: 503, message: 'Backend Error', status: 'UNAVAILABLE' } })
    );
    onTestFinished(off);
    expect((await a.validation.validate('flaky')).credential).toMatchObject({ status: 'unknown', lastError: { code: 'HTTP_503' } });
    off();
    g.setFault('rate_limited', { retryAfterSeconds: 300 });
    expect((await a.validation.validate('flaky')).credential).toMatchObject({ status: 'unknown', lastError: { code: 'HTTP_429' } });
    g.setFault('malformed');
    expect((await a.validation.validate('flaky')).credential).toMatchObject({
      status: 'unknown',
      lastError: { code: 'MALFORMED_RESPONSE' }
    });
    g.setFault('hang');
    expect((await a.validation.validate('flaky', { timeoutMs: 300 })).credential).toMatchObject({
      status: 'unknown',
      lastError: { code: 'PROVIDER_UNREACHABLE', message: expect.stringContaining('did not answer within 0.3 s') }
    });
  });
});

describe('google_workspace oauth_user', () => {
  it('is skipped by validation (a token refresh checks it): the status the OAuth work recorded is left alone', async () => {
    const a = await app();
    const c = a.credentials.add({
      name: 'gw-oauth',
      provider: 'google_workspace',
      mode: 'oauth_user',
      values: { client_id: 'keydesk-test.apps.googleusercontent.com' }
    });
    a.credentials.recordHealth(c.id, {
      status: 'expired',
      lastError: { code: 'invalid_grant', message: 'The refresh token was revoked.' },
      checkedAt: '2026-11-20T10:00:00.000Z'
    });
    const run = await a.validation.validateAll();
    expect(run.results[0]).toMatchObject({
      recorded: false,
      skipped: {
        code: 'UNSUPPORTED',
        message: 'google_workspace/oauth_user is an OAuth credential: a token refresh checks it (keydesk refresh gw-oauth).'
      }
    });
    expect(a.credentials.get('gw-oauth')).toMatchObject({
      status: 'expired',
      lastError: { code: 'invalid_grant' },
      checkedAt: '2026-11-20T10:00:00.000Z'
    });
    expect(g.control.requests).toEqual([]);
  });
});

describe('canary: the service account key never reaches an error, the readable vault, the audit log or an event', () => {
  it('even when Google echoes it back on a refused delegation', async () => {
    const a = await app();
    g.echo.text = key.private_key;
    delegateAllBut(WORKSPACE_SCOPES.userRead);
    addDwd(a, 'canary');
    const watch = watchForLeaks(a);
    const run = await a.validation.validateAll();
    expect(run.results[0]?.credential.status).toBe('failed');
    expect(g.answers.some((t) => t.includes(pemLines(key.private_key)[0]!))).toBe(true);
    expect(findLeak(watch.surfaces(run), [key.private_key, ...pemLines(key.private_key), key.private_key_id])).toBeNull();
  });
});
