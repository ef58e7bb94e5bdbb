import {
  CreateNetworkAclEntryCommand,
  CreateSecurityGroupCommand,
  DeleteNetworkAclEntryCommand,
  DescribeInstancesCommand,
  DescribeNetworkAclsCommand,
  DescribeSecurityGroupsCommand,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  type EC2Client,
  type Instance,
  type NetworkAcl
} from '@aws-sdk/client-ec2';
import {
  ActionError,
  RevertDrift,
  type ActionContext,
  type ActionInput,
  type ActionResult,
  type JsonObject,
  type ProviderCapabilities,
  type RevertResult
} from '../plugin.ts';
import { ec2Client, ec2Failure, narrowedSession, roleAccount, sourceKeys, type AwsKeys } from './ec2.ts';
import { INSTANCE_ARN_RE, INSTANCE_ID_RE, SCOPE_RE, type AwsHostCapability } from './spec.ts';

/**
 * isolate, block_ip and power on EC2 (PROVIDERS.md, "Host capabilities"). Each reads what it is about to change,
 * records that as the revert context before the first change, and leaves in the final revert context the state it
 * made (`after`), so a revert can tell the resource changed since (drift) and refuse to overwrite that.
 */

export const QUARANTINE_GROUP = 'keydesk-quarantine';
const QUARANTINE_TAG = 'keydesk:quarantine';
/** How long a stop or start is polled for (EC2 stops most instances within a minute or two). */
const POLLS = 40;
const POLL_MS = 5_000;

interface Target {
  instanceId: string;
  region: string;
  partition: string;
  account: string | null;
}

function parseInstance(target: string, ctx: Pick<ActionContext, 'credential'>): Target {
  const arn = INSTANCE_ARN_RE.exec(target);
  const role = roleAccount(ctx.credential.fields.role_arn);
  if (arn) return { partition: arn[1]!, region: arn[2]!, account: arn[3]!, instanceId: arn[4]! };
  return {
    instanceId: target,
    region: ctx.credential.fields.region ?? 'us-east-1',
    partition: role?.partition ?? 'aws',
    account: role?.account ?? null
  };
}

const instanceCheck = (input: ActionInput): string | null =>
  INSTANCE_ID_RE.test(input.target) || INSTANCE_ARN_RE.test(input.target)
    ? null
    : 'An EC2 instance is named by its id (i-0123456789abcdef0) or its ARN (arn:aws:ec2:REGION:ACCOUNT:instance/i-…).';

/** One EC2 connection for a run: a narrowed role session (assume_role), or the credential's own keys. */
interface Ec2 {
  client: EC2Client;
  send<T>(action: string, what: string, command: unknown): Promise<T>;
  close(): void;
}

async function connect(ctx: ActionContext, capability: AwsHostCapability, region: string, resources: string[]): Promise<Ec2> {
  let keys: AwsKeys;
  if (ctx.credential.mode === 'assume_role') {
    const s = await narrowedSession(ctx.credential, ctx.http, ctx.signal, ctx.run, capability, resources);
    ctx.session({ name: s.name, expiresAt: s.expiresAt, kind: 'AWS role session (AssumeRole, narrowed to this run)' });
    keys = s.keys;
  } else {
    keys = sourceKeys(ctx.credential);
  }
  const client = ec2Client(ctx.credential, ctx.http, keys, region);
  return {
    client,
    async send<T>(action: string, what: string, command: unknown): Promise<T> {
      ctx.step(`EC2 ${action}${what ? ` (${what})` : ''}`);
      try {
        return (await client.send(command as Parameters<EC2Client['send']>[0], { abortSignal: ctx.signal })) as T;
      } catch (e) {
        throw ec2Failure(e, action, what);
      }
    },
    close: () => client.destroy()
  };
}

function arnOf(t: Pick<Target, 'partition' | 'region' | 'account'>, type: string, id = '*'): string {
  return `arn:${t.partition}:ec2:${t.region}:${t.account ?? '*'}:${type}/${id}`;
}

