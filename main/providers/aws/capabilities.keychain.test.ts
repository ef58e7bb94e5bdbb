import { EC2Client, StopInstancesCommand } from '@aws-sdk/client-ec2';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEc2Peer, type Ec2Peer } from '../../../e2e/peers/ec2.ts';
import { startStsPeer, type StsPeer, type StsUser } from '../../../e2e/peers/sts.ts';
import type { KeydeskApp } from '../../app.ts';
import { findLeak } from '../../../e2e/peers/leaks.ts';
import { spawnChild } from '../../executions/testing/spawn.ts';
import { runCli } from '../../testing/cli.ts';
import { containsAnyEncoding, keychainVault, type TempVault } from '../../testing/fixtures.ts';
import { AWS_CAPABILITY_ACTIONS } from './spec.ts';

/**
 * isolate, block_ip and power on EC2, end to end through the app's executions service (run, revert, audit) against
 * the loopback EC2 and STS peers, which verify every SigV4 signature, keep the VPC's state and enforce IAM and the
 * session policy of each assumed-role session.
 */

let tv: TempVault;
let app: KeydeskApp;
let sts: StsPeer;
let ec2: Ec2Peer;
let user: StsUser;
let roleArn: string;

const REASON = 'C2 beacon from the host, INC-77';

function keyValues(u: StsUser) {
  return {
    access_key_id: u.accessKeyId,
    secret_access_key: u.secretAccessKey,
    region: 'us-east-1',
    sts_endpoint: sts.url,
    ec2_endpoint: ec2.url
  };
}

beforeEach(async () => {
  sts = await startStsPeer();
  ec2 = await startEc2Peer(sts);
  user = sts.sts.addUser({ name: 'responder' });
  ec2.iam.allow(user.arn, ['ec2:*']);
  roleArn = sts.sts.addRole({ name: 'KeydeskResponder', trusted: [user.accessKeyId] });
  ec2.iam.allow(roleArn, ['ec2:*']);
  tv = await keychainVault();
  app = tv.app;
  app.credentials.add({ name: 'AWS keys', provider: 'aws', mode: 'access_key', values: keyValues(user) });
});
afterEach(async () => {
  await tv.cleanup();
  await ec2.close();
  await sts.close();
});

/** A VPC with the host's subnet and a second subnet under its own network ACL (where "cut connections" acts). */
function network() {
  const vpc = ec2.addVpc({ ipv6: true });
  const hostSubnet = ec2.addSubnet(vpc.vpcId);
  const other = ec2.addSubnet(vpc.vpcId);
  const otherAcl = ec2.addNetworkAcl(vpc.vpcId, { subnetIds: [other.subnetId] });
  const web = ec2.addSecurityGroup(vpc.vpcId, 'web');
  const ssh = ec2.addSecurityGroup(vpc.vpcId, 'ssh');
  const host = ec2.addInstance({ subnetId: hostSubnet.subnetId, interfaces: 2, groups: [web.groupId, ssh.groupId], ipv6: true });
  return { vpc, hostSubnet, other, otherAcl, web, ssh, host };
}

const groupsOf = (instanceId: string) =>
  ec2.instances.get(instanceId)!.networkInterfaceIds.map((id) => ec2.interfaces.get(id)!.groups.map((g) => g.groupId));
const aclState = () => JSON.stringify([...ec2.networkAcls.values()].map((a) => [a.networkAclId, a.entries]));
const mutating = () => ec2.calls.filter((c) => c.outcome === 'ok' && !c.action.startsWith('Describe')).map((c) => c.action);
const run = (capability: string, target: string, extra: Record<string, unknown> = {}) =>
  app.executions.run({ capability, target, reason: REASON, credential: 'AWS keys', ...extra });

