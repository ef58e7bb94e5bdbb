import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startArmPeer, type ArmPeer, type ArmSubscription } from '../../../e2e/peers/arm.ts';
import type { ArmNic, ArmNsg, ArmSecurityRule, ArmVm } from '../../../e2e/peers/arm-resources.ts';
import { startEntraPeer, type EntraApp, type EntraPeer, type EntraTenant } from '../../../e2e/peers/entra.ts';
import { findLeak } from '../../../e2e/peers/leaks.ts';
import { trustTestCa } from '../../../e2e/peers/tls.ts';
import type { KeydeskApp } from '../../app.ts';
import { keychainVault, type TempVault } from '../../testing/fixtures.ts';
import type { Observed } from '../plugin.ts';
import { azureSpec } from './spec.ts';

/**
 * Azure host capabilities end to end: the real executions service, a keychain vault, MSAL against the HTTPS Entra
 * peer and ARM REST against the HTTPS ARM peer (real token checks, Azure RBAC with wildcards and notActions,
 * long-running operations that take effect only when polled to Succeeded).
 */

const RG = 'soc-prod';
const ALL = [...new Set(azureSpec.capabilities.flatMap((c) => c.permissions))];

let entra: EntraPeer;
let arm: ArmPeer;
let restoreTrust: () => void;
let tenant: EntraTenant;
let sp: EntraApp;
let secret: string;
let sub: ArmSubscription;

beforeAll(async () => {
  entra = await startEntraPeer();
  restoreTrust = trustTestCa(entra.ca.certPem);
  arm = await startArmPeer(entra);
  entra.resources.add(arm.url);
  tenant = entra.addTenant({ domains: ['contoso.onmicrosoft.com'] });
  sp = entra.addApp(tenant.id, { displayName: 'Keydesk SOC' });
  secret = entra.addSecret(sp).value;
  sub = arm.addSubscription({ tenantId: tenant.id, readers: [sp.servicePrincipalId] });
});
afterAll(async () => {
  restoreTrust();
  await Promise.all([entra.close(), arm.close()]);
});

let tv: TempVault;
let app: KeydeskApp;
let web: { vm: ArmVm; nics: ArmNic[] };
let webNsg: ArmNsg;
let edge: ArmNsg;
const sleeps: number[] = [];
const rgScope = () => `/subscriptions/${sub.subscriptionId}/resourceGroups/${RG}`;
const vmId = (name: string) => `${rgScope()}/providers/Microsoft.Compute/virtualMachines/${name}`;
const nsgOf = (nic: ArmNic) => arm.nics.get(nic.id.toLowerCase())!.nsgId;
const nsg = (id: string) => arm.nsgs.get(id.toLowerCase());
const allow = (name: string, priority: number, direction: 'Inbound' | 'Outbound'): ArmSecurityRule => ({
  name,
  priority,
  direction,
  access: 'Allow',
  protocol: 'Tcp',
  sourceAddressPrefix: '*',
  destinationAddressPrefix: '*',
  sourcePortRange: '*',
  destinationPortRange: '443'
});