async function describeInstance(ec2: Ec2, id: string): Promise<Instance> {
  const r = await ec2.send<{ Reservations?: { Instances?: Instance[] }[] }>(
    'DescribeInstances',
    id,
    new DescribeInstancesCommand({ InstanceIds: [id] })
  );
  const i = r.Reservations?.flatMap((x) => x.Instances ?? []).find((x) => x.InstanceId === id);
  if (!i) throw new ActionError('inventory_not_found', 'InvalidInstanceID.NotFound', `EC2 instance ${id} does not exist in this region.`);
  return i;
}

// ---------------------------------------------------------------------------------------------------- network ACLs

interface AclEntry {
  acl_id: string;
  rule_number: number;
  egress: boolean;
  cidr: string;
}

function entryCidr(e: { CidrBlock?: string | undefined; Ipv6CidrBlock?: string | undefined }): string | null {
  return e.CidrBlock ?? e.Ipv6CidrBlock ?? null;
}

function asCidr(address: string): string {
  if (address.includes('/')) return address;
  return address.includes(':') ? `${address}/128` : `${address}/32`;
}

/**
 * Deny entries to add to one ACL for these blocks, in and out: a block already denied in that direction is skipped;
 * each new entry takes the lowest free rule number below the ACL's lowest allow rule (rules are evaluated lowest
 * first, so a deny after an allow would do nothing).
 */
function planDenies(acl: NetworkAcl, cidrs: readonly string[]): { planned: AclEntry[]; already: string[] } {
  const planned: AclEntry[] = [];
  const already: string[] = [];
  for (const egress of [false, true]) {
    const entries = (acl.Entries ?? []).filter((e) => e.Egress === egress);
    const used = new Set(entries.map((e) => e.RuleNumber));
    const firstAllow = Math.min(32766, ...entries.filter((e) => e.RuleAction === 'allow').map((e) => e.RuleNumber ?? 32766));
    let next = 1;
    for (const cidr of cidrs) {
      if (entries.some((e) => e.RuleAction === 'deny' && entryCidr(e) === cidr && (e.RuleNumber ?? 0) < firstAllow)) {
        already.push(`${cidr} ${egress ? 'out' : 'in'} (${acl.NetworkAclId})`);
        continue;
      }
      while (used.has(next)) next++;
      if (next >= firstAllow)
        throw new ActionError(
          'cloud_api_error',
          'NO_FREE_RULE_NUMBER',
          `Network ACL ${acl.NetworkAclId} has no free rule number below its first allow rule (${firstAllow}); free one, then run again.`
        );
      used.add(next);
      planned.push({ acl_id: acl.NetworkAclId!, rule_number: next, egress, cidr });
    }
  }
  return { planned, already };
}

async function addDenies(ec2: Ec2, planned: readonly AclEntry[]): Promise<void> {
  for (const e of planned) {
    const v6 = e.cidr.includes(':');
    await ec2.send(
      'CreateNetworkAclEntry',
      `${e.acl_id} #${e.rule_number} ${e.egress ? 'out' : 'in'} deny ${e.cidr}`,
      new CreateNetworkAclEntryCommand({
        NetworkAclId: e.acl_id,
        RuleNumber: e.rule_number,
        Protocol: '-1',
        RuleAction: 'deny',
        Egress: e.egress,
        ...(v6 ? { Ipv6CidrBlock: e.cidr } : { CidrBlock: e.cidr })
      })
    );
  }
}