describe('aws isolate', () => {
  it('moves every interface to the quarantine group, cuts connections to the other subnets, and revert restores it exactly', async () => {
    const n = network();
    const groupsBefore = groupsOf(n.host.instanceId);
    const aclsBefore = aclState();
    const v = await run('isolate', n.host.instanceId);
    expect(v.status).toBe('succeeded');
    const q = [...ec2.securityGroups.values()].find((g) => g.groupName === 'keydesk-quarantine')!;
    expect(q.ingress).toEqual([]);
    expect(q.egress).toEqual([]); // the new group's allow-all egress was revoked
    expect(groupsOf(n.host.instanceId)).toEqual([[q.groupId], [q.groupId]]);
    const addresses = n.host.networkInterfaceIds.flatMap((id) => [
      ...ec2.interfaces.get(id)!.privateIpAddresses,
      ...ec2.interfaces.get(id)!.ipv6Addresses
    ]);
    const denies = ec2.networkAcls.get(n.otherAcl.networkAclId)!.entries.filter((e) => e.ruleAction === 'deny' && e.ruleNumber < 32766);
    expect(denies).toHaveLength(addresses.length * 2); // in and out, per address (IPv4 and IPv6)
    expect(v.result?.summary).toMatch(/Cut existing connections to the VPC’s other subnets: 8 deny entries/);
    expect(v.result?.summary).toMatch(/Connections to the internet already open continue until they time out/);
    expect(v.revertContext).toMatchObject({ interfaces: n.host.networkInterfaceIds.map((id, i) => ({ id, groups: groupsBefore[i] })) });
    // Every action it called is one the spec lists (the permissions the UI shows cover what it does; the spec also
    // lists ec2:CreateTags, which tagging the new group on create needs, and DeleteNetworkAclEntry, for the revert).
    const called = new Set(ec2.calls.map((c) => `ec2:${c.action}`));
    expect([...called].filter((a) => !AWS_CAPABILITY_ACTIONS.isolate.includes(a))).toEqual([]);
    expect(AWS_CAPABILITY_ACTIONS.isolate.filter((a) => !called.has(a))).toEqual(['ec2:CreateTags', 'ec2:DeleteNetworkAclEntry']);

    expect((await app.executions.revert(v.id)).status).toBe('reverted');
    expect(groupsOf(n.host.instanceId)).toEqual(groupsBefore);
    expect(aclState()).toBe(aclsBefore);
  });

  it('with cut_connections=no only the groups change, and the result says connections were not cut', async () => {
    const n = network();
    const aclsBefore = aclState();
    const v = await run('isolate', n.host.instanceId, { options: { cut_connections: false } });
    expect(v).toMatchObject({ status: 'succeeded', options: { cut_connections: false } });
    expect(v.result?.summary).toMatch(/were not cut/);
    expect(aclState()).toBe(aclsBefore);
  });

  it('an isolated host: the same run again is superseded; another credential finds it already isolated and changes nothing', async () => {
    const n = network();
    const first = await run('isolate', n.host.instanceId);
    expect(first.status).toBe('succeeded');
    const again = await run('isolate', n.host.instanceId);
    expect(again).toMatchObject({ status: 'failed', marker: 'superseded', relatedId: first.id });
    app.credentials.add({ name: 'AWS role', provider: 'aws', mode: 'assume_role', values: { ...keyValues(user), role_arn: roleArn } });
    const callsBefore = mutating().length;
    const other = await run('isolate', n.host.instanceId, { credential: 'AWS role' });
    expect(other.status).toBe('succeeded');
    expect(other.result?.summary).toMatch(/already isolated/);
    expect(mutating().length).toBe(callsBefore);
    expect((await app.executions.revert(other.id)).status).toBe('reverted');
    expect(mutating().length).toBe(callsBefore); // its revert changes nothing either
  });

  it('refuses to revert over drift, naming what changed, and changes nothing; --force reverts anyway', async () => {
    const n = network();
    const before = groupsOf(n.host.instanceId);
    const v = await run('isolate', n.host.instanceId);
    const eni = ec2.interfaces.get(n.host.networkInterfaceIds[0]!)!;
    eni.groups = [{ groupId: n.web.groupId, groupName: 'web' }]; // someone moved it meanwhile
    const drifted = groupsOf(n.host.instanceId);
    const calls = mutating().length;
    await expect(app.executions.revert(v.id)).rejects.toMatchObject({
      code: 'REVERT_DRIFT',
      message: expect.stringContaining(`${eni.networkInterfaceId} is now in ${n.web.groupId}`)
    });
    expect(groupsOf(n.host.instanceId)).toEqual(drifted);
    expect(mutating().length).toBe(calls);
    expect(app.executions.get(v.id)).toMatchObject({ status: 'succeeded', revertible: true });
    expect(app.audit.list().some((e) => e.action === 'execution.revert_refused')).toBe(true);
    expect((await app.executions.revert(v.id, { force: true })).status).toBe('reverted');
    expect(groupsOf(n.host.instanceId)).toEqual(before);
  });

  it('a missing permission fails the run naming it; an absent instance fails inventory_not_found', async () => {
    const n = network();
    ec2.iam.revoke(user.arn);
    ec2.iam.allow(user.arn, ['ec2:Describe*', 'ec2:CreateSecurityGroup', 'ec2:CreateTags', 'ec2:RevokeSecurityGroupEgress']);
    const v = await run('isolate', n.host.instanceId);
    expect(v).toMatchObject({ status: 'failed', failureReason: 'cloud_api_error', error: { code: 'UnauthorizedOperation' } });
    expect(v.error?.message).toContain('ec2:ModifyNetworkInterfaceAttribute');
    expect(await run('isolate', 'i-0123456789abcdef0')).toMatchObject({ status: 'failed', failureReason: 'inventory_not_found' });
    await expect(run('isolate', 'srv-1')).rejects.toMatchObject({ code: 'INPUT_INVALID' });
  });

  it('rejected keys: the run waits for re-authentication, and one re-auth with a working key resumes the same run', async () => {
    const n = network();
    sts.sts.deleteKey(user.accessKeyId);
    const v = await run('isolate', n.host.instanceId);
    expect(v).toMatchObject({ status: 'awaiting_reauth', error: { code: 'AuthFailure' } });
    expect(app.credentials.get('AWS keys').status).toBe('failed');
    const fresh = sts.sts.addUser({ name: 'responder-2' });
    ec2.iam.allow(fresh.arn, ['ec2:*']);
    const r = await app.executions.reauthWithSecrets('AWS keys', {
      access_key_id: fresh.accessKeyId,
      secret_access_key: fresh.secretAccessKey
    });
    expect(r.resumed.map((x) => [x.id, x.status])).toEqual([[v.id, 'succeeded']]);
    expect(
      groupsOf(n.host.instanceId)
        .flat()
        .every((g) => ec2.securityGroups.get(g)!.groupName === 'keydesk-quarantine')
    ).toBe(true);
  });
});