beforeEach(async () => {
  arm.vms.clear();
  arm.nics.clear();
  arm.nsgs.clear();
  arm.assignments.clear();
  arm.lro.polls = 1;
  webNsg = arm.addNsg({
    subscriptionId: sub.subscriptionId,
    resourceGroup: RG,
    name: 'web-nsg',
    rules: [allow('https-in', 100, 'Inbound')]
  });
  edge = arm.addNsg({
    subscriptionId: sub.subscriptionId,
    resourceGroup: RG,
    name: 'edge-nsg',
    rules: [allow('https-in', 100, 'Inbound'), allow('https-in-2', 101, 'Inbound'), allow('out-443', 100, 'Outbound')]
  });
  web = arm.addVm({
    subscriptionId: sub.subscriptionId,
    resourceGroup: RG,
    name: 'web-1',
    nics: [{ name: 'web-1-nic', nsgId: webNsg.id }, { name: 'web-1-mgmt' }]
  });
  arm.addVm({ subscriptionId: sub.subscriptionId, resourceGroup: RG, name: 'batch-1', power: 'deallocated' });
  arm.grant(sp.servicePrincipalId, rgScope(), ALL);
  tv = await keychainVault();
  app = tv.app;
  // Operation polls wait through the process's sleep: instant here, and counted.
  sleeps.length = 0;
  (app.calls as { sleep?: (ms: number) => Promise<void> }).sleep = (ms) => {
    sleeps.push(ms);
    return Promise.resolve();
  };
  app.credentials.add({
    name: 'azure-prod',
    provider: 'azure',
    mode: 'client_secret',
    values: {
      tenant_id: tenant.id,
      client_id: sp.appId,
      client_secret: secret,
      subscription_id: sub.subscriptionId,
      authority_host: entra.url,
      arm_endpoint: arm.url,
      block_scope: edge.id
    }
  });
});
afterEach(async () => {
  entra.reset();
  arm.reset();
  await tv.cleanup();
});

const run = (
  capability: 'isolate' | 'block_ip' | 'power',
  target: string,
  extra: { scope?: string; options?: Record<string, boolean> } = {}
) => app.executions.run({ capability, target, credential: 'azure-prod', reason: 'beaconing to C2, INC-88', ...extra });
const mutations = () => [...arm.mutations];

describe('azure readiness (Microsoft.Authorization/permissions at the resource group)', () => {
  it('every capability ready with the roles granted; an action excluded by notActions is named as missing', async () => {
    let r = await app.validation.validate('azure-prod');
    expect(r.credential.status).toBe('ok');
    expect((r.credential.observed as Observed).readiness).toEqual([
      { capability: 'isolate', ready: true, missing: [], note: `From Microsoft.Authorization/permissions on resource group ${RG}.` },
      expect.objectContaining({ capability: 'block_ip', ready: true, missing: [] }),
      expect.objectContaining({ capability: 'power', ready: true, missing: [] })
    ]);
    // A Network Contributor–like role with the NSG join excluded, and only read on compute.
    arm.assignments.set(sp.servicePrincipalId, [
      {
        scope: rgScope(),
        actions: ['Microsoft.Network/*', 'Microsoft.Compute/virtualMachines/read'],
        notActions: ['Microsoft.Network/networkSecurityGroups/join/action']
      }
    ]);
    r = await app.validation.validate('azure-prod');
    expect(r.credential.status).toBe('ok');
    expect((r.credential.observed as Observed).readiness?.map((x) => [x.capability, x.ready, x.missing])).toEqual([
      ['isolate', false, ['Microsoft.Network/networkSecurityGroups/join/action']],
      ['block_ip', true, []],
      [
        'power',
        false,
        [
          'Microsoft.Compute/virtualMachines/powerOff/action',
          'Microsoft.Compute/virtualMachines/deallocate/action',
          'Microsoft.Compute/virtualMachines/start/action'
        ]
      ]
    ]);
  });

  it('routing: a run naming no credential goes to the credential of the VM’s subscription', async () => {
    await app.validation.validate('azure-prod');
    const r = await app.executions.run({ capability: 'power', target: vmId('web-1'), reason: 'INC-88' });
    expect(r).toMatchObject({ status: 'succeeded', credentialName: 'azure-prod' });
  });
});

