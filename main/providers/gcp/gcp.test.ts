import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startGooglePeer, type GooglePeer, type ServiceAccountKeyFile } from '../../../e2e/peers/google.ts';
import { findLeak, pemLines, watchForLeaks } from '../../../e2e/peers/leaks.ts';
import { nowSeconds, signJwt } from '../../../e2e/peers/jwt.ts';
import type { KeydeskApp } from '../../app.ts';
import { isKeydeskError } from '../../errors.ts';
import { keychainVault, type TempVault } from '../../testing/fixtures.ts';
import { READ_ONLY_SCOPE } from './plugin.ts';
import type { Observed } from '../plugin.ts';

let g: GooglePeer;
let decoy: GooglePeer;
let key: ServiceAccountKeyFile;
let saEmail: string;

beforeAll(async () => {
  g = await startGooglePeer();
  decoy = await startGooglePeer();
  const { sa, keyFile } = g.createServiceAccount({ projectId: 'soc-prod', name: 'keydesk-validator' });
  key = keyFile;
  saEmail = sa.email;
  g.addProject({ projectId: 'soc-prod', projectNumber: '314159265358', name: 'SOC production', readers: [sa.email] });
});
afterAll(async () => {
  await g.close();
  await decoy.close();
});

const vaults: TempVault[] = [];
afterEach(async () => {
  g.reset();
  decoy.reset();
  for (const v of vaults.splice(0)) await v.cleanup();
});

async function app(): Promise<KeydeskApp> {
  const v = await keychainVault();
  vaults.push(v);
  return v.app;
}

function addKey(a: KeydeskApp, name: string, keyFile: object, extra: { expiresAt?: string; values?: Record<string, string> } = {}) {
  return a.credentials.add({
    name,
    provider: 'gcp',
    mode: 'service_account_key',
    values: { service_account_json: JSON.stringify(keyFile), token_url: `${g.url}/token`, api_base_url: g.url, ...extra.values },
    ...(extra.expiresAt ? { expiresAt: extra.expiresAt } : {})
  });
}