describe('aws block_ip', () => {
  it('adds deny entries in and out to the ACLs in use in the VPC (scope from the credential), and revert removes exactly those', async () => {
    const n = network();
    app.credentials.update('AWS keys', { values: { block_scope: n.vpc.vpcId } });
    const before = aclState();
    const v = await run('block_ip', '2001:DB8::7');
    expect(v).toMatchObject({ status: 'succeeded', target: '2001:db8::7', scope: n.vpc.vpcId });
    for (const acl of [...ec2.networkAcls.values()].filter((a) => a.vpcId === n.vpc.vpcId && a.associations.length)) {
      const d = acl.entries.filter((e) => e.ruleAction === 'deny' && e.ipv6CidrBlock === '2001:db8::7/128');
      expect(d.map((e) => e.egress).sort()).toEqual([false, true]);
      expect(Math.max(...d.map((e) => e.ruleNumber))).toBeLessThan(100); // below the allow rules, so they take effect
    }
    const again = await run('block_ip', '2001:db8::7', { credential: 'AWS keys', scope: n.otherAcl.networkAclId });
    expect(again.result?.summary).toMatch(/already blocked/);
    expect((await app.executions.revert(again.id)).status).toBe('reverted');
    expect((await app.executions.revert(v.id)).status).toBe('reverted');
    expect(aclState()).toBe(before);
  });

  it('names the scope it needs when neither the run nor the credential gives one, and refuses a malformed one, changing nothing', async () => {
    network();
    await expect(run('block_ip', '203.0.113.9')).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      message: expect.stringContaining('block_scope')
    });
    await expect(run('block_ip', '203.0.113.9', { scope: 'sg-0123456789abcdef0' })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    expect(ec2.calls).toEqual([]);
    expect(app.executions.list()).toEqual([]);
  });

  it('refuses to delete an entry someone replaced since the run', async () => {
    const n = network();
    const v = await run('block_ip', '198.51.100.0/24', { scope: n.otherAcl.networkAclId });
    const entry = ec2.networkAcls.get(n.otherAcl.networkAclId)!.entries.find((e) => e.cidrBlock === '198.51.100.0/24' && !e.egress)!;
    entry.cidrBlock = '192.0.2.0/24';
    await expect(app.executions.revert(v.id)).rejects.toMatchObject({
      code: 'REVERT_DRIFT',
      message: expect.stringContaining('192.0.2.0/24')
    });
    expect(ec2.networkAcls.get(n.otherAcl.networkAclId)!.entries.some((e) => e.cidrBlock === '192.0.2.0/24')).toBe(true);
  });
});

