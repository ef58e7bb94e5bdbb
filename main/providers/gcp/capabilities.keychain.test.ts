import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COMPUTE_SCOPE, startComputePeer, type ComputePeer } from '../../../e2e/peers/compute.ts';
import { startGooglePeer, type GooglePeer, type ServiceAccountKeyFile } from '../../../e2e/peers/google.ts';
import { findLeak, pemLines } from '../../../e2e/peers/leaks.ts';
import type { KeydeskApp } from '../../app.ts';
import { keychainVault, type TempVault } from '../../testing/fixtures.ts';
import { quarantineRules } from './capabilities.ts';
import { GCP_CAPABILITY_PERMISSIONS } from './spec.ts';
import { QUARANTINE_TAG } from './targets.ts';
import type { Observed } from '../plugin.ts';

const P = 'soc-prod';
const ZONE = 'europe-west1-b';
const NET = `projects/${P}/global/networks/prod-vpc`;
const WEB = `projects/${P}/zones/${ZONE}/instances/web-1`;
const ALL = [...new Set(Object.values(GCP_CAPABILITY_PERMISSIONS).flat())];

let g: GooglePeer;
let c: ComputePeer;
let tv: TempVault;
let app: KeydeskApp;
let key: ServiceAccountKeyFile;
let sa: string;
const sleeps: number[] = [];

beforeEach(async () => {
  g = await startGooglePeer();
  c = await startComputePeer(g);
  const made = g.createServiceAccount({ projectId: P, name: 'keydesk-responder' });
  key = made.keyFile;
  sa = made.sa.email;
  g.addProject({ projectId: P, projectNumber: '314159265358', name: 'SOC production', readers: [sa] });
  c.addInstance(P, { name: 'web-1', zone: ZONE, network: 'prod-vpc', tags: ['http-server', 'https-server'] });
  c.addInstance(P, { name: 'web-2', zone: ZONE, network: 'prod-vpc', tags: [] });
  c.addInstance(P, { name: 'batch-1', zone: ZONE, network: 'prod-vpc', status: 'TERMINATED' });
  c.grant(sa, ALL);
  tv = await keychainVault();
  app = tv.app;
  // Operation polls wait through the process's sleep: instant here, and counted.
  sleeps.length = 0;
  (app.calls as { sleep?: (ms: number) => Promise<void> }).sleep = (ms) => {
    sleeps.push(ms);
    return Promise.resolve();
  };
  app.credentials.add({
    name: 'gcp-prod',
    provider: 'gcp',
    mode: 'service_account_key',
    values: {
      service_account_json: JSON.stringify(key),
      token_url: `${g.url}/token`,
      api_base_url: g.url,
      compute_endpoint: c.url,
      block_scope: NET
    }
  });
});
afterEach(async () => {
  await tv.cleanup();
  await c.close();
  await g.close();
});

const run = (capability: 'isolate' | 'block_ip' | 'power', target: string, extra: { scope?: string; credential?: string } = {}) =>
  app.executions.run({ capability, target, credential: extra.credential ?? 'gcp-prod', reason: 'beaconing to C2, INC-77', ...extra });