/** What differs between the entries a run added and the ACLs now (an entry replaced by someone else's). */
function aclDrift(acls: readonly NetworkAcl[], entries: readonly AclEntry[]): { drift: string[]; present: AclEntry[] } {
  const drift: string[] = [];
  const present: AclEntry[] = [];
  for (const e of entries) {
    const acl = acls.find((a) => a.NetworkAclId === e.acl_id);
    const now = acl?.Entries?.find((x) => x.RuleNumber === e.rule_number && x.Egress === e.egress);
    if (!now) continue; // already removed: nothing to delete
    if (now.RuleAction !== 'deny' || entryCidr(now) !== e.cidr) {
      drift.push(
        `${e.acl_id} rule ${e.rule_number} (${e.egress ? 'out' : 'in'}) is now ${now.RuleAction ?? '?'} ${entryCidr(now) ?? '?'}, not the deny ${e.cidr} this run added`
      );
      continue;
    }
    present.push(e);
  }
  return { drift, present };
}

async function deleteEntries(ec2: Ec2, entries: readonly AclEntry[]): Promise<void> {
  for (const e of entries) {
    await ec2.send(
      'DeleteNetworkAclEntry',
      `${e.acl_id} #${e.rule_number} ${e.egress ? 'out' : 'in'}`,
      new DeleteNetworkAclEntryCommand({ NetworkAclId: e.acl_id, RuleNumber: e.rule_number, Egress: e.egress })
    );
  }
}

async function describeAcls(ec2: Ec2, filter: { vpc?: string; ids?: string[] }): Promise<NetworkAcl[]> {
  const r = await ec2.send<{ NetworkAcls?: NetworkAcl[] }>(
    'DescribeNetworkAcls',
    filter.vpc ?? filter.ids?.join(', ') ?? '',
    new DescribeNetworkAclsCommand(filter.ids ? { NetworkAclIds: filter.ids } : { Filters: [{ Name: 'vpc-id', Values: [filter.vpc!] }] })
  );
  return r.NetworkAcls ?? [];
}

/** `a` and then those of `b` not at the same ACL, rule number and direction. */
function mergeEntries(a: readonly AclEntry[], b: readonly AclEntry[]): AclEntry[] {
  const key = (e: AclEntry) => `${e.acl_id}/${e.rule_number}/${e.egress}`;
  const seen = new Set(a.map(key));
  return [...a, ...b.filter((e) => !seen.has(key(e)))];
}

function entriesOf(v: unknown): AclEntry[] {
  if (!Array.isArray(v)) return [];
  return v.filter(
    (e): e is AclEntry =>
      !!e &&
      typeof e === 'object' &&
      typeof (e as AclEntry).acl_id === 'string' &&
      /^acl-[0-9a-f]{8,17}$/.test((e as AclEntry).acl_id) &&
      Number.isInteger((e as AclEntry).rule_number) &&
      typeof (e as AclEntry).egress === 'boolean' &&
      typeof (e as AclEntry).cidr === 'string'
  );
}

const jsonEntries = (entries: readonly AclEntry[]): JsonObject[] => entries.map((e) => ({ ...e }));

// ---------------------------------------------------------------------------------------------------- isolate

interface InterfaceState {
  id: string;
  groups: string[];
}