describe('aws power', () => {
  it('stops a running instance and the revert starts it; an instance already stopped is left alone', async () => {
    const n = network();
    const v = await run('power', n.host.instanceId);
    expect(v).toMatchObject({ status: 'succeeded', revertContext: { prior_state: 'running', stopped_by_this_run: true } });
    expect(ec2.instances.get(n.host.instanceId)!.state).toBe('stopped');
    expect((await app.executions.revert(v.id)).status).toBe('reverted');
    expect(ec2.instances.get(n.host.instanceId)!.state).toBe('running');
    const off = ec2.addInstance({ subnetId: n.hostSubnet.subnetId, state: 'stopped' });
    const w = await run('power', off.instanceId);
    expect(w.result?.summary).toMatch(/already stopped/);
    await app.executions.revert(w.id);
    expect(ec2.instances.get(off.instanceId)!.state).toBe('stopped');
  });

  it('assume_role: each run gets a 15-minute session narrowed to its actions on its instance, tagged with the run; the audit names it, never its keys', async () => {
    const n = network();
    const bystander = ec2.addInstance({ subnetId: n.hostSubnet.subnetId });
    app.credentials.add({ name: 'AWS role', provider: 'aws', mode: 'assume_role', values: { ...keyValues(user), role_arn: roleArn } });
    const arn = `arn:aws:ec2:us-east-1:${sts.sts.account}:instance/${n.host.instanceId}`;
    const v = await app.executions.run({ capability: 'power', target: arn, reason: REASON }); // routed by the ARN's account
    expect(v).toMatchObject({ status: 'succeeded', credentialName: 'AWS role' });
    const call = sts.sts.assumeRoleCalls.at(-1)!;
    expect(call).toMatchObject({ roleSessionName: `keydesk-${v.id}`, durationSeconds: 900, tags: { 'keydesk-execution': v.id } });
    expect(JSON.parse(call.policy!)).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['ec2:DescribeInstances'], Resource: '*' },
        { Effect: 'Allow', Action: ['ec2:StopInstances', 'ec2:StartInstances'], Resource: [arn] }
      ]
    });
    // The session really is narrowed: the peer refuses it on another instance.
    const session = [...sts.sts.sessions.values()].find((s) => s.roleSessionName === `keydesk-${v.id}`)!;
    const client = new EC2Client({
      region: 'us-east-1',
      endpoint: ec2.url,
      maxAttempts: 1,
      credentials: { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken }
    });
    await expect(client.send(new StopInstancesCommand({ InstanceIds: [bystander.instanceId] }))).rejects.toMatchObject({
      name: 'UnauthorizedOperation'
    });
    const audit = app.audit.list().find((e) => e.action === 'execution.session')!;
    expect(audit.detail).toMatchObject({ execution_id: v.id, session_name: `keydesk-${v.id}`, expires_at: expect.any(String) });
    const everything = JSON.stringify([app.executions.list(), app.audit.list(), app.credentials.list()]);
    for (const secret of [session.secretAccessKey, session.sessionToken, session.accessKeyId, user.secretAccessKey])
      expect(containsAnyEncoding(everything, secret)).toBeNull();
  });
});

