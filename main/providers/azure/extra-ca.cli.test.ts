import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArmPeer, type ArmPeer } from '../../../e2e/peers/arm.ts';
import { startEntraPeer, type EntraPeer } from '../../../e2e/peers/entra.ts';
import { startGraphPeer, type GraphPeer } from '../../../e2e/peers/graph.ts';
import { runCli, spawnCliAsync } from '../../testing/cli.ts';
import { keychainVault, type TempVault } from '../../testing/fixtures.ts';

/**
 * The real `keydesk` CLI as a child process validating Entra-backed credentials against an HTTPS authority whose
 * CA is trusted the way an administrator would trust it: NODE_EXTRA_CA_CERTS (or the OS store). This process does
 * not trust the CA at all; the child trusts it only through the environment, so this is the product's own path.
 * `validate` stays a child process on purpose: Node reads NODE_EXTRA_CA_CERTS once, when a process starts.
 */

let entra: EntraPeer;
let arm: ArmPeer;
let graph: GraphPeer;
let v: TempVault;
let caFile: string;

beforeAll(async () => {
  entra = await startEntraPeer();
  [arm, graph] = await Promise.all([startArmPeer(entra), startGraphPeer(entra)]);
  entra.resources.add(arm.url);
  entra.resources.add(graph.url);
  entra.resources.add('http://127.0.0.1:9');
  const tenant = entra.addTenant({ domains: ['contoso.onmicrosoft.com'] });
  graph.addTenant({ id: tenant.id, domains: ['contoso.com', 'contoso.onmicrosoft.com'] });
  const app = entra.addApp(tenant.id, {
    roles: {
      [graph.url]: ['Directory.Read.All', 'MailboxSettings.ReadWrite', 'User.ReadWrite.All'],
      'http://127.0.0.1:9': ['Exchange.ManageAsApp']
    }
  });
  const secret = entra.addSecret(app).value;
  const sub = arm.addSubscription({ tenantId: tenant.id, readers: [app.servicePrincipalId] });

  v = await keychainVault();
  caFile = join(v.dir, 'corporate-ca.pem');
  writeFileSync(caFile, entra.ca.certPem);
  const common = { tenant_id: tenant.id, client_id: app.appId, client_secret: secret, authority_host: entra.url };
  v.app.credentials.add({
    name: 'azure-prod',
    provider: 'azure',
    mode: 'client_secret',
    values: { ...common, subscription_id: sub.subscriptionId, arm_endpoint: arm.url }
  });
  v.app.credentials.add({
    name: 'm365-contoso',
    provider: 'microsoft_365',
    mode: 'client_secret',
    values: { ...common, graph_endpoint: graph.url, exchange_endpoint: 'http://127.0.0.1:9' }
  });
  await v.app.close();
});

afterAll(async () => {
  await v.cleanup();
  await Promise.all([entra.close(), arm.close(), graph.close()]);
});

interface RunJson {
  results: { name: string; status: string; lastError: { code: string; message: string } | null }[];
}

const validateAll = (env: NodeJS.ProcessEnv) => spawnCliAsync(['--vault', v.path, '--json', 'validate', '--all'], { env });

describe('keydesk validate against an HTTPS authority', () => {
  it('without the CA in NODE_EXTRA_CA_CERTS or the OS store: unknown (TLS refused), and Entra receives nothing', async () => {
    const r = await validateAll({ NODE_EXTRA_CA_CERTS: undefined });
    expect(r.status).toBe(0);
    const results = r.json<RunJson>().results;
    expect(results.map((x) => [x.name, x.status, x.lastError?.code])).toEqual([
      ['azure-prod', 'unknown', 'PROVIDER_UNREACHABLE'],
      ['m365-contoso', 'unknown', 'PROVIDER_UNREACHABLE']
    ]);
    expect(results[0]?.lastError?.message).toMatch(/Could not reach 127\.0\.0\.1:\d+ \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
    expect(entra.control.requests).toEqual([]);
  });

  it('with the CA in NODE_EXTRA_CA_CERTS: both validate ok, and `show` offers the tenant’s verified domains', async () => {
    const r = await validateAll({ NODE_EXTRA_CA_CERTS: caFile });
    expect(r.status).toBe(0);
    expect(r.json<RunJson>().results.map((x) => [x.name, x.status])).toEqual([
      ['azure-prod', 'ok'],
      ['m365-contoso', 'ok']
    ]);
    const show = await runCli(['--vault', v.path, '--json', 'show', 'm365-contoso']);
    expect(show.status).toBe(0);
    expect(show.stdout).toContain('contoso.com');
    expect(show.json<{ credential: { observed: { suggestions: string[] } } }>().credential.observed.suggestions).toEqual([
      'contoso.com',
      'contoso.onmicrosoft.com'
    ]);
  });
});