const tags = (name: string) => c.instance(P, ZONE, name)!.tags.items;
const status = (name: string) => c.instance(P, ZONE, name)!.status;
const rules = () => [...c.projects.get(P)!.firewalls.keys()].sort();
const mutations = () => c.control.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`);

describe('gcp readiness (projects.testIamPermissions)', () => {
  it('every capability ready with all permissions; a revoked one is named as missing', async () => {
    let r = await app.validation.validate('gcp-prod');
    expect(r.credential.status).toBe('ok');
    expect(r.credential.observed.readiness).toEqual([
      expect.objectContaining({ capability: 'isolate', ready: true, missing: [] }),
      expect.objectContaining({ capability: 'block_ip', ready: true, missing: [] }),
      expect.objectContaining({ capability: 'power', ready: true, missing: [] })
    ]);
    c.revokePermission(sa, 'compute.instances.setTags');
    c.revokePermission(sa, 'compute.instances.start');
    r = await app.validation.validate('gcp-prod');
    expect((r.credential.observed as Observed).readiness?.map((x) => [x.capability, x.ready, x.missing])).toEqual([
      ['isolate', false, ['compute.instances.setTags']],
      ['block_ip', true, []],
      ['power', false, ['compute.instances.start']]
    ]);
  });

  it('routing: a run naming no credential goes to the credential of the target’s project', async () => {
    await app.validation.validate('gcp-prod');
    const r = await app.executions.run({ capability: 'power', target: WEB, reason: 'INC-77' });
    expect(r).toMatchObject({ status: 'succeeded', credentialName: 'gcp-prod' });
  });
});

describe('gcp isolate (quarantine tag + deny-all rules)', () => {
  it('adds the tag with the fingerprint and creates the four deny-all rules; revert restores the exact prior tags', async () => {
    const before = c.snapshot(P);
    const r = await run('isolate', WEB);
    expect(r.status).toBe('succeeded');
    expect(tags('web-1')).toEqual(['http-server', 'https-server', QUARANTINE_TAG]);
    const names = quarantineRules(NET).map((x) => x.name);
    expect(rules()).toEqual([...names].sort());
    const fw = c.projects.get(P)!.firewalls;
    expect([...fw.values()].map((f) => [f.direction, f.priority, f.sourceRanges ?? f.destinationRanges, f.targetTags, f.denied])).toEqual([
      ['INGRESS', 0, ['0.0.0.0/0'], [QUARANTINE_TAG], [{ IPProtocol: 'all' }]],
      ['INGRESS', 0, ['::/0'], [QUARANTINE_TAG], [{ IPProtocol: 'all' }]],
      ['EGRESS', 0, ['0.0.0.0/0'], [QUARANTINE_TAG], [{ IPProtocol: 'all' }]],
      ['EGRESS', 0, ['::/0'], [QUARANTINE_TAG], [{ IPProtocol: 'all' }]]
    ]);
    expect(r.revertContext).toMatchObject({
      prior_tags: ['http-server', 'https-server'],
      tags_set_by_this_run: true,
      rules_created: names
    });
    // Least privilege: every Compute call carried a token with the compute scope only.
    expect(new Set(c.apiCalls.map((x) => x.scopes.join(' ')))).toEqual(new Set([COMPUTE_SCOPE]));
    // Operations were polled to DONE: the first poll at once, no wait needed with the peer's one-poll operations.
    expect(c.control.requests.some((q) => q.path.includes('/global/operations/'))).toBe(true);
    expect(c.control.requests.some((q) => q.path.includes(`/zones/${ZONE}/operations/`))).toBe(true);

    expect((await app.executions.revert(r.id)).status).toBe('reverted');
    const after = c.snapshot(P);
    expect(after.instances).toEqual(before.instances);
    // The quarantine rules are shared by the network's isolated instances: they stay, matching no instance now.
    expect(after.firewalls.every((f) => f.targetTags?.includes(QUARANTINE_TAG))).toBe(true);
    expect([...c.projects.get(P)!.instances.values()].some((i) => i.tags.items.includes(QUARANTINE_TAG))).toBe(false);
  });

  it('idempotent: an instance already tagged with the rules in place is left alone, and its revert changes nothing', async () => {
    expect((await run('isolate', WEB)).status).toBe('succeeded');
    c.setTagsOutOfBand(P, ZONE, 'web-2', [QUARANTINE_TAG]);
    const n = mutations().length;
    const r = await run('isolate', `projects/${P}/zones/${ZONE}/instances/web-2`);
    expect(r).toMatchObject({ status: 'succeeded', result: { summary: expect.stringMatching(/already isolated.*nothing was changed/) } });
    expect(mutations().length).toBe(n);
    expect((await app.executions.revert(r.id)).status).toBe('reverted');
    expect(tags('web-2')).toEqual([QUARANTINE_TAG]);
    expect(mutations().length).toBe(n);
  });

  it('drift: tags changed since the run → REVERT_DRIFT and nothing changed; --force restores the prior tags', async () => {
    const r = await run('isolate', WEB);
    c.setTagsOutOfBand(P, ZONE, 'web-1', [...tags('web-1'), 'forensics-hold']);
    const n = mutations().length;
    await expect(app.executions.revert(r.id)).rejects.toMatchObject({
      code: 'REVERT_DRIFT',
      message: expect.stringContaining('forensics-hold')
    });
    expect(mutations().length).toBe(n);
    expect(tags('web-1')).toContain('forensics-hold');
    expect(app.executions.get(r.id).status).toBe('succeeded');
    expect((await app.executions.revert(r.id, { force: true })).status).toBe('reverted');
    expect(tags('web-1')).toEqual(['http-server', 'https-server']);
  });

  it('a missing permission fails the run naming it; an absent instance is inventory_not_found; a bad name is refused before any call', async () => {
    c.revokePermission(sa, 'compute.instances.setTags');
    const denied = await run('isolate', WEB);
    expect(denied).toMatchObject({
      status: 'failed',
      failureReason: 'cloud_api_error',
      error: { code: 'PERMISSION_DENIED', message: expect.stringContaining('compute.instances.setTags') }
    });
    expect(tags('web-1')).toEqual(['http-server', 'https-server']);
    const missing = await run('isolate', `projects/${P}/zones/${ZONE}/instances/ghost`);
    expect(missing).toMatchObject({ status: 'failed', failureReason: 'inventory_not_found' });
    const n = c.control.requests.length;
    await expect(run('isolate', 'web-1')).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(run('isolate', `projects/${P}/zones/${ZONE}/instances/Web_1`)).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    expect(c.control.requests.length).toBe(n);
  });
});

describe('gcp block_ip (deny rules at priority 0 on the VPC network)', () => {
  it('creates an INGRESS and an EGRESS deny rule named from the execution; revert deletes exactly those', async () => {
    const before = c.snapshot(P);
    const r = await run('block_ip', '203.0.113.7');
    expect(r.status).toBe('succeeded');
    const fw = [...c.projects.get(P)!.firewalls.values()];
    const id = r.id.replace(/-/g, '').slice(0, 32);
    expect(fw.map((f) => [f.name, f.direction, f.priority, f.sourceRanges ?? f.destinationRanges, f.targetTags ?? null])).toEqual([
      [`keydesk-block-${id}-in`, 'INGRESS', 0, ['203.0.113.7/32'], null],
      [`keydesk-block-${id}-out`, 'EGRESS', 0, ['203.0.113.7/32'], null]
    ]);
    expect(fw.every((f) => f.network.endsWith(NET))).toBe(true);
    expect((await app.executions.revert(r.id)).status).toBe('reverted');
    expect(c.snapshot(P)).toEqual(before);
  });

  it('an IPv6 block on a named network; an address a Keydesk rule already blocks is left alone', async () => {
    c.addNetwork(P, 'dmz');
    const r = await run('block_ip', '2001:db8::/48', { scope: `projects/${P}/global/networks/dmz` });
    expect(r.status).toBe('succeeded');
    expect([...c.projects.get(P)!.firewalls.values()].map((f) => f.sourceRanges ?? f.destinationRanges)).toEqual([
      ['2001:db8::/48'],
      ['2001:db8::/48']
    ]);
    // Another Keydesk (or an earlier run with another credential) already blocks 198.51.100.9 on prod-vpc, both ways.
    for (const [name, direction, key] of [
      ['keydesk-block-other-in', 'INGRESS', 'sourceRanges'],
      ['keydesk-block-other-out', 'EGRESS', 'destinationRanges']
    ] as const)
      c.projects.get(P)!.firewalls.set(name, {
        id: '1',
        name,
        network: `https://www.googleapis.com/compute/v1/${NET}`,
        priority: 0,
        direction,
        denied: [{ IPProtocol: 'all' }],
        [key]: ['198.51.100.9/32'],
        disabled: false
      });
    const n = mutations().length;
    const again = await run('block_ip', '198.51.100.9');
    expect(again).toMatchObject({ status: 'succeeded', result: { summary: expect.stringMatching(/already blocked.*nothing was done/) } });
    expect(mutations().length).toBe(n);
    expect((await app.executions.revert(again.id)).status).toBe('reverted');
    expect(c.projects.get(P)!.firewalls.has('keydesk-block-other-in')).toBe(true);
  });

  it('drift: a rule deleted or edited since the run → REVERT_DRIFT, nothing changed; --force deletes what is left', async () => {
    const before = c.snapshot(P);
    const r = await run('block_ip', '203.0.113.0/24');
    const [inRule, outRule] = [...c.projects.get(P)!.firewalls.values()];
    inRule!.sourceRanges = ['203.0.113.0/24', '192.0.2.0/24'];
    c.projects.get(P)!.firewalls.delete(outRule!.name);
    const n = mutations().length;
    const refused = app.executions.revert(r.id);
    await expect(refused).rejects.toMatchObject({ code: 'REVERT_DRIFT' });
    await refused.catch((e: Error) => {
      expect(e.message).toContain(`${inRule!.name} was changed`);
      expect(e.message).toContain(`${outRule!.name} was deleted`);
    });
    expect(mutations().length).toBe(n);
    expect((await app.executions.revert(r.id, { force: true })).status).toBe('reverted');
    expect(c.snapshot(P)).toEqual(before);
  });

  it('a VPC network that does not exist is inventory_not_found, and nothing is created', async () => {
    const r = await run('block_ip', '203.0.113.7', { scope: `projects/${P}/global/networks/ghost` });
    expect(r).toMatchObject({ status: 'failed', failureReason: 'inventory_not_found' });
    expect(rules()).toEqual([]);
  });

  it('a missing permission names it; a scope that is not a network is refused before any call', async () => {
    c.revokePermission(sa, 'compute.networks.updatePolicy');
    expect(await run('block_ip', '203.0.113.7')).toMatchObject({
      status: 'failed',
      failureReason: 'cloud_api_error',
      error: { code: 'PERMISSION_DENIED', message: expect.stringContaining('compute.networks.updatePolicy') }
    });
    expect(rules()).toEqual([]);
    const n = c.control.requests.length;
    await expect(run('block_ip', '203.0.113.8', { scope: 'vpc-0abc' })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    expect(c.control.requests.length).toBe(n);
  });
});