describe('aws routing and readiness', () => {
  it('with no credential named: the ARN’s account picks it; a bare instance id with two candidates is refused, naming them', async () => {
    const n = network();
    app.credentials.add({ name: 'AWS role', provider: 'aws', mode: 'assume_role', values: { ...keyValues(user), role_arn: roleArn } });
    await expect(app.executions.run({ capability: 'power', target: n.host.instanceId, reason: REASON })).rejects.toMatchObject({
      code: 'AMBIGUOUS_BINDING',
      message: expect.stringMatching(/"AWS keys".*"AWS role"/)
    });
    await expect(
      app.executions.pickCredential('isolate', `arn:aws:ec2:us-east-1:999999999999:instance/${n.host.instanceId}`)
    ).rejects.toMatchObject({ code: 'NO_BINDING' });
    expect(
      await app.executions.pickCredential('isolate', `arn:aws:ec2:us-east-1:${sts.sts.account}:instance/${n.host.instanceId}`)
    ).toMatchObject({ credentialName: 'AWS role', account: sts.sts.account });
  });

  it('readiness comes from EC2 DryRun: ready where every call is allowed, the missing action named where one is not', async () => {
    ec2.iam.revoke(user.arn);
    ec2.iam.allow(user.arn, ['ec2:Describe*', 'ec2:CreateNetworkAclEntry', 'ec2:DeleteNetworkAclEntry', 'ec2:StartInstances']);
    await app.validation.validate('AWS keys');
    const readiness = (app.credentials.get('AWS keys').observed as { readiness: unknown }).readiness;
    expect(readiness).toEqual(
      expect.arrayContaining([
        { capability: 'block_ip', ready: true, missing: [] },
        { capability: 'power', ready: false, missing: ['ec2:StopInstances'] },
        expect.objectContaining({
          capability: 'isolate',
          ready: false,
          missing: expect.arrayContaining(['ec2:ModifyNetworkInterfaceAttribute'])
        })
      ])
    );
    expect(ec2.calls.every((c) => c.dryRun)).toBe(true); // readiness changes nothing
  });
});