async function isolate(ctx: ActionContext, input: ActionInput): Promise<ActionResult> {
  const t = parseInstance(input.target, ctx);
  const cut = input.options.cut_connections !== false;
  const ec2 = await connect(ctx, 'isolate', t.region, [
    arnOf(t, 'network-interface'),
    arnOf(t, 'security-group'),
    arnOf(t, 'vpc'),
    arnOf(t, 'network-acl')
  ]);
  try {
    const instance = await describeInstance(ec2, t.instanceId);
    const vpc = instance.VpcId;
    const subnet = instance.SubnetId;
    const enis = instance.NetworkInterfaces ?? [];
    if (!vpc || enis.length === 0)
      throw new ActionError('input_invalid', 'NO_VPC', `Instance ${t.instanceId} has no VPC network interface to isolate.`);
    const before: InterfaceState[] = enis.map((n) => ({ id: n.NetworkInterfaceId!, groups: (n.Groups ?? []).map((g) => g.GroupId!) }));
    const addresses = enis.flatMap((n) => [
      ...(n.PrivateIpAddresses ?? []).map((a) => a.PrivateIpAddress).filter((a): a is string => !!a),
      ...(n.Ipv6Addresses ?? []).map((a) => a.Ipv6Address).filter((a): a is string => !!a)
    ]);
    const groups = await ec2.send<{ SecurityGroups?: { GroupId?: string }[] }>(
      'DescribeSecurityGroups',
      `${QUARANTINE_GROUP} in ${vpc}`,
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpc] },
          { Name: 'group-name', Values: [QUARANTINE_GROUP] }
        ]
      })
    );
    let quarantine = groups.SecurityGroups?.[0]?.GroupId ?? null;
    const prior = ctx.previousRevertContext;
    // A resumed attempt: the interfaces' groups it recorded are the true prior state (it may have swapped some).
    const priorInterfaces = prior && Array.isArray(prior.interfaces) ? interfacesOf(prior.interfaces) : null;
    const interfaces = priorInterfaces ?? before;
    // Deny entries the earlier attempt added are this run's to undo too (they read as "already there" below).
    const inherited = entriesOf(prior?.acl_entries);
    if (quarantine && before.every((n) => n.groups.length === 1 && n.groups[0] === quarantine) && !priorInterfaces) {
      const rc = { instance_id: t.instanceId, region: t.region, already_isolated: true, quarantine_group_id: quarantine };
      ctx.captureRevert(rc);
      return {
        summary: `${t.instanceId} is already isolated (every interface is in ${quarantine}); nothing was changed, and a revert will change nothing.`,
        details: { instance_id: t.instanceId, quarantine_group_id: quarantine },
        revertContext: rc
      };
    }
    const rc: JsonObject = {
      instance_id: t.instanceId,
      region: t.region,
      vpc_id: vpc,
      subnet_id: subnet ?? null,
      interfaces: interfaces.map((n) => ({ id: n.id, groups: n.groups })),
      quarantine_group_id: quarantine,
      group_created: false,
      cut_connections: cut,
      acl_entries: jsonEntries(inherited)
    };
    ctx.captureRevert(rc);

    if (!quarantine) {
      const created = await ec2.send<{ GroupId?: string }>(
        'CreateSecurityGroup',
        `${QUARANTINE_GROUP} in ${vpc}`,
        new CreateSecurityGroupCommand({
          GroupName: QUARANTINE_GROUP,
          Description: 'Keydesk quarantine: no inbound or outbound rules',
          VpcId: vpc,
          TagSpecifications: [
            {
              ResourceType: 'security-group',
              Tags: [
                { Key: QUARANTINE_TAG, Value: 'true' },
                { Key: 'Name', Value: QUARANTINE_GROUP }
              ]
            }
          ]
        })
      );
      if (!created.GroupId) throw new ActionError('cloud_api_error', 'MALFORMED_RESPONSE', 'EC2 created the group without an id.');
      quarantine = created.GroupId;
      ctx.captureRevert({ ...rc, quarantine_group_id: quarantine, group_created: true });
      // A new group allows all outbound traffic: the quarantine group allows nothing.
      await ec2.send(
        'RevokeSecurityGroupEgress',
        `${quarantine} allow-all egress`,
        new RevokeSecurityGroupEgressCommand({
          GroupId: quarantine,
          IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }]
        })
      );
    }
    const q = quarantine;
    for (const n of before) {
      if (n.groups.length === 1 && n.groups[0] === q) continue;
      await ec2.send(
        'ModifyNetworkInterfaceAttribute',
        `${n.id} → ${q}`,
        new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: n.id, Groups: [q] })
      );
    }

    // Security groups do not cut connections already tracked. Network ACLs are stateless: deny entries for the host's
    // addresses in the ACLs of the VPC's other subnets cut its connections to them at once. Its own subnet's ACL cannot
    // (an ACL matches the source of inbound and the destination of outbound traffic, never the host's own address as
    // the sender of what leaves its subnet), so connections to the internet already open last until they time out.
    let added: AclEntry[] = [];
    let already: string[] = [];
    let acls: string[] = [];
    if (cut && addresses.length) {
      const others = (await describeAcls(ec2, { vpc })).filter((a) =>
        (a.Associations ?? []).some((s) => s.SubnetId && s.SubnetId !== subnet)
      );
      acls = others.map((a) => a.NetworkAclId!);
      const plans = others.map((a) => planDenies(a, addresses.map(asCidr)));
      const planned = plans.flatMap((p) => p.planned);
      already = plans.flatMap((p) => p.already);
      ctx.captureRevert({
        ...rc,
        quarantine_group_id: q,
        group_created: rc.group_created || q !== rc.quarantine_group_id,
        acl_entries: jsonEntries(mergeEntries(planned, inherited))
      });
      await addDenies(ec2, planned);
      added = planned;
    }
    const final: JsonObject = {
      ...rc,
      quarantine_group_id: q,
      group_created: q !== rc.quarantine_group_id || rc.group_created === true,
      acl_entries: jsonEntries(mergeEntries(added, inherited)),
      after: { groups: [q] }
    };
    const cutText = !cut
      ? ' Existing connections were not cut (cut_connections=no): connections already open continue until they time out.'
      : addresses.length === 0
        ? ''
        : acls.length === 0
          ? ' No other subnet of the VPC has a network ACL to cut connections in; connections already open (to the internet included) continue until they time out.'
          : ` Cut existing connections to the VPC’s other subnets: ${added.length} deny entries for ${addresses.join(', ')} in ${acls.join(', ')}${already.length ? ` (${already.length} already there)` : ''}. Connections to the internet already open continue until they time out: stop the instance (power) to end them.`;
    return {
      summary: `Isolated ${t.instanceId}: ${before.length} interface(s) moved to ${q} (no inbound or outbound rules).${cutText}`,
      details: {
        instance_id: t.instanceId,
        quarantine_group_id: q,
        interfaces: before.map((n) => ({ id: n.id, before: n.groups, after: [q] })),
        cut_acl_entries: jsonEntries(added)
      },
      revertContext: final
    };
  } finally {
    ec2.close();
  }
}