describe('gcp power (instances.stop; revert starts it)', () => {
  it('stops a running instance, polling its operation to DONE; the revert starts it again', async () => {
    c.setOperationPolls(3);
    const r = await run('power', WEB);
    expect(r).toMatchObject({
      status: 'succeeded',
      revertContext: { prior_status: 'RUNNING', stopped_by_this_run: true, after_status: 'TERMINATED' }
    });
    expect(status('web-1')).toBe('TERMINATED');
    // Three polls: the first at once, then two waits through the injected sleep.
    expect(sleeps).toEqual([2000, 2000]);
    expect((await app.executions.revert(r.id)).status).toBe('reverted');
    expect(status('web-1')).toBe('RUNNING');
  });

  it('an instance already TERMINATED is left alone; its revert does not start it', async () => {
    const r = await run('power', `projects/${P}/zones/${ZONE}/instances/batch-1`);
    expect(r.result?.summary).toMatch(/already TERMINATED; nothing was done/);
    expect((await app.executions.revert(r.id)).status).toBe('reverted');
    expect(status('batch-1')).toBe('TERMINATED');
    expect(mutations()).toEqual([]);
  });

  it('drift: started by someone else since → REVERT_DRIFT; --force then has nothing to start', async () => {
    const r = await run('power', WEB);
    c.instance(P, ZONE, 'web-1')!.status = 'RUNNING';
    await expect(app.executions.revert(r.id)).rejects.toMatchObject({
      code: 'REVERT_DRIFT',
      message: expect.stringContaining('now RUNNING')
    });
    const n = mutations().length;
    expect((await app.executions.revert(r.id, { force: true })).status).toBe('reverted');
    expect(mutations().length).toBe(n);
  });

  it('missing compute.instances.stop names it; an absent instance is inventory_not_found', async () => {
    c.revokePermission(sa, 'compute.instances.stop');
    expect(await run('power', WEB)).toMatchObject({
      status: 'failed',
      error: { code: 'PERMISSION_DENIED', message: expect.stringContaining('compute.instances.stop') }
    });
    expect(status('web-1')).toBe('RUNNING');
    expect(await run('power', `projects/${P}/zones/${ZONE}/instances/ghost`)).toMatchObject({
      status: 'failed',
      failureReason: 'inventory_not_found'
    });
  });
});