describe('aws: a run that stops part-way loses nothing', () => {
  const action = (name: string) => (r: { body: string }) => new URLSearchParams(r.body).get('Action') === name;

  it('kill -9 between two interfaces: the run is interrupted with the prior groups recorded; running it again finishes, and its revert restores the state before both', async () => {
    const n = network();
    const groupsBefore = groupsOf(n.host.instanceId);
    const aclsBefore = aclState();
    let modifies = 0;
    let hanging = false;
    const isModify = action('ModifyNetworkInterfaceAttribute');
    ec2.control.faultWhen = (r) => (isModify(r) && ++modifies === 2 ? ((hanging = true), 'hang') : null);
    const c = spawnChild(tv.path, [
      'run',
      JSON.stringify({ capability: 'isolate', target: n.host.instanceId, reason: REASON, credential: 'AWS keys' })
    ]);
    await c.waitFor('claimed');
    while (!hanging) await new Promise((r) => setTimeout(r, 10));
    c.proc.kill('SIGKILL');
    await c.exit;
    ec2.control.faultWhen = null;
    const q = [...ec2.securityGroups.values()].find((g) => g.groupName === 'keydesk-quarantine')!.groupId;
    expect(groupsOf(n.host.instanceId)).toEqual([[q], groupsBefore[1]]); // one interface moved, the other not yet

    const restarted = tv.reopen();
    await restarted.vault.unlock();
    const [dead] = restarted.executions.list();
    expect(dead).toMatchObject({ status: 'failed', marker: 'interrupted' });
    // Nothing lost: the record written before the first change holds every interface's prior groups.
    expect(dead!.revertContext).toMatchObject({
      interfaces: n.host.networkInterfaceIds.map((id, i) => ({ id, groups: groupsBefore[i] })),
      quarantine_group_id: q,
      group_created: true
    });

    const again = await restarted.executions.run({
      capability: 'isolate',
      target: n.host.instanceId,
      reason: REASON,
      credential: 'AWS keys'
    });
    expect(again.status).toBe('succeeded');
    expect(again.steps.map((s) => s.message)).toContainEqual(
      expect.stringContaining(`Continues execution ${dead!.id}, which stopped part-way`)
    );
    expect(groupsOf(n.host.instanceId)).toEqual([[q], [q]]);
    expect(again.revertContext).toMatchObject({ interfaces: n.host.networkInterfaceIds.map((id, i) => ({ id, groups: groupsBefore[i] })) });

    expect((await restarted.executions.revert(again.id)).status).toBe('reverted');
    expect(groupsOf(n.host.instanceId)).toEqual(groupsBefore);
    expect(aclState()).toBe(aclsBefore);
    expect((await restarted.audit.verify()).ok).toBe(true);
    // The next run starts afresh: the latest earlier run is a finished one.
    const fresh = await restarted.executions.run({
      capability: 'isolate',
      target: n.host.instanceId,
      reason: REASON,
      credential: 'AWS keys'
    });
    expect(fresh.steps.map((s) => s.message).join('\n')).not.toMatch(/Continues execution/);
  });

  it('block_ip failing after its first deny entry: running it again keeps that entry, and its revert removes both', async () => {
    const n = network();
    const before = aclState();
    let creates = 0;
    const isCreate = action('CreateNetworkAclEntry');
    ec2.control.faultWhen = (r) => (isCreate(r) && ++creates >= 2 ? 'server_error' : null);
    const failed = await run('block_ip', '198.51.100.23', { scope: n.otherAcl.networkAclId });
    expect(failed).toMatchObject({ status: 'failed', failureReason: 'cloud_api_error' });
    ec2.control.faultWhen = null;
    const denies = () =>
      ec2.networkAcls.get(n.otherAcl.networkAclId)!.entries.filter((e) => e.ruleAction === 'deny' && e.cidrBlock === '198.51.100.23/32');
    expect(denies()).toHaveLength(1);

    const again = await run('block_ip', '198.51.100.23', { scope: n.otherAcl.networkAclId });
    expect(again.status).toBe('succeeded');
    expect(again.result?.summary).toMatch(/1 entries of the earlier run kept, and undone with this one/);
    expect(
      denies()
        .map((e) => e.egress)
        .sort()
    ).toEqual([false, true]);
    expect((await app.executions.revert(again.id)).status).toBe('reverted');
    expect(aclState()).toBe(before);
  });

  it('an earlier record edited in the vault file is not continued: the new run says so and acts on what it sees', async () => {
    const n = network();
    let creates = 0;
    const isCreate = action('CreateNetworkAclEntry');
    ec2.control.faultWhen = (r) => (isCreate(r) && ++creates >= 2 ? 'server_error' : null);
    const failed = await run('block_ip', '198.51.100.23', { scope: n.otherAcl.networkAclId });
    ec2.control.faultWhen = null;
    const raw = new Database(tv.path);
    const rc = JSON.parse(raw.prepare('SELECT revert_context FROM executions WHERE id = ?').pluck().get(failed.id) as string) as {
      acl_entries: { rule_number: number }[];
    };
    rc.acl_entries[0]!.rule_number = 99; // would have the next revert delete someone else's entry
    raw.prepare('UPDATE executions SET revert_context = ? WHERE id = ?').run(JSON.stringify(rc), failed.id);
    raw.close();

    const again = await run('block_ip', '198.51.100.23', { scope: n.otherAcl.networkAclId });
    expect(again.status).toBe('succeeded');
    expect(again.steps.map((s) => s.message)).toContainEqual(
      expect.stringContaining(`Execution ${failed.id} stopped part-way, but its record was changed in the vault file, so it was not used`)
    );
    expect(again.revertContext?.acl_entries).toHaveLength(1); // only the entry this run added
  });
});