describe('azure isolate (quarantine NSG on every NIC)', () => {
  it('creates the quarantine NSG once, moves each NIC onto it, and the revert puts each NIC back on its own NSG', async () => {
    arm.lro.polls = 2;
    const r = await run('isolate', web.vm.id);
    expect(r.status).toBe('succeeded');
    const q = nsg(`${rgScope()}/providers/Microsoft.Network/networkSecurityGroups/keydesk-quarantine-westeurope`)!;
    expect(q.rules.map((x) => [x.direction, x.priority, x.access, x.sourceAddressPrefix, x.destinationAddressPrefix])).toEqual([
      ['Inbound', 100, 'Deny', '*', '*'],
      ['Outbound', 100, 'Deny', '*', '*']
    ]);
    expect(web.nics.map(nsgOf)).toEqual([q.id, q.id]);
    expect(r.revertContext).toMatchObject({
      quarantine_nsg: q.id,
      nics: [
        { id: web.nics[0]!.id, previous_nsg: webNsg.id, changed_by_this_run: true },
        { id: web.nics[1]!.id, previous_nsg: null, changed_by_this_run: true }
      ]
    });
    // Every change took effect only when its operation was polled to Succeeded: two InProgress answers each, and
    // Retry-After: 0 honoured (no wait) — three operations (the NSG and two NICs).
    expect(sleeps).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
    // The run's Resource Manager token is recorded (kind, name, expiry), never the token.
    const session = app.audit.list().find((e) => e.action === 'execution.session');
    expect(session).toMatchObject({
      detail: { execution_id: r.id, session_name: `service principal …${sp.appId.slice(-4)} at ${new URL(arm.url).host}` }
    });

    expect((await app.executions.revert(r.id)).status).toBe('reverted');
    expect(web.nics.map(nsgOf)).toEqual([webNsg.id, null]);
    // The quarantine NSG stays for the next isolation.
    expect(nsg(q.id)).toBeDefined();
  });

  it('idempotent: a VM whose NICs are all on the quarantine NSG is left alone, and its revert changes nothing', async () => {
    const first = await run('isolate', web.vm.id);
    expect(first.status).toBe('succeeded');
    // Another tool (or a colleague in the portal) moved batch-1's NIC onto the same quarantine NSG.
    arm.nics.get(`${rgScope()}/providers/Microsoft.Network/networkInterfaces/batch-1-nic`.toLowerCase())!.nsgId = String(
      first.revertContext!.quarantine_nsg
    );
    const n = mutations().length;
    const again = await run('isolate', vmId('batch-1'));
    expect(again).toMatchObject({ status: 'succeeded', result: { summary: expect.stringMatching(/already isolated.*Nothing was done/) } });
    expect(mutations().length).toBe(n);
    expect((await app.executions.revert(again.id)).status).toBe('reverted');
    expect(mutations().length).toBe(n);
  });

  it('drift: a NIC moved off the quarantine NSG since the run → REVERT_DRIFT, nothing changed; --force restores', async () => {
    const r = await run('isolate', web.vm.id);
    arm.nics.get(web.nics[1]!.id.toLowerCase())!.nsgId = edge.id;
    const n = mutations().length;
    await expect(app.executions.revert(r.id)).rejects.toMatchObject({
      code: 'REVERT_DRIFT',
      message: expect.stringContaining('web-1-mgmt is on edge-nsg')
    });
    expect(mutations().length).toBe(n);
    expect(app.executions.get(r.id).status).toBe('succeeded');
    expect((await app.executions.revert(r.id, { force: true })).status).toBe('reverted');
    expect(web.nics.map(nsgOf)).toEqual([webNsg.id, null]);
  });

  it('a missing join permission fails the run naming it; an absent VM is inventory_not_found; a bad id is refused before any call', async () => {
    arm.assignments.set(sp.servicePrincipalId, [
      { scope: rgScope(), actions: ALL, notActions: ['Microsoft.Network/networkSecurityGroups/join/action'] }
    ]);
    const denied = await run('isolate', web.vm.id);
    expect(denied).toMatchObject({
      status: 'failed',
      failureReason: 'cloud_api_error',
      error: { code: 'LinkedAuthorizationFailed', message: expect.stringContaining('Microsoft.Network/networkSecurityGroups/join/action') }
    });
    expect(denied.error?.message).not.toContain(sp.appId);
    expect(web.nics.map(nsgOf)).toEqual([webNsg.id, null]);
    expect(await run('isolate', vmId('ghost'))).toMatchObject({ status: 'failed', failureReason: 'inventory_not_found' });
    const n = arm.control.requests.length;
    await expect(run('isolate', 'web-1')).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(
      run('isolate', `/subscriptions/not-a-guid/resourceGroups/${RG}/providers/Microsoft.Compute/virtualMachines/web-1`)
    ).rejects.toMatchObject({
      code: 'INPUT_INVALID'
    });
    expect(arm.control.requests.length).toBe(n);
  });
});