describe('gcp re-authentication', () => {
  it('a deleted key: the run waits; a new key that validates resumes it, and Compute sees one stop', async () => {
    g.serviceAccounts.get(sa)!.keys.clear();
    const r = await run('power', WEB);
    expect(r).toMatchObject({ status: 'awaiting_reauth', error: { code: 'invalid_grant' } });
    expect(app.credentials.get('gcp-prod').status).toBe('failed');
    expect(status('web-1')).toBe('RUNNING');
    const fresh = g.addKey(sa);
    const report = await app.executions.reauthWithSecrets('gcp-prod', { service_account_json: JSON.stringify(fresh) });
    expect(report.resumed.map((v) => [v.id, v.status])).toEqual([[r.id, 'succeeded']]);
    expect(status('web-1')).toBe('TERMINATED');
    expect(mutations().filter((m) => m.endsWith('/stop'))).toHaveLength(1);
  });

  it('Compute refusing the token (401) marks the credential expired; one re-auth resumes the same run', async () => {
    c.setFault('expired');
    const r = await run('isolate', WEB);
    expect(r).toMatchObject({ status: 'awaiting_reauth', error: { code: 'UNAUTHENTICATED' } });
    expect(app.credentials.get('gcp-prod').status).toBe('expired');
    c.setFault('none');
    const report = await app.executions.reauthWithSecrets('gcp-prod', { service_account_json: JSON.stringify(key) });
    expect(report.resumed[0]).toMatchObject({ id: r.id, status: 'succeeded' });
    expect(tags('web-1')).toContain(QUARANTINE_TAG);
  });

  it('a credential whose recorded expiry passed makes no call: the run waits until it is re-authenticated', async () => {
    g.serviceAccounts.get(sa)!.keys.clear();
    app.credentials.update('gcp-prod', { expiresAt: '2026-01-31' });
    await app.validation.validate('gcp-prod');
    expect(app.credentials.get('gcp-prod').status).toBe('expired');
    const n = c.control.requests.length;
    const r = await run('block_ip', '203.0.113.7');
    expect(r.status).toBe('awaiting_reauth');
    expect(c.control.requests.length).toBe(n);
    const report = await app.executions.reauthWithSecrets('gcp-prod', { service_account_json: JSON.stringify(g.addKey(sa)) });
    expect(report.resumed[0]).toMatchObject({ id: r.id, status: 'succeeded' });
    expect(rules()).toHaveLength(2);
  });
});