/** The same service account's key file, but holding a private key Google never registered. */
function foreignKey(base: ServiceAccountKeyFile): ServiceAccountKeyFile {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...base, private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

describe('gcp service_account_key', () => {
  it('ok: a real JWT-bearer token, then the project lookup; project, client email and key id (last 4) are readable', async () => {
    const a = await app();
    addKey(a, 'gcp-prod', key);
    const r = await a.validation.validate('gcp-prod');
    expect(r.credential.status).toBe('ok');
    expect(r.credential.lastError).toBeNull();
    expect(r.credential.observed.identity).toEqual({
      client_email: saEmail,
      private_key_id_last4: key.private_key_id.slice(-4),
      project_id: 'soc-prod',
      project_number: '314159265358',
      project_name: 'SOC production'
    });
    // Then readiness: projects.testIamPermissions (this peer has no Compute, so it is unknown here).
    expect(g.control.requests.map((q) => `${q.method} ${q.path}`)).toEqual([
      'POST /token',
      'GET /v1/projects/soc-prod',
      'POST /v1/projects/soc-prod:testIamPermissions'
    ]);
    expect((r.credential.observed as Observed).readiness?.map((x) => [x.capability, x.ready])).toEqual([
      ['isolate', null],
      ['block_ip', null],
      ['power', null]
    ]);
    // Least privilege: validation reads with the read-only Cloud Platform scope.
    expect(g.apiCalls).toEqual([{ method: 'GET', path: '/v1/projects/soc-prod', scopes: [READ_ONLY_SCOPE], subject: null }]);
    expect(a.audit.list().filter((e) => e.action === 'credential.validate')).toEqual([
      expect.objectContaining({ outcome: 'ok', detail: { status: 'ok' } })
    ]);
  });

  it('token_url override: the assertion goes to the credential’s token_url, never to the key file’s token_uri', async () => {
    const a = await app();
    // A key file whose token_uri names another server: google-auth-library ignores it, and so must Keydesk.
    addKey(a, 'gcp-tokenuri', { ...key, token_uri: `${decoy.url}/token` });
    const r = await a.validation.validate('gcp-tokenuri');
    expect(r.credential.status).toBe('ok');
    expect(decoy.control.requests).toEqual([]);
    expect(g.control.requests[0]).toMatchObject({ method: 'POST', path: '/token' });
  });

  it('failed: a key Google never registered for this account — the peer checks the RS256 signature for real', async () => {
    const a = await app();
    addKey(a, 'gcp-foreign', foreignKey(key));
    const r = await a.validation.validate('gcp-foreign');
    expect(r.credential.status).toBe('failed');
    expect(r.credential.lastError).toEqual({
      code: 'invalid_grant',
      message: expect.stringMatching(/^Google does not accept this key’s signature/)
    });
    expect(g.answers).toEqual(['Invalid JWT Signature.']);
    expect(g.control.requests).toHaveLength(1);
  });

  it('failed: the key works but may not read the project (403 PERMISSION_DENIED names the permission)', async () => {
    const other = g.createServiceAccount({ projectId: 'soc-prod', name: 'no-browser-role' });
    const a = await app();
    addKey(a, 'gcp-noread', other.keyFile);
    const r = await a.validation.validate('gcp-noread');
    expect(r.credential.status).toBe('failed');
    expect(r.credential.lastError).toEqual({ code: 'PERMISSION_DENIED', message: expect.stringContaining('resourcemanager.projects.get') });
  });

  it('failed: a deleted service account (revoked)', async () => {
    const a = await app();
    addKey(a, 'gcp-revoked', key);
    g.setFault('revoked');
    const r = await a.validation.validate('gcp-revoked');
    expect(r.credential).toMatchObject({
      status: 'failed',
      lastError: { code: 'invalid_grant', message: expect.stringMatching(/deleted or disabled/) }
    });
  });

  it('expired: Google refuses the key’s signature after the key’s recorded expiry date', async () => {
    const sa = g.createServiceAccount({ projectId: 'soc-prod', name: 'short-lived-key' });
    const a = await app();
    addKey(a, 'gcp-expiring', sa.keyFile, { expiresAt: '2026-01-31' });
    // The key expired at Google (key expiry policy): Google answers exactly as for a deleted key.
    sa.sa.keys.clear();
    const r = await a.validation.validate('gcp-expiring');
    expect(r.credential.status).toBe('expired');
    expect(r.credential.lastError).toEqual({
      code: 'invalid_grant',
      message: expect.stringContaining('Its recorded expiry (2026-01-31) has passed')
    });
  });

  it('unknown: a 500, throttling beyond what one validation waits, a malformed answer, and a hang (short timeout)', async () => {
    const a = await app();
    addKey(a, 'gcp-flaky', key);
    g.setFault('server_error');
    expect((await a.validation.validate('gcp-flaky')).credential).toMatchObject({ status: 'unknown', lastError: { code: 'HTTP_500' } });
    g.setFault('rate_limited', { retryAfterSeconds: 120 });
    expect((await a.validation.validate('gcp-flaky')).credential).toMatchObject({ status: 'unknown', lastError: { code: 'HTTP_429' } });
    g.setFault('malformed');
    expect((await a.validation.validate('gcp-flaky')).credential).toMatchObject({
      status: 'unknown',
      lastError: { code: 'MALFORMED_RESPONSE' }
    });
    g.setFault('hang');
    const r = await a.validation.validate('gcp-flaky', { timeoutMs: 300 });
    expect(r.credential.status).toBe('unknown');
    expect(r.credential.lastError).toEqual({
      code: 'PROVIDER_UNREACHABLE',
      message: expect.stringContaining(`${new URL(g.url).host} did not answer within 0.3 s.`)
    });
  });

  it('unknown: Cloud Resource Manager failing after a good token is not the credential’s fault', async () => {
    const a = await app();
    addKey(a, 'gcp-crm-down', key);
    onTestFinished(
      g.route('GET', /^\/v1\/projects\/soc-prod$/, (_req, res, ctx) =>
        ctx.json(res, 503, { error: { code: 503, message: 'The service is currently unavailable.', status: 'UNAVAILABLE' } })
      )
    );
    const r = await a.validation.validate('gcp-crm-down');
    expect(r.credential).toMatchObject({ status: 'unknown', lastError: { code: 'HTTP_503' } });
  });
});

describe('gcp external_account (workload identity federation)', () => {
  let wif: ReturnType<GooglePeer['addWorkloadProvider']>;
  let impersonated: string;
  beforeAll(() => {
    impersonated = g.createServiceAccount({ projectId: 'soc-prod', name: 'wif-target' }).sa.email;
    wif = g.addWorkloadProvider({ projectNumber: '314159265358', pool: 'keydesk-pool', provider: 'oidc', impersonable: [impersonated] });
    g.projects.get('soc-prod')!.readers.add(impersonated);
  });

  const config = (over: Record<string, unknown> = {}) => ({
    type: 'external_account',
    audience: wif.audience,
    subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
    token_url: `${g.url}/v1/token`,
    service_account_impersonation_url: `${g.url}/v1/projects/-/serviceAccounts/${impersonated}:generateAccessToken`,
    credential_source: { url: `${g.url}/idp/token` },
    ...over
  });

  function addWif(a: KeydeskApp, name: string, cfg: object) {
    // Pretty-printed, as `gcloud iam workload-identity-pools create-cred-config` writes it.
    return a.credentials.add({
      name,
      provider: 'gcp',
      mode: 'external_account',
      values: { external_account_json: JSON.stringify(cfg, null, 2), api_base_url: g.url }
    });
  }

  it('ok (url source + impersonation): STS exchange, generateAccessToken, project lookup as the impersonated account', async () => {
    const a = await app();
    g.idp.token = wif.subjectToken();
    addWif(a, 'wif-url', config());
    const r = await a.validation.validate('wif-url');
    expect(r.credential.status).toBe('ok');
    expect(r.credential.metadata).toMatchObject({ audience: wif.audience, impersonated_account: impersonated, source_kind: 'url' });
    expect(r.credential.observed.identity).toEqual({
      impersonated_account: impersonated,
      project_id: 'soc-prod',
      project_number: '314159265358',
      project_name: 'SOC production'
    });
    expect(g.control.requests.map((q) => `${q.method} ${q.path}`)).toEqual([
      'GET /idp/token',
      'POST /v1/token',
      `POST /v1/projects/-/serviceAccounts/${impersonated}:generateAccessToken`,
      'GET /v1/projects/314159265358',
      'POST /v1/projects/soc-prod:testIamPermissions'
    ]);
    expect(g.apiCalls.at(-1)).toMatchObject({ path: '/v1/projects/314159265358', scopes: [READ_ONLY_SCOPE] });
  });

  it('ok (file source, no impersonation): the federated principal itself reads the project', async () => {
    const a = await app();
    const file = join(vaults.at(-1)!.dir, 'oidc-token.jwt');
    writeFileSync(file, wif.subjectToken({ sub: 'ci-runner-7' }));
    g.projects
      .get('soc-prod')!
      .readers.add(
        `principal://iam.googleapis.com/projects/314159265358/locations/global/workloadIdentityPools/keydesk-pool/subject/ci-runner-7`
      );
    const cfg = config({ credential_source: { file } });
    delete (cfg as Record<string, unknown>).service_account_impersonation_url;
    addWif(a, 'wif-file', cfg);
    const r = await a.validation.validate('wif-file');
    expect(r.credential).toMatchObject({
      status: 'ok',
      metadata: { source_kind: 'file' },
      observed: { identity: { project_id: 'soc-prod' } }
    });
  });

  it('a credential source that is not a token of the configured type (a private key, another tool’s refresh token) is never sent to STS', async () => {
    const a = await app();
    const dir = vaults.at(-1)!.dir;
    const keyFile = join(dir, 'id_rsa');
    writeFileSync(
      keyFile,
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()
    );
    const jsonFile = join(dir, 'adc.json');
    writeFileSync(jsonFile, JSON.stringify({ type: 'authorized_user', refresh_token: '1//0gFakeRefreshTokenValue-abcdefghijklmnop' }));
    const noImpersonation = (cfg: Record<string, unknown>) => {
      delete cfg.service_account_impersonation_url;
      return cfg;
    };
    addWif(a, 'wif-keyfile', noImpersonation(config({ credential_source: { file: keyFile } })));
    addWif(
      a,
      'wif-adc',
      noImpersonation(
        config({ credential_source: { file: jsonFile, format: { type: 'json', subject_token_field_name: 'refresh_token' } } })
      )
    );
    g.idp.token = 'not a token at all, just a web page';
    addWif(a, 'wif-page', noImpersonation(config()));
    for (const name of ['wif-keyfile', 'wif-adc', 'wif-page']) {
      const r = await a.validation.validate(name);
      expect(r.credential.lastError, name).toEqual({
        code: 'SUBJECT_TOKEN_INVALID',
        message: expect.stringContaining('nothing was sent to STS')
      });
      expect(r.credential.status).toBe('failed');
    }
    // The only request any of them made was reading the url source; STS saw nothing.
    expect(g.control.requests.map((q) => `${q.method} ${q.path}`)).toEqual(['GET /idp/token']);
  });

  it('failed: a subject token the pool’s identity provider did not sign', async () => {
    const a = await app();
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    g.idp.token = signJwt(
      { alg: 'RS256' },
      { iss: wif.issuer, aud: `https:${wif.audience}`, sub: 'x', iat: nowSeconds(), exp: nowSeconds() + 600 },
      privateKey
    );
    addWif(a, 'wif-forged', config());
    const r = await a.validation.validate('wif-forged');
    expect(r.credential).toMatchObject({
      status: 'failed',
      lastError: { code: 'invalid_grant', message: expect.stringMatching(/STS refused the external identity token/) }
    });
  });

  it('failed: the federated identity may not impersonate the service account', async () => {
    const a = await app();
    g.idp.token = wif.subjectToken();
    const other = g.createServiceAccount({ projectId: 'soc-prod', name: 'not-impersonable' }).sa.email;
    addWif(
      a,
      'wif-noimp',
      config({ service_account_impersonation_url: `${g.url}/v1/projects/-/serviceAccounts/${other}:generateAccessToken` })
    );
    const r = await a.validation.validate('wif-noimp');
    expect(r.credential).toMatchObject({
      status: 'failed',
      lastError: { code: 'PERMISSION_DENIED', message: expect.stringContaining('roles/iam.workloadIdentityUser') }
    });
  });

  it('failed: an audience naming no workload identity provider', async () => {
    const a = await app();
    g.idp.token = wif.subjectToken();
    addWif(
      a,
      'wif-nopool',
      config({ audience: '//iam.googleapis.com/projects/314159265358/locations/global/workloadIdentityPools/gone/providers/oidc' })
    );
    const r = await a.validation.validate('wif-nopool');
    expect(r.credential).toMatchObject({ status: 'failed', lastError: { code: 'invalid_target' } });
  });

  it('expired: the external identity token the source serves has expired (STS: "stale to sign-in")', async () => {
    const a = await app();
    g.idp.token = wif.subjectToken({ iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 });
    addWif(a, 'wif-stale', config());
    const r = await a.validation.validate('wif-stale');
    expect(r.credential).toMatchObject({
      status: 'expired',
      lastError: { code: 'invalid_grant', message: expect.stringMatching(/has expired/) }
    });
  });

  it('unknown: STS failing (500) and a hang', async () => {
    const a = await app();
    g.idp.token = wif.subjectToken();
    addWif(a, 'wif-flaky', config());
    onTestFinished(
      g.route('POST', /^\/v1\/token$/, (_req, res, ctx) =>
        ctx.json(res, 500, { error: 'internal_failure', error_description: 'backend error' })
      )
    );
    expect((await a.validation.validate('wif-flaky')).credential).toMatchObject({ status: 'unknown', lastError: { code: 'HTTP_500' } });
    g.setFault('hang');
    expect((await a.validation.validate('wif-flaky', { timeoutMs: 300 })).credential).toMatchObject({
      status: 'unknown',
      lastError: { code: 'PROVIDER_UNREACHABLE' }
    });
  });

  it('the STS exchange runs under Keydesk’s timeout too (google-auth-library builds its STS client without the transport it is given)', async () => {
    const a = await app();
    g.idp.token = wif.subjectToken();
    addWif(a, 'wif-sts-hang', config());
    onTestFinished(g.route('POST', /^\/v1\/token$/, () => undefined)); // STS accepts the request and never answers
    const r = await a.validation.validate('wif-sts-hang', { timeoutMs: 300 });
    expect(r.credential).toMatchObject({
      status: 'unknown',
      lastError: { code: 'PROVIDER_UNREACHABLE', message: expect.stringContaining('did not answer within 0.3 s') }
    });
  });

  it('an executable credential source is refused when the credential is added, and nothing is stored', async () => {
    const a = await app();
    let err: unknown;
    try {
      addWif(a, 'wif-exec', config({ credential_source: { executable: { command: '/usr/bin/id', timeout_millis: 5000 } } }));
    } catch (e) {
      err = e;
    }
    expect(isKeydeskError(err, 'INPUT_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/executable credential sources are refused/);
    expect(a.credentials.list()).toEqual([]);
  });
});

describe('canary: a service account key never reaches an error, the vault’s readable data, the audit log or an event', () => {
  it('even when Google echoes the key back in its error body', async () => {
    const a = await app();
    const planted = foreignKey(key);
    const secrets = [...pemLines(planted.private_key), planted.private_key];
    g.echo.text = planted.private_key;
    addKey(a, 'gcp-canary', planted);
    const watch = watchForLeaks(a);
    const run = await a.validation.validateAll();
    expect(run.results[0]?.credential.status).toBe('failed');
    // The echo did happen.
    expect(g.answers.some((t) => t.includes(pemLines(planted.private_key)[0]!))).toBe(true);
    expect(findLeak(watch.surfaces(run), secrets)).toBeNull();
  });

  it('and a subject token echoed by STS stays out too', async () => {
    const a = await app();
    const wif = g.addWorkloadProvider({ projectNumber: '271828', pool: 'canary-pool', provider: 'oidc' });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = signJwt(
      { alg: 'RS256' },
      { iss: wif.issuer, aud: `https:${wif.audience}`, sub: `canary-${crypto.randomUUID()}`, iat: nowSeconds(), exp: nowSeconds() + 600 },
      privateKey
    );
    g.idp.token = forged;
    g.echo.text = forged;
    a.credentials.add({
      name: 'wif-canary',
      provider: 'gcp',
      mode: 'external_account',
      values: {
        external_account_json: JSON.stringify({
          type: 'external_account',
          audience: wif.audience,
          subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
          token_url: `${g.url}/v1/token`,
          credential_source: { url: `${g.url}/idp/token` }
        })
      }
    });
    const watch = watchForLeaks(a);
    const run = await a.validation.validateAll();
    expect(run.results[0]?.credential.status).toBe('failed');
    expect(findLeak(watch.surfaces(run), [forged, forged.split('.')[2]!])).toBeNull();
  });
});