describe('azure block_ip (Deny rules at the lowest free priority)', () => {
  it('an Inbound and an Outbound deny at the free priorities of the default NSG; revert deletes exactly those', async () => {
    const before = structuredClone(nsg(edge.id)!.rules);
    const r = await run('block_ip', '203.0.113.7');
    expect(r.status).toBe('succeeded');
    const added = nsg(edge.id)!.rules.filter((x) => x.access === 'Deny');
    expect(added.map((x) => [x.direction, x.priority, x.sourceAddressPrefix, x.destinationAddressPrefix])).toEqual([
      ['Inbound', 102, '203.0.113.7/32', '*'],
      ['Outbound', 101, '*', '203.0.113.7/32']
    ]);
    expect(added.every((x) => x.name.startsWith(`keydesk-block-${r.id}`) && x.description?.includes('INC-88'))).toBe(true);
    expect((await app.executions.revert(r.id)).status).toBe('reverted');
    expect(nsg(edge.id)!.rules).toEqual(before);
  });

  it('IPv6 into a named NSG; an address already denied both ways is left alone', async () => {
    const r = await run('block_ip', '2001:db8::/48', { scope: webNsg.id });
    expect(r.status).toBe('succeeded');
    expect(
      nsg(webNsg.id)!
        .rules.filter((x) => x.access === 'Deny')
        .map((x) => [x.direction, x.priority])
    ).toEqual([
      ['Inbound', 101],
      ['Outbound', 100]
    ]);
    // 198.51.100.9 is already denied both ways in edge-nsg (by hand, as single-address prefixes without a length).
    nsg(edge.id)!.rules.push(
      { ...allow('deny-in', 200, 'Inbound'), access: 'Deny', sourceAddressPrefix: '198.51.100.9' },
      {
        name: 'deny-out',
        priority: 200,
        direction: 'Outbound',
        access: 'Deny',
        protocol: '*',
        sourceAddressPrefix: '*',
        destinationAddressPrefixes: ['10.0.0.0/8', '198.51.100.9/32'],
        sourcePortRange: '*',
        destinationPortRange: '*'
      }
    );
    const n = mutations().length;
    const again = await run('block_ip', '198.51.100.9');
    expect(again).toMatchObject({
      status: 'succeeded',
      result: { summary: expect.stringMatching(/already denied both ways.*Nothing was done/) }
    });
    expect(mutations().length).toBe(n);
    expect((await app.executions.revert(again.id)).status).toBe('reverted');
    expect(nsg(edge.id)!.rules.map((x) => x.name)).toContain('deny-out');
    expect(mutations().length).toBe(n);
  });

  it('drift: a rule edited or removed since the run → REVERT_DRIFT naming it, nothing changed; --force deletes what is left', async () => {
    const before = structuredClone(nsg(edge.id)!.rules);
    const r = await run('block_ip', '198.51.100.0/24');
    const rules = nsg(edge.id)!.rules;
    const inRule = rules.find((x) => x.access === 'Deny' && x.direction === 'Inbound')!;
    const outRule = rules.find((x) => x.access === 'Deny' && x.direction === 'Outbound')!;
    inRule.access = 'Allow';
    nsg(edge.id)!.rules = rules.filter((x) => x !== outRule);
    const n = mutations().length;
    const refused = app.executions.revert(r.id);
    await expect(refused).rejects.toMatchObject({ code: 'REVERT_DRIFT' });
    await refused.catch((e: Error) => {
      expect(e.message).toContain(`${inRule.name} was changed (access Deny → Allow)`);
      expect(e.message).toContain(`${outRule.name} was removed`);
    });
    expect(mutations().length).toBe(n);
    expect((await app.executions.revert(r.id, { force: true })).status).toBe('reverted');
    expect(nsg(edge.id)!.rules).toEqual(before);
  });

  it('a missing NSG is inventory_not_found; a missing rule permission names it; a scope that is not an NSG is refused before any call', async () => {
    expect(
      await run('block_ip', '203.0.113.7', { scope: `${rgScope()}/providers/Microsoft.Network/networkSecurityGroups/ghost` })
    ).toMatchObject({
      status: 'failed',
      failureReason: 'inventory_not_found'
    });
    arm.assignments.set(sp.servicePrincipalId, [
      { scope: rgScope(), actions: ALL, notActions: ['Microsoft.Network/networkSecurityGroups/securityRules/write'] }
    ]);
    expect(await run('block_ip', '203.0.113.7')).toMatchObject({
      status: 'failed',
      error: {
        code: 'AuthorizationFailed',
        message: expect.stringContaining('Microsoft.Network/networkSecurityGroups/securityRules/write')
      }
    });
    expect(nsg(edge.id)!.rules.filter((x) => x.access === 'Deny')).toEqual([]);
    const n = arm.control.requests.length;
    await expect(run('block_ip', '203.0.113.8', { scope: 'edge-nsg' })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(run('block_ip', '203.0.113.999')).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    expect(arm.control.requests.length).toBe(n);
  });
});

describe('azure power (powerOff / deallocate; revert starts it)', () => {
  it('powers a running VM off, polling the operation; the revert starts it again', async () => {
    arm.lro.polls = 3;
    const r = await run('power', web.vm.id);
    expect(r).toMatchObject({
      status: 'succeeded',
      revertContext: { prior_power_state: 'running', action: 'powerOff', powered_off_by_this_run: true, after: 'stopped' }
    });
    expect(arm.vms.get(web.vm.id.toLowerCase())!.power).toBe('stopped');
    expect(sleeps).toHaveLength(4);
    expect((await app.executions.revert(r.id)).status).toBe('reverted');
    expect(arm.vms.get(web.vm.id.toLowerCase())!.power).toBe('running');
  });

  it('deallocate, chosen per run; a VM already deallocated is left alone and its revert does not start it', async () => {
    const r = await run('power', web.vm.id, { options: { deallocate: true } });
    expect(r.status).toBe('succeeded');
    expect(arm.vms.get(web.vm.id.toLowerCase())!.power).toBe('deallocated');
    expect(mutations()).toEqual(['POST deallocate web-1']);
    const idle = await run('power', vmId('batch-1'));
    expect(idle.result?.summary).toMatch(/already deallocated; nothing was done/);
    expect((await app.executions.revert(idle.id)).status).toBe('reverted');
    expect(arm.vms.get(vmId('batch-1').toLowerCase())!.power).toBe('deallocated');
    expect(mutations()).toEqual(['POST deallocate web-1']);
  });

  it('drift: started by someone else since → REVERT_DRIFT; --force starts it only through ARM', async () => {
    const r = await run('power', web.vm.id);
    arm.vms.get(web.vm.id.toLowerCase())!.power = 'running';
    await expect(app.executions.revert(r.id)).rejects.toMatchObject({
      code: 'REVERT_DRIFT',
      message: expect.stringContaining('web-1 is running, not stopped')
    });
    expect(mutations()).toEqual(['POST powerOff web-1']);
    expect((await app.executions.revert(r.id, { force: true })).status).toBe('reverted');
  });
});

describe('azure re-authentication', () => {
  it('ARM answering ExpiredAuthenticationToken marks the credential expired; one re-auth resumes the same run', async () => {
    arm.setFault('expired');
    const r = await run('power', web.vm.id);
    expect(r).toMatchObject({ status: 'awaiting_reauth', error: { code: 'ExpiredAuthenticationToken' } });
    expect(app.credentials.get('azure-prod').status).toBe('expired');
    expect(arm.vms.get(web.vm.id.toLowerCase())!.power).toBe('running');
    arm.setFault('none');
    const report = await app.executions.reauthWithSecrets('azure-prod', { client_secret: secret });
    expect(report.resumed.map((v) => [v.id, v.status])).toEqual([[r.id, 'succeeded']]);
    expect(arm.vms.get(web.vm.id.toLowerCase())!.power).toBe('stopped');
    expect(mutations().filter((m) => m.startsWith('POST powerOff'))).toHaveLength(1);
  });

  it('a secret removed in Entra: the run waits; a new secret that validates resumes it', async () => {
    sp.secrets.length = 0;
    const r = await run('isolate', web.vm.id);
    expect(r).toMatchObject({ status: 'awaiting_reauth', error: { code: expect.stringMatching(/^AADSTS/) } });
    expect(mutations()).toEqual([]);
    const fresh = entra.addSecret(sp).value;
    const report = await app.executions.reauthWithSecrets('azure-prod', { client_secret: fresh });
    expect(report.resumed[0]).toMatchObject({ id: r.id, status: 'succeeded' });
    expect(web.nics.map(nsgOf).every((id) => id?.endsWith('/keydesk-quarantine-westeurope'))).toBe(true);
    secret = fresh;
  });
});

describe('azure capabilities canary', () => {
  it('the client secret and every ARM token stay out of steps, results, errors, prompts, views and the audit log', async () => {
    const events: unknown[] = [];
    for (const name of ['execution.changed', 'reauth.prompt', 'vault.changed'] as const) app.vault.events.on(name, (p) => events.push(p));
    const a = await run('isolate', web.vm.id);
    const b = await run('block_ip', '203.0.113.7');
    const p = await run('power', web.vm.id);
    for (const x of [a, b, p]) await app.executions.revert(x.id);
    arm.assignments.set(sp.servicePrincipalId, [{ scope: rgScope(), actions: ['Microsoft.Compute/virtualMachines/read'], notActions: [] }]);
    await run('power', web.vm.id);
    arm.echo.text = secret;
    await run('block_ip', '203.0.113.9');
    arm.setFault('expired');
    await run('power', vmId('batch-1'));
    arm.setFault('none');
    const tokens = [...arm.tokens];
    expect(tokens.length).toBeGreaterThan(0);
    const surfaces: [string, string][] = [
      ['executions', JSON.stringify(app.executions.list())],
      ['prompts', JSON.stringify(app.executions.prompts())],
      ['audit export', JSON.stringify([...app.audit.export()])],
      ['credentials', JSON.stringify(app.credentials.list())],
      ['events', JSON.stringify(events)]
    ];
    expect(findLeak(surfaces, [secret, ...tokens])).toBeNull();
  });
});

describe('azure: a run that stops part-way loses nothing', () => {
  afterEach(() => {
    arm.control.faultWhen = null;
  });

  it('isolate failing on its second NIC: running it again finishes, and its revert puts both NICs back on their own NSGs', async () => {
    const second = web.nics[1]!.id.toLowerCase();
    arm.control.faultWhen = (r) => (r.method === 'PUT' && r.path.toLowerCase() === second ? 'server_error' : null);
    const failed = await run('isolate', web.vm.id);
    expect(failed).toMatchObject({ status: 'failed', failureReason: 'cloud_api_error' });
    const q = `${rgScope()}/providers/Microsoft.Network/networkSecurityGroups/keydesk-quarantine-westeurope`;
    expect(web.nics.map(nsgOf)).toEqual([nsg(q)!.id, null]); // the first NIC moved, the second not
    expect(failed.revertContext).toMatchObject({
      nics: [
        { id: web.nics[0]!.id, previous_nsg: webNsg.id },
        { id: web.nics[1]!.id, previous_nsg: null }
      ]
    });
    arm.control.faultWhen = null;

    const again = await run('isolate', web.vm.id);
    expect(again.status).toBe('succeeded');
    expect(again.steps.map((s) => s.message)).toContainEqual(expect.stringContaining(`Continues execution ${failed.id}`));
    expect(web.nics.map(nsgOf)).toEqual([nsg(q)!.id, nsg(q)!.id]);
    expect((await app.executions.revert(again.id)).status).toBe('reverted');
    expect(web.nics.map(nsgOf)).toEqual([webNsg.id, null]);
  });

  it('block_ip failing on its outbound rule: running it again keeps the inbound one, and its revert deletes both', async () => {
    const rulesBefore = JSON.stringify(nsg(edge.id)!.rules);
    arm.control.faultWhen = (r) => (r.method === 'PUT' && /securityrules\/keydesk-block-.*-out$/i.test(r.path) ? 'server_error' : null);
    const failed = await run('block_ip', '198.51.100.23', { scope: edge.id });
    expect(failed).toMatchObject({ status: 'failed', failureReason: 'cloud_api_error' });
    expect(
      nsg(edge.id)!
        .rules.filter((x) => x.access === 'Deny')
        .map((x) => x.direction)
    ).toEqual(['Inbound']);
    arm.control.faultWhen = null;

    const again = await run('block_ip', '198.51.100.23', { scope: edge.id });
    expect(again.status).toBe('succeeded');
    expect(
      nsg(edge.id)!
        .rules.filter((x) => x.access === 'Deny')
        .map((x) => x.direction)
        .sort()
    ).toEqual(['Inbound', 'Outbound']);
    expect((await app.executions.revert(again.id)).status).toBe('reverted');
    expect(JSON.stringify(nsg(edge.id)!.rules)).toBe(rulesBefore);
  });
});

describe('azure: the rest of a bad day', () => {
  it('power: a missing powerOff action fails naming it and changes nothing; an absent VM is inventory_not_found', async () => {
    arm.assignments.set(sp.servicePrincipalId, [
      { scope: rgScope(), actions: ALL, notActions: ['Microsoft.Compute/virtualMachines/powerOff/action'] }
    ]);
    const denied = await run('power', web.vm.id);
    expect(denied).toMatchObject({ status: 'failed', error: { code: 'AuthorizationFailed' } });
    expect(denied.error?.message).toContain('Microsoft.Compute/virtualMachines/powerOff/action');
    expect(arm.vms.get(web.vm.id.toLowerCase())!.power).toBe('running');
    arm.assignments.set(sp.servicePrincipalId, [{ scope: rgScope(), actions: ALL, notActions: [] }]);
    expect(await run('power', vmId('ghost'))).toMatchObject({ status: 'failed', failureReason: 'inventory_not_found' });
  });

  it('block_ip: ARM answering ExpiredAuthenticationToken makes the run wait; one re-auth resumes it and the rules exist once', async () => {
    arm.setFault('expired');
    const r = await run('block_ip', '198.51.100.23', { scope: edge.id });
    expect(r).toMatchObject({ status: 'awaiting_reauth', error: { code: 'ExpiredAuthenticationToken' } });
    arm.setFault('none');
    const report = await app.executions.reauthWithSecrets('azure-prod', { client_secret: secret });
    expect(report.resumed.map((v) => [v.id, v.status])).toEqual([[r.id, 'succeeded']]);
    expect(
      nsg(edge.id)!
        .rules.filter((x) => x.access === 'Deny')
        .map((x) => x.direction)
        .sort()
    ).toEqual(['Inbound', 'Outbound']);
  });
});