function interfacesOf(v: unknown): InterfaceState[] | null {
  if (!Array.isArray(v)) return null;
  const out: InterfaceState[] = [];
  for (const n of v) {
    const o = n as { id?: unknown; groups?: unknown };
    if (typeof o?.id !== 'string' || !/^eni-[0-9a-f]{8,17}$/.test(o.id) || !Array.isArray(o.groups)) return null;
    const groups = o.groups.filter((g): g is string => typeof g === 'string' && /^sg-[0-9a-f]{8,17}$/.test(g));
    if (groups.length !== o.groups.length || groups.length === 0) return null;
    out.push({ id: o.id, groups });
  }
  return out;
}

async function unisolate(ctx: ActionContext, rc: JsonObject, input: ActionInput): Promise<RevertResult> {
  if (rc.already_isolated === true) return { summary: `Nothing to undo: ${input.target} was already isolated before this run.` };
  const t = parseInstance(input.target, ctx);
  const interfaces = interfacesOf(rc.interfaces);
  const q = typeof rc.quarantine_group_id === 'string' ? rc.quarantine_group_id : null;
  if (!interfaces || rc.instance_id !== t.instanceId)
    throw new ActionError(
      'input_invalid',
      'NO_REVERT_CONTEXT',
      'The revert context does not say which groups the interfaces had; restore them by hand.'
    );
  const entries = entriesOf(rc.acl_entries);
  const ec2 = await connect(ctx, 'isolate', t.region, [arnOf(t, 'network-interface'), arnOf(t, 'security-group'), arnOf(t, 'network-acl')]);
  try {
    const instance = await describeInstance(ec2, t.instanceId);
    const now = new Map((instance.NetworkInterfaces ?? []).map((n) => [n.NetworkInterfaceId!, (n.Groups ?? []).map((g) => g.GroupId!)]));
    const drift: string[] = [];
    for (const n of interfaces) {
      const groups = now.get(n.id);
      if (!groups) drift.push(`${n.id} is no longer attached to ${t.instanceId}`);
      else if (q !== null && !(groups.length === 1 && groups[0] === q) && groups.join(',') !== n.groups.join(','))
        drift.push(`${n.id} is now in ${groups.join(', ') || 'no group'}, not in ${q} as this run left it`);
    }
    const acls = entries.length ? await describeAcls(ec2, { ids: [...new Set(entries.map((e) => e.acl_id))] }) : [];
    const acl = aclDrift(acls, entries);
    drift.push(...acl.drift);
    if (drift.length && !ctx.force) throw new RevertDrift(drift);
    let restored = 0;
    for (const n of interfaces) {
      const groups = now.get(n.id);
      if (!groups || groups.join(',') === n.groups.join(',')) continue;
      await ec2.send(
        'ModifyNetworkInterfaceAttribute',
        `${n.id} → ${n.groups.join(', ')}`,
        new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: n.id, Groups: n.groups })
      );
      restored++;
    }
    const toDelete = ctx.force
      ? entries.filter((e) =>
          acls.some((a) => a.Entries?.some((x) => x.RuleNumber === e.rule_number && x.Egress === e.egress && a.NetworkAclId === e.acl_id))
        )
      : acl.present;
    await deleteEntries(ec2, toDelete);
    return {
      summary: `Restored the security groups of ${restored} interface(s) of ${t.instanceId}${toDelete.length ? ` and removed ${toDelete.length} network ACL deny entries` : ''}.${q ? ` The quarantine group ${q} is kept for the next isolation.` : ''}${drift.length ? ` Forced over: ${drift.join('; ')}.` : ''}`,
      details: { interfaces: interfaces.map((n) => ({ id: n.id, groups: n.groups })), removed_acl_entries: jsonEntries(toDelete) }
    };
  } finally {
    ec2.close();
  }
}