describe('gcp workload identity federation: a narrowed impersonated session per run', () => {
  it('generateAccessToken with the compute scope and a 900 s lifetime, recorded in the audit log', async () => {
    const target = g.createServiceAccount({ projectId: P, name: 'wif-responder' }).sa.email;
    const wif = g.addWorkloadProvider({ projectNumber: '314159265358', pool: 'keydesk-pool', provider: 'oidc', impersonable: [target] });
    g.projects.get(P)!.readers.add(target);
    c.grant(target, ALL);
    g.idp.token = wif.subjectToken();
    app.credentials.add({
      name: 'gcp-wif',
      provider: 'gcp',
      mode: 'external_account',
      values: {
        external_account_json: JSON.stringify({
          type: 'external_account',
          audience: wif.audience,
          subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
          token_url: `${g.url}/v1/token`,
          service_account_impersonation_url: `${g.url}/v1/projects/-/serviceAccounts/${target}:generateAccessToken`,
          credential_source: { url: `${g.url}/idp/token` }
        }),
        api_base_url: g.url,
        compute_endpoint: c.url
      }
    });
    const r = await run('power', WEB, { credential: 'gcp-wif' });
    expect(r.status).toBe('succeeded');
    expect(g.impersonations).toEqual([{ serviceAccount: target, scopes: [COMPUTE_SCOPE], lifetime: '900s' }]);
    expect(c.apiCalls.every((x) => x.principal === target && x.scopes.join(' ') === COMPUTE_SCOPE)).toBe(true);
    const session = app.audit.list().find((e) => e.action === 'execution.session');
    expect(session).toMatchObject({ detail: { execution_id: r.id, session_name: target } });
    const expires = Date.parse((session!.detail as { expires_at: string }).expires_at);
    expect(expires - Date.now()).toBeLessThanOrEqual(900_000);
  });
});

