import {
  CreateNetworkAclEntryCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteNetworkAclEntryCommand,
  DescribeInstancesCommand,
  DescribeNetworkAclsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  StartInstancesCommand,
  StopInstancesCommand
} from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EC2_NS, startEc2Peer, type Ec2Peer } from './ec2.ts';
import { startStsPeer, type StsPeer, type StsUser } from './sts.ts';

type Keys = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

describe('the EC2 peer against the real AWS SDK', () => {
  let sts: StsPeer;
  let ec2: Ec2Peer;
  let admin: StsUser;

  beforeAll(async () => {
    sts = await startStsPeer();
    ec2 = await startEc2Peer(sts);
  });
  afterAll(async () => {
    await ec2.close();
    await sts.close();
  });
  beforeEach(() => {
    ec2.reset();
    ec2.settleAfterDescribes = 1;
    admin = sts.sts.addUser({ name: `admin-${Math.random().toString(36).slice(2, 8)}` });
    ec2.iam.allow(admin.arn, ['ec2:*']);
  });

  const client = (keys: Keys) =>
    new EC2Client({ region: 'us-east-1', endpoint: ec2.url, credentials: keys, maxAttempts: 1, ignoreConfiguredEndpointUrls: true });
  const failure = async (p: Promise<unknown>) =>
    p.then(
      () => ({ name: 'no error', status: 0, message: '' }),
      (e: { name?: string; message?: string; $metadata?: { httpStatusCode?: number } }) => ({
        name: e.name,
        status: e.$metadata?.httpStatusCode,
        message: e.message ?? ''
      })
    );
  /** A correctly signed raw POST, to read the peer's wire format. */
  const signedPost = async (keys: Keys, body: string) => {
    const url = new URL(ec2.url);
    const signer = new SignatureV4({ credentials: keys, region: 'us-east-1', service: 'ec2', sha256: Hash.bind(null, 'sha256') });
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded' },
      body
    });
    return fetch(ec2.url, { method: 'POST', headers: signed.headers as Record<string, string>, body });
  };

  it('listens on 127.0.0.1 only', () => {
    expect(new URL(ec2.url).hostname).toBe('127.0.0.1');
  });

  it('answers a signed DescribeInstances with the instances as seeded', async () => {
    const vpc = ec2.addVpc({ ipv6: true });
    const subnet = ec2.addSubnet(vpc.vpcId);
    const web = ec2.addSecurityGroup(vpc.vpcId, 'web');
    const i = ec2.addInstance({ subnetId: subnet.subnetId, interfaces: 2, groups: [web.groupId], tags: { Name: 'host-1' }, ipv6: true });
    const r = await client(admin).send(new DescribeInstancesCommand({ InstanceIds: [i.instanceId] }));
    const got = r.Reservations?.[0]?.Instances?.[0];
    const eni0 = ec2.interfaces.get(i.networkInterfaceIds[0] ?? '');
    expect(got).toMatchObject({
      InstanceId: i.instanceId,
      State: { Code: 16, Name: 'running' },
      VpcId: vpc.vpcId,
      SubnetId: subnet.subnetId,
      PrivateIpAddress: eni0?.privateIpAddresses[0],
      Ipv6Address: eni0?.ipv6Addresses[0],
      SecurityGroups: [{ GroupId: web.groupId, GroupName: 'web' }],
      Tags: [{ Key: 'Name', Value: 'host-1' }]
    });
    expect(got?.LaunchTime).toBeInstanceOf(Date);
    expect(got?.NetworkInterfaces?.map((n) => [n.NetworkInterfaceId, n.Attachment?.DeviceIndex])).toEqual([
      [i.networkInterfaceIds[0], 0],
      [i.networkInterfaceIds[1], 1]
    ]);
    expect(r.Reservations?.[0]?.OwnerId).toBe('123456789012');
    // Filters: the instance-id filter, and one that matches nothing.
    const byFilter = await client(admin).send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: [i.instanceId] }] }));
    expect(byFilter.Reservations?.flatMap((x) => x.Instances?.map((y) => y.InstanceId))).toEqual([i.instanceId]);
    const none = await client(admin).send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:Name', Values: ['nope'] }] }));
    expect(none.Reservations).toEqual([]);
    expect(ec2.calls.at(-1)).toMatchObject({ action: 'DescribeInstances', principal: admin.arn, dryRun: false, outcome: 'ok' });
  });

  it('verifies the signature for real: a wrong secret, an unknown key, another service are AuthFailure (401)', async () => {
    expect(
      await failure(client({ ...admin, secretAccessKey: `${admin.secretAccessKey.slice(0, -1)}X` }).send(new DescribeInstancesCommand({})))
    ).toMatchObject({
      name: 'AuthFailure',
      status: 401,
      message: 'AWS was not able to validate the provided access credentials'
    });
    expect(await failure(client({ ...admin, accessKeyId: 'AKIAUNKNOWNUNKNOWN00' }).send(new DescribeInstancesCommand({})))).toMatchObject({
      name: 'AuthFailure'
    });
    const wrongRegion = new EC2Client({ region: 'eu-west-1', endpoint: ec2.url, credentials: admin, maxAttempts: 1 });
    expect((await failure(wrongRegion.send(new DescribeInstancesCommand({})))).name).toBe('AuthFailure');
    expect(ec2.calls.at(-1)).toMatchObject({ principal: null, outcome: 'AuthFailure' });
  });

  it('refuses a principal without an identity policy (UnauthorizedOperation, 403) and a forged or expired session', async () => {
    const nobody = sts.sts.addUser({ name: 'nobody' });
    const e = await failure(client(nobody).send(new DescribeInstancesCommand({})));
    expect(e).toMatchObject({ name: 'UnauthorizedOperation', status: 403 });
    expect(e.message).toBe(
      'You are not authorized to perform this operation. User: arn:aws:iam::123456789012:user/nobody is not authorized to perform: ec2:DescribeInstances because no identity-based policy allows the ec2:DescribeInstances action'
    );
    expect(e.message).not.toContain(nobody.accessKeyId);

    const role = sts.sts.addRole({ name: 'Reader', trusted: [admin.accessKeyId] });
    ec2.iam.allow(role, ['ec2:Describe*']);
    const s = sts.sts.issueSession(role);
    const keys = { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey, sessionToken: s.sessionToken };
    await client(keys).send(new DescribeInstancesCommand({}));
    expect((await failure(client({ ...keys, sessionToken: 'forged' }).send(new DescribeInstancesCommand({})))).name).toBe('AuthFailure');
    s.expiresAt = Date.now() - 1000;
    expect(await failure(client(keys).send(new DescribeInstancesCommand({})))).toMatchObject({ name: 'RequestExpired', status: 400 });
  });

  it('answers InvalidInstanceID.NotFound and InvalidInstanceID.Malformed', async () => {
    const e = await failure(client(admin).send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })));
    expect(e).toMatchObject({
      name: 'InvalidInstanceID.NotFound',
      status: 400,
      message: "The instance ID 'i-0123456789abcdef0' does not exist"
    });
    expect((await failure(client(admin).send(new DescribeInstancesCommand({ InstanceIds: ['i-nothex'] })))).name).toBe(
      'InvalidInstanceID.Malformed'
    );
  });

  it('DryRun answers DryRunOperation (412) when authorised, before the resource’s existence, and UnauthorizedOperation otherwise', async () => {
    const i = ec2.addInstance();
    expect(await failure(client(admin).send(new StopInstancesCommand({ InstanceIds: [i.instanceId], DryRun: true })))).toMatchObject({
      name: 'DryRunOperation',
      status: 412,
      message: 'Request would have succeeded, but DryRun flag is set.'
    });
    expect(ec2.instances.get(i.instanceId)?.state).toBe('running');
    expect((await failure(client(admin).send(new StopInstancesCommand({ InstanceIds: ['i-0000000000000000f'], DryRun: true })))).name).toBe(
      'DryRunOperation'
    );
    const reader = sts.sts.addUser();
    ec2.iam.allow(reader.arn, ['ec2:Describe*']);
    expect((await failure(client(reader).send(new DescribeInstancesCommand({ DryRun: true })))).name).toBe('DryRunOperation');
    expect(await failure(client(reader).send(new StopInstancesCommand({ InstanceIds: [i.instanceId], DryRun: true })))).toMatchObject({
      name: 'UnauthorizedOperation',
      status: 403
    });
    expect(ec2.calls.slice(-2).map((c) => [c.dryRun, c.outcome])).toEqual([
      [true, 'DryRunOperation'],
      [true, 'UnauthorizedOperation']
    ]);
  });

  it('a session’s inline policy limits it to one action on one instance', async () => {
    const a = ec2.addInstance();
    const b = ec2.addInstance();
    const role = sts.sts.addRole({ name: 'Isolator', trusted: [admin.accessKeyId] });
    ec2.iam.allow(role, ['ec2:*']);
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'ec2:StopInstances', Resource: ec2.arn('instance', a.instanceId) }]
    });
    const stsClient = new STSClient({ region: 'us-east-1', endpoint: sts.url, credentials: admin, maxAttempts: 1 });
    const r = await stsClient.send(
      new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'case-42', Policy: policy, Tags: [{ Key: 'case', Value: '42' }] })
    );
    const c = r.Credentials;
    const keys = { accessKeyId: c?.AccessKeyId ?? '', secretAccessKey: c?.SecretAccessKey ?? '', sessionToken: c?.SessionToken ?? '' };
    // The STS peer keeps what the session was issued with.
    expect(sts.sts.sessions.get(keys.accessKeyId)).toMatchObject({
      roleSessionName: 'case-42',
      policy,
      tags: { case: '42' },
      roleArn: role
    });
    expect(sts.sts.assumeRoleCalls.at(-1)?.tags).toEqual({ case: '42' });

    const stopped = await client(keys).send(new StopInstancesCommand({ InstanceIds: [a.instanceId] }));
    expect(stopped.StoppingInstances?.[0]).toMatchObject({ InstanceId: a.instanceId, CurrentState: { Name: 'stopping' } });
    const other = await failure(client(keys).send(new StopInstancesCommand({ InstanceIds: [b.instanceId] })));
    expect(other.name).toBe('UnauthorizedOperation');
    expect(other.message).toBe(
      `You are not authorized to perform this operation. User: arn:aws:sts::123456789012:assumed-role/Isolator/case-42 is not authorized to perform: ec2:StopInstances on resource: ${ec2.arn('instance', b.instanceId)} because no session policy allows the ec2:StopInstances action`
    );
    expect((await failure(client(keys).send(new StartInstancesCommand({ InstanceIds: [a.instanceId] })))).name).toBe(
      'UnauthorizedOperation'
    );
    expect((await failure(client(keys).send(new DescribeInstancesCommand({})))).name).toBe('UnauthorizedOperation');
    expect(ec2.calls.at(-1)).toMatchObject({ principal: 'arn:aws:sts::123456789012:assumed-role/Isolator/case-42', roleArn: role });
  });

  it('stop → poll → stopped, start → poll → running; stopping a stopped instance changes nothing', async () => {
    ec2.settleAfterDescribes = 2;
    const i = ec2.addInstance();
    const ec = client(admin);
    const stop = await ec.send(new StopInstancesCommand({ InstanceIds: [i.instanceId] }));
    expect(stop.StoppingInstances?.[0]).toMatchObject({
      CurrentState: { Code: 64, Name: 'stopping' },
      PreviousState: { Code: 16, Name: 'running' }
    });
    const poll = async () =>
      (await ec.send(new DescribeInstancesCommand({ InstanceIds: [i.instanceId] }))).Reservations?.[0]?.Instances?.[0]?.State?.Name;
    expect(await poll()).toBe('stopping');
    expect(await poll()).toBe('stopped');
    const again = await ec.send(new StopInstancesCommand({ InstanceIds: [i.instanceId] }));
    expect(again.StoppingInstances?.[0]).toMatchObject({
      CurrentState: { Code: 80, Name: 'stopped' },
      PreviousState: { Code: 80, Name: 'stopped' }
    });
    const start = await ec.send(new StartInstancesCommand({ InstanceIds: [i.instanceId] }));
    expect(start.StartingInstances?.[0]).toMatchObject({ CurrentState: { Code: 0, Name: 'pending' }, PreviousState: { Name: 'stopped' } });
    expect(await poll()).toBe('pending');
    expect(await poll()).toBe('running');
  });

  it('DescribeNetworkInterfaces and ModifyNetworkInterfaceAttribute round-trip; a group of another VPC is InvalidGroup.NotFound', async () => {
    const vpc = ec2.addVpc();
    const subnet = ec2.addSubnet(vpc.vpcId);
    const i = ec2.addInstance({ subnetId: subnet.subnetId, interfaces: 2 });
    const ec = client(admin);
    const r = await ec.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [i.instanceId] }] })
    );
    const defaultSg = ec2.defaultSecurityGroup(vpc.vpcId);
    expect(r.NetworkInterfaces?.map((n) => n.NetworkInterfaceId)).toEqual(i.networkInterfaceIds);
    expect(r.NetworkInterfaces?.[1]).toMatchObject({
      SubnetId: subnet.subnetId,
      VpcId: vpc.vpcId,
      Status: 'in-use',
      Attachment: { InstanceId: i.instanceId, DeviceIndex: 1, Status: 'attached' },
      Groups: [{ GroupId: defaultSg.groupId, GroupName: 'default' }],
      PrivateIpAddress: ec2.interfaces.get(i.networkInterfaceIds[1] ?? '')?.privateIpAddresses[0]
    });
    const quarantine = ec2.addSecurityGroup(vpc.vpcId, 'quarantine');
    const eniId = i.networkInterfaceIds[0] ?? '';
    await ec.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Groups: [quarantine.groupId] }));
    const after = await ec.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }));
    expect(after.NetworkInterfaces?.[0]?.Groups).toEqual([{ GroupId: quarantine.groupId, GroupName: 'quarantine' }]);
    const elsewhere = ec2.addSecurityGroup(ec2.addVpc().vpcId, 'elsewhere');
    const e = await failure(
      ec.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Groups: [elsewhere.groupId] }))
    );
    expect(e).toMatchObject({
      name: 'InvalidGroup.NotFound',
      message: `The security group '${elsewhere.groupId}' does not exist in VPC '${vpc.vpcId}'`
    });
    expect((await failure(ec.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ['eni-0123456789abcdef0'] })))).name).toBe(
      'InvalidNetworkInterfaceID.NotFound'
    );
  });

  it('CreateSecurityGroup, DescribeSecurityGroups, CreateTags and RevokeSecurityGroupEgress round-trip', async () => {
    const vpc = ec2.addVpc();
    const ec = client(admin);
    const created = await ec.send(
      new CreateSecurityGroupCommand({
        GroupName: 'isolation',
        Description: 'no traffic',
        VpcId: vpc.vpcId,
        TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'purpose', Value: 'ir' }] }]
      })
    );
    expect(created.GroupId).toMatch(/^sg-[0-9a-f]{17}$/);
    expect(created.Tags).toEqual([{ Key: 'purpose', Value: 'ir' }]);
    expect(
      (await failure(ec.send(new CreateSecurityGroupCommand({ GroupName: 'isolation', Description: 'x', VpcId: vpc.vpcId })))).name
    ).toBe('InvalidGroup.Duplicate');
    const found = await ec.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpc.vpcId] },
          { Name: 'tag:purpose', Values: ['ir'] }
        ]
      })
    );
    expect(found.SecurityGroups).toHaveLength(1);
    expect(found.SecurityGroups?.[0]).toMatchObject({
      GroupId: created.GroupId,
      GroupName: 'isolation',
      Description: 'no traffic',
      VpcId: vpc.vpcId,
      OwnerId: '123456789012',
      IpPermissions: [],
      IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }]
    });
    const byName = await ec.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['isolation'] }] }));
    expect(byName.SecurityGroups?.map((g) => g.GroupId)).toEqual([created.GroupId]);

    await ec.send(new CreateTagsCommand({ Resources: [created.GroupId ?? ''], Tags: [{ Key: 'case', Value: '7' }] }));
    expect(ec2.securityGroups.get(created.GroupId ?? '')?.tags).toEqual({ purpose: 'ir', case: '7' });
    const i = ec2.addInstance();
    await ec.send(new CreateTagsCommand({ Resources: [i.instanceId], Tags: [{ Key: 'quarantined', Value: 'yes' }] }));
    const tagged = await ec.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:quarantined', Values: ['yes'] }] }));
    expect(tagged.Reservations?.[0]?.Instances?.[0]?.InstanceId).toBe(i.instanceId);

    const revoke = () =>
      ec.send(
        new RevokeSecurityGroupEgressCommand({
          GroupId: created.GroupId,
          IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }]
        })
      );
    const revoked = await revoke();
    expect(revoked.Return).toBe(true);
    expect(revoked.RevokedSecurityGroupRules?.[0]).toMatchObject({
      GroupId: created.GroupId,
      IsEgress: true,
      IpProtocol: '-1',
      CidrIpv4: '0.0.0.0/0'
    });
    expect(ec2.securityGroups.get(created.GroupId ?? '')?.egress).toEqual([]);
    expect(await failure(revoke())).toMatchObject({ name: 'InvalidPermission.NotFound', status: 400 });
  });

  it('DescribeNetworkAcls, CreateNetworkAclEntry and DeleteNetworkAclEntry round-trip', async () => {
    const vpc = ec2.addVpc();
    const subnet = ec2.addSubnet(vpc.vpcId);
    const ec = client(admin);
    const r = await ec.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [subnet.subnetId] }] }));
    expect(r.NetworkAcls).toHaveLength(1);
    const acl = r.NetworkAcls?.[0];
    expect(acl).toMatchObject({
      VpcId: vpc.vpcId,
      IsDefault: true,
      Associations: [{ SubnetId: subnet.subnetId, NetworkAclId: acl?.NetworkAclId }]
    });
    expect(acl?.Entries?.filter((e) => !e.Egress).map((e) => [e.RuleNumber, e.RuleAction, e.Protocol, e.CidrBlock])).toEqual([
      [100, 'allow', '-1', '0.0.0.0/0'],
      [32767, 'deny', '-1', '0.0.0.0/0']
    ]);
    const aclId = acl?.NetworkAclId ?? '';
    const byDefault = await ec.send(
      new DescribeNetworkAclsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpc.vpcId] },
          { Name: 'default', Values: ['true'] }
        ]
      })
    );
    expect(byDefault.NetworkAcls?.map((a) => a.NetworkAclId)).toEqual([aclId]);

    const entry = {
      NetworkAclId: aclId,
      RuleNumber: 10,
      Protocol: '6',
      RuleAction: 'deny' as const,
      Egress: false,
      CidrBlock: '203.0.113.7/32'
    };
    await ec.send(new CreateNetworkAclEntryCommand({ ...entry, PortRange: { From: 22, To: 22 } }));
    const after = await ec.send(new DescribeNetworkAclsCommand({ NetworkAclIds: [aclId] }));
    expect(after.NetworkAcls?.[0]?.Entries?.find((e) => e.RuleNumber === 10)).toEqual({
      RuleNumber: 10,
      Protocol: '6',
      RuleAction: 'deny',
      Egress: false,
      CidrBlock: '203.0.113.7/32',
      PortRange: { From: 22, To: 22 }
    });
    expect((await failure(ec.send(new CreateNetworkAclEntryCommand({ ...entry, PortRange: { From: 1, To: 2 } })))).name).toBe(
      'NetworkAclEntryAlreadyExists'
    );
    await ec.send(new DeleteNetworkAclEntryCommand({ NetworkAclId: aclId, RuleNumber: 10, Egress: false }));
    expect(ec2.networkAcls.get(aclId)?.entries.some((e) => e.ruleNumber === 10)).toBe(false);
    expect((await failure(ec.send(new DeleteNetworkAclEntryCommand({ NetworkAclId: aclId, RuleNumber: 10, Egress: false })))).name).toBe(
      'InvalidNetworkAclEntry.NotFound'
    );
  });

  it('limits a network ACL to 20 rules per direction (NetworkAclEntryLimitExceeded), the default * rules aside', async () => {
    const vpc = ec2.addVpc();
    const aclId = ec2.networkAclOf(ec2.addSubnet(vpc.vpcId).subnetId).networkAclId;
    const ec = client(admin);
    const add = (n: number, egress: boolean) =>
      ec.send(
        new CreateNetworkAclEntryCommand({
          NetworkAclId: aclId,
          RuleNumber: n,
          Protocol: '-1',
          RuleAction: 'deny',
          Egress: egress,
          CidrBlock: `198.51.100.${n}/32`
        })
      );
    // Rule 100 (allow all) is one of the 20: 19 more fit.
    for (let n = 1; n <= 19; n++) await add(n, false);
    expect(await failure(add(20, false))).toMatchObject({ name: 'NetworkAclEntryLimitExceeded', status: 400 });
    await add(20, true);
    expect(ec2.networkAcls.get(aclId)?.entries.filter((e) => !e.egress)).toHaveLength(21);
  });

  it('speaks EC2’s XML: the response namespace, the error shape, InvalidAction', async () => {
    ec2.addInstance();
    const ok = await signedPost(admin, 'Action=DescribeInstances&Version=2016-11-15');
    expect(ok.status).toBe(200);
    const xml = await ok.text();
    expect(xml).toMatch(
      new RegExp(
        `^<\\?xml version="1.0" encoding="UTF-8"\\?>\\n<DescribeInstancesResponse xmlns="${EC2_NS}"><requestId>[0-9a-f-]{36}</requestId><reservationSet><item>`
      )
    );
    const bad = await signedPost(admin, 'Action=LaunchMissiles&Version=2016-11-15');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Response><Errors><Error><Code>InvalidAction<\/Code><Message>The action LaunchMissiles is not valid for this web service.<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>$/
    );
  });

  it('answers the harness faults and throttling in EC2’s words, and honours latency', async () => {
    const ec = client(admin);
    for (const [fault, name] of [
      ['wrong_secret', 'AuthFailure'],
      ['revoked', 'AuthFailure'],
      ['expired', 'RequestExpired'],
      ['rate_limited', 'RequestLimitExceeded'],
      ['server_error', 'InternalError']
    ] as const) {
      ec2.reset();
      ec2.setFault(fault);
      expect((await failure(ec.send(new DescribeInstancesCommand({})))).name).toBe(name);
    }
    ec2.reset();
    ec2.throttle(1);
    expect(await failure(ec.send(new DescribeInstancesCommand({})))).toMatchObject({ name: 'RequestLimitExceeded', status: 503 });
    await ec.send(new DescribeInstancesCommand({}));
    ec2.control.latencyMs = 50;
    const t0 = performance.now();
    await ec.send(new DescribeInstancesCommand({}));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
    ec2.control.latencyMs = 0;
  });
});