// ---------------------------------------------------------------------------------------------------- block_ip

async function blockIp(ctx: ActionContext, input: ActionInput): Promise<ActionResult> {
  const scope = input.scope ?? '';
  const region = ctx.credential.fields.region ?? 'us-east-1';
  const role = roleAccount(ctx.credential.fields.role_arn);
  const t = { partition: role?.partition ?? 'aws', region, account: role?.account ?? null };
  const cidr = asCidr(input.target);
  const ec2 = await connect(ctx, 'block_ip', region, [scope.startsWith('acl-') ? arnOf(t, 'network-acl', scope) : arnOf(t, 'network-acl')]);
  try {
    let acls: NetworkAcl[];
    if (scope.startsWith('acl-')) acls = await describeAcls(ec2, { ids: [scope] });
    else {
      const all = await describeAcls(ec2, { vpc: scope });
      // The ACLs traffic meets: those associated with a subnet (a VPC's subnets all have one, the default at least).
      acls = all.filter((a) => (a.Associations ?? []).length > 0);
      if (acls.length === 0 && all.length === 0)
        throw new ActionError(
          'inventory_not_found',
          'InvalidVpcID.NotFound',
          `VPC ${scope} does not exist in ${region} (or has no network ACL).`
        );
      if (acls.length === 0) acls = all.filter((a) => a.IsDefault);
    }
    if (acls.length === 0)
      throw new ActionError('inventory_not_found', 'InvalidNetworkAclID.NotFound', `Network ACL ${scope} does not exist in ${region}.`);
    const plans = acls.map((a) => planDenies(a, [cidr]));
    const planned = plans.flatMap((p) => p.planned);
    const already = plans.flatMap((p) => p.already);
    // An earlier identical run that stopped part-way: the entries it added are this run's to undo too.
    const earlier = ctx.previousRevertContext;
    const inherited = earlier && earlier.cidr === cidr ? entriesOf(earlier.acl_entries) : [];
    const entries = mergeEntries(planned, inherited);
    const base: JsonObject = { cidr, scope, region, acl_ids: acls.map((a) => a.NetworkAclId!), acl_entries: jsonEntries(entries) };
    if (planned.length === 0 && inherited.length === 0) {
      const rc = { ...base, acl_entries: [], already_blocked: true };
      ctx.captureRevert(rc);
      return {
        summary: `${cidr} is already blocked in ${acls.map((a) => a.NetworkAclId).join(', ')} (in and out); nothing was changed, and a revert will change nothing.`,
        details: { cidr, already: [...already] },
        revertContext: rc
      };
    }
    ctx.captureRevert(base);
    await addDenies(ec2, planned);
    return {
      summary: `Blocked ${cidr} in ${acls.map((a) => a.NetworkAclId).join(', ')}: ${planned.length} deny entries (${planned.map((e) => `#${e.rule_number} ${e.egress ? 'out' : 'in'}`).join(', ')})${already.length ? `; already denied: ${already.join(', ')}` : ''}${entries.length > planned.length ? `; ${entries.length - planned.length} entries of the earlier run kept, and undone with this one` : ''}.`,
      details: { cidr, entries: jsonEntries(entries) },
      revertContext: base
    };
  } finally {
    ec2.close();
  }
}