describe('aws: every capability on a bad day', () => {
  const CASES = [
    { capability: 'isolate', action: 'ec2:ModifyNetworkInterfaceAttribute', extra: {} },
    { capability: 'block_ip', action: 'ec2:CreateNetworkAclEntry', extra: {} },
    { capability: 'power', action: 'ec2:StopInstances', extra: {} }
  ] as const;
  const targetOf = (capability: string, n: ReturnType<typeof network>) => (capability === 'block_ip' ? '203.0.113.50' : n.host.instanceId);
  const scoped = (capability: string, n: ReturnType<typeof network>) =>
    capability === 'block_ip' ? { scope: n.otherAcl.networkAclId } : {};

  it.each(CASES)('$capability: a missing $action fails naming it and changes nothing', async ({ capability, action }) => {
    const n = network();
    const before = JSON.stringify([groupsOf(n.host.instanceId), aclState(), ec2.instances.get(n.host.instanceId)!.state]);
    ec2.iam.revoke(user.arn);
    ec2.iam.allow(user.arn, [
      ...AWS_CAPABILITY_ACTIONS[capability].filter((a) => a !== action && !a.startsWith('ec2:Describe')),
      'ec2:Describe*'
    ]);
    const v = await run(capability, targetOf(capability, n), scoped(capability, n));
    expect(v).toMatchObject({ status: 'failed', error: { code: 'UnauthorizedOperation' } });
    expect(v.error?.message).toContain(action);
    if (capability !== 'isolate')
      expect(JSON.stringify([groupsOf(n.host.instanceId), aclState(), ec2.instances.get(n.host.instanceId)!.state])).toBe(before);
  });

  it.each(CASES)('$capability: a target that does not exist fails inventory_not_found', async ({ capability }) => {
    network();
    const v =
      capability === 'block_ip'
        ? await run('block_ip', '203.0.113.50', { scope: 'acl-0123456789abcdef0' })
        : await run(capability, 'i-0123456789abcdef0');
    expect(v).toMatchObject({ status: 'failed', failureReason: 'inventory_not_found' });
  });

  it.each(CASES)('$capability: rejected keys wait for re-authentication; one re-auth resumes the same run', async ({ capability }) => {
    const n = network();
    sts.sts.deleteKey(user.accessKeyId);
    const v = await run(capability, targetOf(capability, n), scoped(capability, n));
    expect(v).toMatchObject({ status: 'awaiting_reauth', error: { code: 'AuthFailure' } });
    const fresh = sts.sts.addUser({ name: `responder-${capability}` });
    ec2.iam.allow(fresh.arn, ['ec2:*']);
    const r = await app.executions.reauthWithSecrets('AWS keys', {
      access_key_id: fresh.accessKeyId,
      secret_access_key: fresh.secretAccessKey
    });
    expect(r.resumed.map((x) => [x.id, x.status])).toEqual([[v.id, 'succeeded']]);
  });

  it('two runs on one host at once, in this process and from another: one acts, the others are superseded by it', async () => {
    const n = network();
    ec2.control.latencyMs = 20; // every call in flight long enough for the runs to overlap
    const [a, b] = await Promise.all([run('isolate', n.host.instanceId), run('isolate', n.host.instanceId)]);
    expect([a!.status, b!.status].sort()).toEqual(['failed', 'succeeded']);
    const [winner, loser] = a!.status === 'succeeded' ? [a!, b!] : [b!, a!];
    expect(loser).toMatchObject({ marker: 'superseded', relatedId: winner.id });
    expect(mutating().filter((x) => x === 'ModifyNetworkInterfaceAttribute')).toHaveLength(2); // two interfaces, once each
    await app.executions.revert(winner.id);

    const c = spawnChild(tv.path, [
      'run',
      JSON.stringify({ capability: 'power', target: n.host.instanceId, reason: REASON, credential: 'AWS keys' })
    ]);
    await c.waitFor('claimed');
    const here = await run('power', n.host.instanceId);
    expect(await c.exit).toBe(0);
    const theirs = JSON.parse(c.lines.at(-1)!) as { id: string; status: string };
    expect(theirs.status).toBe('succeeded');
    expect(here).toMatchObject({ status: 'failed', marker: 'superseded', relatedId: theirs.id });
    expect(ec2.calls.filter((x) => x.action === 'StopInstances')).toHaveLength(1);
    ec2.control.latencyMs = 0;
  });

  it('power: an instance terminated since the run is drift — the revert is refused, naming it', async () => {
    const n = network();
    const v = await run('power', n.host.instanceId);
    ec2.instances.get(n.host.instanceId)!.state = 'terminated';
    await expect(app.executions.revert(v.id)).rejects.toMatchObject({
      code: 'REVERT_DRIFT',
      message: expect.stringContaining('terminated')
    });
    expect(app.executions.get(v.id)).toMatchObject({ status: 'succeeded', revertible: true });
  });

  it('canary: the secret key never reaches steps, results, errors, prompts, events, the audit log or the CLI', async () => {
    const events: unknown[] = [];
    for (const name of ['execution.changed', 'reauth.prompt', 'vault.changed'] as const) app.vault.events.on(name, (p) => events.push(p));
    const n = network();
    const runs = [
      await run('isolate', n.host.instanceId),
      await run('block_ip', '203.0.113.50', scoped('block_ip', n)),
      await run('power', n.host.instanceId)
    ];
    for (const r of runs) if (r.revertible) await app.executions.revert(r.id);
    ec2.iam.revoke(user.arn);
    await run('power', n.host.instanceId);
    sts.sts.deleteKey(user.accessKeyId);
    expect((await run('isolate', n.host.instanceId)).status).toBe('awaiting_reauth');
    expect(app.executions.prompts()).toHaveLength(1);
    const surfaces: [string, string][] = [
      ['executions', JSON.stringify(app.executions.list())],
      ['prompts', JSON.stringify(app.executions.prompts())],
      ['audit', JSON.stringify([...app.audit.export()])],
      ['credentials', JSON.stringify(app.credentials.list())],
      ['events', JSON.stringify(events)]
    ];
    await app.close(); // the CLI opens the vault on its own, as another process would
    const cli = [
      await runCli(['--vault', tv.path, 'executions', '--json']),
      await runCli(['--vault', tv.path, 'executions', runs[0]!.id]),
      await runCli(['--vault', tv.path, 'audit', 'export'])
    ];
    expect(cli.map((c) => c.status)).toEqual([0, 0, 0]);
    surfaces.push(['cli', cli.map((c) => c.stdout + c.stderr).join('\n')]);
    expect(findLeak(surfaces, [user.secretAccessKey])).toBeNull();
  });
});