describe('gcp capabilities canary', () => {
  it('the private key and every access token Google issued stay out of steps, results, errors, prompts, views and the audit log', async () => {
    const events: unknown[] = [];
    for (const name of ['execution.changed', 'reauth.prompt', 'vault.changed'] as const) app.vault.events.on(name, (p) => events.push(p));
    const a = await run('isolate', WEB);
    const b = await run('block_ip', '203.0.113.7');
    const p = await run('power', WEB);
    for (const x of [a, b, p]) await app.executions.revert(x.id);
    c.revokePermission(sa, 'compute.instances.stop');
    await run('power', WEB);
    c.setFault('expired');
    await run('power', `projects/${P}/zones/${ZONE}/instances/web-2`);
    c.setFault('none');
    const tokens = [...g.tokens.keys()];
    expect(tokens.length).toBeGreaterThan(3);
    const surfaces: [string, string][] = [
      ['executions', JSON.stringify(app.executions.list())],
      ['prompts', JSON.stringify(app.executions.prompts())],
      ['audit export', JSON.stringify([...app.audit.export()])],
      ['credentials', JSON.stringify(app.credentials.list())],
      ['events', JSON.stringify(events)]
    ];
    expect(findLeak(surfaces, [...pemLines(key.private_key), ...tokens])).toBeNull();
  });
});

describe('gcp: a run that stops part-way loses nothing', () => {
  it('isolate failing after it set the tag: running it again keeps the prior tags it recorded, and its revert restores them', async () => {
    const before = tags('web-1');
    let tagged = false;
    c.control.faultWhen = (r) => {
      if (r.method === 'POST' && r.path.endsWith('/instances/web-1/setTags')) tagged = true;
      else if (tagged && r.method === 'GET' && r.path.endsWith('/instances/web-1')) return 'server_error';
      return null;
    };
    const failed = await run('isolate', WEB);
    expect(failed).toMatchObject({ status: 'failed', failureReason: 'cloud_api_error' });
    expect(tags('web-1')).toEqual([...before, QUARANTINE_TAG]); // the tag was set before the run failed
    expect(failed.revertContext).toMatchObject({ prior_tags: before, tags_set_by_this_run: true });
    c.control.faultWhen = null;

    // Without the earlier record this run would find the host already isolated, and its revert would leave the tag.
    const again = await run('isolate', WEB);
    expect(again.status).toBe('succeeded');
    expect(again.steps.map((s) => s.message)).toContainEqual(expect.stringContaining(`Continues execution ${failed.id}`));
    expect((await app.executions.revert(again.id)).status).toBe('reverted');
    expect(tags('web-1')).toEqual(before);
  });

  it('block_ip failing on its EGRESS rule: running it again keeps the INGRESS one, and its revert deletes both', async () => {
    const before = c.snapshot(P);
    c.control.faultWhen = (r) =>
      r.method === 'POST' && r.path.endsWith('/global/firewalls') && r.body.includes('"EGRESS"') ? 'server_error' : null;
    const failed = await run('block_ip', '203.0.113.7');
    expect(failed).toMatchObject({ status: 'failed', failureReason: 'cloud_api_error' });
    expect(rules()).toHaveLength(1);
    c.control.faultWhen = null;

    const again = await run('block_ip', '203.0.113.7');
    expect(again.status).toBe('succeeded');
    expect(rules()).toHaveLength(2);
    expect(again.result?.details).toMatchObject({ kept_from_earlier_run: rules().filter((n) => n.endsWith('-in')) });
    expect((await app.executions.revert(again.id)).status).toBe('reverted');
    expect(c.snapshot(P)).toEqual(before);
  });
});