async function unblockIp(ctx: ActionContext, rc: JsonObject): Promise<RevertResult> {
  if (rc.already_blocked === true) return { summary: `Nothing to undo: ${String(rc.cidr)} was already blocked before this run.` };
  const entries = entriesOf(rc.acl_entries);
  if (entries.length === 0) throw new ActionError('input_invalid', 'NO_REVERT_CONTEXT', 'The revert context lists no network ACL entries.');
  const region = typeof rc.region === 'string' ? rc.region : (ctx.credential.fields.region ?? 'us-east-1');
  const role = roleAccount(ctx.credential.fields.role_arn);
  const t = { partition: role?.partition ?? 'aws', region, account: role?.account ?? null };
  const ids = [...new Set(entries.map((e) => e.acl_id))];
  const ec2 = await connect(
    ctx,
    'block_ip',
    region,
    ids.map((id) => arnOf(t, 'network-acl', id))
  );
  try {
    const acls = await describeAcls(ec2, { ids });
    const { drift, present } = aclDrift(acls, entries);
    if (drift.length && !ctx.force) throw new RevertDrift(drift);
    const remove = ctx.force
      ? entries.filter((e) =>
          acls.some((a) => a.NetworkAclId === e.acl_id && a.Entries?.some((x) => x.RuleNumber === e.rule_number && x.Egress === e.egress))
        )
      : present;
    await deleteEntries(ec2, remove);
    const gone = entries.length - remove.length - (ctx.force ? 0 : drift.length);
    return {
      summary: `Removed ${remove.length} deny entries for ${String(rc.cidr)}${gone > 0 ? ` (${gone} were already gone)` : ''}.${drift.length ? ` Forced over: ${drift.join('; ')}.` : ''}`,
      details: { removed: jsonEntries(remove) }
    };
  } finally {
    ec2.close();
  }
}

// ---------------------------------------------------------------------------------------------------- power

async function settle(ctx: ActionContext, ec2: Ec2, id: string, want: 'stopped' | 'running'): Promise<string> {
  let state = '';
  for (let i = 0; i < POLLS; i++) {
    state = (await describeInstance(ec2, id)).State?.Name ?? 'unknown';
    if (state === want || state === 'terminated') return state;
    await ctx.sleep(POLL_MS);
  }
  return state;
}

async function stop(ctx: ActionContext, input: ActionInput): Promise<ActionResult> {
  const t = parseInstance(input.target, ctx);
  const ec2 = await connect(ctx, 'power', t.region, [arnOf(t, 'instance', t.instanceId)]);
  try {
    const prior = (await describeInstance(ec2, t.instanceId)).State?.Name ?? 'unknown';
    const earlier = ctx.previousRevertContext;
    const priorState = earlier && typeof earlier.prior_state === 'string' ? earlier.prior_state : prior;
    if (prior === 'stopped' || prior === 'stopping' || prior === 'terminated' || prior === 'shutting-down') {
      const byThisRun = earlier?.stopped_by_this_run === true;
      const rc = { instance_id: t.instanceId, region: t.region, prior_state: priorState, stopped_by_this_run: byThisRun };
      ctx.captureRevert(rc);
      if (prior === 'terminated' || prior === 'shutting-down')
        throw new ActionError('input_invalid', 'IncorrectInstanceState', `Instance ${t.instanceId} is ${prior}: it cannot be stopped.`);
      return {
        summary: `${t.instanceId} was already ${prior}; nothing was done${byThisRun ? '' : ', and a revert will leave it stopped'}.`,
        details: { instance_id: t.instanceId, prior_state: prior },
        revertContext: rc
      };
    }
    // Recorded before the call: if the process dies after StopInstances, revert still knows it was this run's doing.
    ctx.captureRevert({ instance_id: t.instanceId, region: t.region, prior_state: priorState, stopped_by_this_run: true });
    await ec2.send('StopInstances', t.instanceId, new StopInstancesCommand({ InstanceIds: [t.instanceId] }));
    const final = await settle(ctx, ec2, t.instanceId, 'stopped');
    const rc = { instance_id: t.instanceId, region: t.region, prior_state: priorState, stopped_by_this_run: true, after: { state: final } };
    return {
      summary: `Stopped ${t.instanceId} (it was ${priorState}; now ${final}${final === 'stopped' ? '' : ', still settling'}).`,
      details: { instance_id: t.instanceId, prior_state: priorState, state: final },
      revertContext: rc
    };
  } finally {
    ec2.close();
  }
}

async function start(ctx: ActionContext, rc: JsonObject, input: ActionInput): Promise<RevertResult> {
  const t = parseInstance(input.target, ctx);
  if (rc.instance_id !== t.instanceId)
    throw new ActionError(
      'input_invalid',
      'NO_REVERT_CONTEXT',
      'The revert context names no instance; start it by hand in the EC2 console.'
    );
  if (rc.stopped_by_this_run !== true)
    return { summary: `Nothing to undo: ${t.instanceId} was already stopped before this run, so it stays stopped.` };
  const ec2 = await connect(ctx, 'power', t.region, [arnOf(t, 'instance', t.instanceId)]);
  try {
    const now = (await describeInstance(ec2, t.instanceId)).State?.Name ?? 'unknown';
    if (now === 'running' || now === 'pending')
      return { summary: `${t.instanceId} is already ${now}: someone started it since; nothing to do.` };
    if (now === 'terminated' || now === 'shutting-down') throw new RevertDrift([`${t.instanceId} is ${now}: it cannot be started again`]);
    if (now === 'stopping') await settle(ctx, ec2, t.instanceId, 'stopped');
    await ec2.send('StartInstances', t.instanceId, new StartInstancesCommand({ InstanceIds: [t.instanceId] }));
    const final = await settle(ctx, ec2, t.instanceId, 'running');
    return { summary: `Started ${t.instanceId} again (now ${final}).`, details: { instance_id: t.instanceId, state: final } };
  } finally {
    ec2.close();
  }
}

export const capabilities: ProviderCapabilities = {
  isolate: { checkInput: instanceCheck, execute: isolate, revert: unisolate, continuesUnfinished: true },
  block_ip: {
    checkInput: (input) =>
      input.scope !== null && !SCOPE_RE.test(input.scope)
        ? 'The AWS block_ip scope is a VPC id (vpc-…) or a network ACL id (acl-…).'
        : null,
    execute: blockIp,
    revert: (ctx, rc) => unblockIp(ctx, rc),
    continuesUnfinished: true
  },
  power: { checkInput: instanceCheck, execute: stop, revert: start, continuesUnfinished: true }
};
