import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { startPeer, type Peer, type PeerOptions } from './harness.ts';
import { MAX_SKEW_MS, queryOf, verifySigV4, type StsPeer, type StsSession, type StsUser } from './sts.ts';

/**
 * A loopback Amazon EC2 (test support only). It speaks the EC2 Query API the SDK uses (form POST, `Action=…&
 * Version=2016-11-15`, list parameters such as `InstanceId.1` and `Filter.1.Value.1`, XML answers in the
 * http://ec2.amazonaws.com/doc/2016-11-15/ namespace, errors as `<Response><Errors><Error>…`), with the element names
 * @aws-sdk/client-ec2's deserializer reads.
 *
 * Principals are the STS peer's: every request's SigV4 signature is verified for real (service `ec2`, the peer's
 * region) against the STS peer's users and the sessions it issued. EC2's own words for what fails: `AuthFailure` (401)
 * for an unknown or deleted key, a wrong secret, a forged session token or a wrong credential scope; `RequestExpired`
 * (400) for an expired session and for a request signed more than 15 minutes off the peer's clock (the STS peer's
 * `clockOffsetMs` applies: one AWS clock).
 *
 * IAM is modelled: `iam.allow(principal, actions)` is the identity policy of a user (its ARN) or a role (its ARN; a
 * session's principal is its role), on all resources. A session issued with an inline session policy is further
 * limited by that policy: its statements (Effect, Action/NotAction, Resource/NotResource, `*` and `?` wildcards;
 * Condition ignored) are matched against `ec2:ACTION` and the ARN of every resource the call touches; Describe*
 * calls match Resource `*` only (they have no resource-level permissions). Refused → 403 `UnauthorizedOperation`.
 * `DryRun=true` → 412 `DryRunOperation` when authorised (checked before the resources' existence), else 403.
 *
 * State: VPCs (each with its default network ACL and default security group), subnets, instances, network
 * interfaces, security groups, network ACLs, seeded with the add* helpers. Actions: DescribeInstances, StopInstances,
 * StartInstances, DescribeNetworkInterfaces, ModifyNetworkInterfaceAttribute, DescribeSecurityGroups,
 * CreateSecurityGroup, RevokeSecurityGroupEgress, CreateTags, DescribeNetworkAcls, CreateNetworkAclEntry,
 * DeleteNetworkAclEntry; anything else is 400 `InvalidAction`. Stopping and starting take time: an instance stays
 * `stopping` (`pending`) until `settleAfterDescribes` successful DescribeInstances calls have been made since, so a
 * client must poll.
 *
 * Harness faults: wrong_secret and revoked → AuthFailure, expired → RequestExpired (for every request); rate_limited
 * (`RequestLimitExceeded`) and server_error (500 `InternalError`) in EC2's XML come from the harness, which sends its
 * rate-limit fault with status 429 (real EC2 throttles with 503: `throttle(n)` answers that). Every call that reaches
 * the peer's handler is logged in `calls` with its outcome. Messages never quote secrets.
 */

export const EC2_NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
export const EC2_VERSION = '2016-11-15';

// ---------------------------------------------------------------------------------------------------------------
// The model

export type InstanceStateName = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';
export const INSTANCE_STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80
};

export type Tags = Record<string, string>;

export interface Ec2Vpc {
  vpcId: string;
  cidrBlock: string;
  ipv6CidrBlock: string | null;
  isDefault: boolean;
  tags: Tags;
}

export interface Ec2Subnet {
  subnetId: string;
  vpcId: string;
  cidrBlock: string;
  ipv6CidrBlock: string | null;
  availabilityZone: string;
  tags: Tags;
}

export interface Ec2Instance {
  instanceId: string;
  state: InstanceStateName;
  vpcId: string;
  subnetId: string;
  instanceType: string;
  imageId: string;
  launchTime: Date;
  /** Its network interfaces, in device-index order (the first is the primary one). */
  networkInterfaceIds: string[];
  tags: Tags;
  /** DescribeInstances calls still to come before a stopping / pending instance settles. */
  settleIn: number;
  stateTransitionReason: string;
}

export interface Ec2Attachment {
  attachmentId: string;
  instanceId: string;
  deviceIndex: number;
  attachTime: Date;
}

export interface Ec2GroupRef {
  groupId: string;
  groupName: string;
}

export interface Ec2NetworkInterface {
  networkInterfaceId: string;
  subnetId: string;
  vpcId: string;
  description: string;
  macAddress: string;
  /** The first is the primary private IPv4 address. */
  privateIpAddresses: string[];
  ipv6Addresses: string[];
  attachment: Ec2Attachment | null;
  groups: Ec2GroupRef[];
  tags: Tags;
}

/** One security group rule: one protocol/port range and one source or destination. */
export interface Ec2SecurityGroupRule {
  ruleId: string;
  /** '-1' (all), 'tcp', 'udp', 'icmp', 'icmpv6' or a protocol number. */
  ipProtocol: string;
  fromPort: number | null;
  toPort: number | null;
  cidrIpv4?: string;
  cidrIpv6?: string;
  groupId?: string;
  description?: string;
}

export interface Ec2SecurityGroup {
  groupId: string;
  groupName: string;
  description: string;
  vpcId: string;
  ingress: Ec2SecurityGroupRule[];
  egress: Ec2SecurityGroupRule[];
  tags: Tags;
}

export interface Ec2NetworkAclEntry {
  ruleNumber: number;
  /** '-1' or a protocol number, as EC2 reports it. */
  protocol: string;
  ruleAction: 'allow' | 'deny';
  egress: boolean;
  cidrBlock?: string;
  ipv6CidrBlock?: string;
  portRange?: { from: number; to: number };
  icmpTypeCode?: { code: number; type: number };
}

export interface Ec2NetworkAcl {
  networkAclId: string;
  vpcId: string;
  isDefault: boolean;
  associations: { networkAclAssociationId: string; subnetId: string }[];
  entries: Ec2NetworkAclEntry[];
  tags: Tags;
}

export interface Ec2Call {
  action: string;
  /** The caller's ARN (a user's, or a session's assumed-role ARN), null when it was not authenticated. */
  principal: string | null;
  /** The role behind a session, or null. */
  roleArn: string | null;
  dryRun: boolean;
  at: number;
  /** 'ok', or the error code answered (DryRunOperation included). */
  outcome: string;
}

export interface Ec2Iam {
  /** Identity policies: principal ARN → allowed action patterns (`ec2:DescribeInstances`, `ec2:Describe*`, `ec2:*`). */
  policies: Map<string, string[]>;
  /** Adds to the identity policy of a user (its ARN or access key id) or a role (its ARN), on all resources. */
  allow(principal: string, actions: string[]): void;
  /** Removes a principal's identity policy. */
  revoke(principal: string): void;
}

export interface Ec2PeerState {
  account: string;
  region: string;
  iam: Ec2Iam;
  vpcs: Map<string, Ec2Vpc>;
  subnets: Map<string, Ec2Subnet>;
  instances: Map<string, Ec2Instance>;
  interfaces: Map<string, Ec2NetworkInterface>;
  securityGroups: Map<string, Ec2SecurityGroup>;
  networkAcls: Map<string, Ec2NetworkAcl>;
  calls: Ec2Call[];
  /** How many successful DescribeInstances calls after a stop (start) the instance becomes stopped (running); 0 = at once. */
  settleAfterDescribes: number;
  /** Rules per network ACL and direction (the default `*` rules aside) before NetworkAclEntryLimitExceeded (AWS: 20). */
  naclEntryLimit: number;
  /** A VPC with its default network ACL (rules 100 allow-all and * deny-all, each way) and default security group. */
  addVpc(opts?: { cidrBlock?: string; ipv6?: boolean; isDefault?: boolean; tags?: Tags }): Ec2Vpc;
  /** A subnet of the VPC, associated with its default network ACL. */
  addSubnet(vpcId: string, opts?: { cidrBlock?: string; availabilityZone?: string; tags?: Tags }): Ec2Subnet;
  /**
   * An instance in the subnet (default: the first subnet, created with its VPC if there is none) with `interfaces`
   * network interfaces (default 1), each in `groups` (default: the VPC's default security group).
   */
  addInstance(opts?: {
    subnetId?: string;
    interfaces?: number;
    groups?: string[];
    state?: InstanceStateName;
    tags?: Tags;
    ipv6?: boolean;
    instanceType?: string;
  }): Ec2Instance;
  addSecurityGroup(vpcId: string, name: string, opts?: { description?: string; tags?: Tags }): Ec2SecurityGroup;
  /** A non-default network ACL of the VPC; the subnets given are moved to it. */
  addNetworkAcl(vpcId: string, opts?: { subnetIds?: string[]; tags?: Tags }): Ec2NetworkAcl;
  /** The VPC's default security group. */
  defaultSecurityGroup(vpcId: string): Ec2SecurityGroup;
  /** The network ACL the subnet is associated with. */
  networkAclOf(subnetId: string): Ec2NetworkAcl;
  /** The next `count` authenticated requests get EC2's throttling answer, 503 `RequestLimitExceeded`. */
  throttle(count: number): void;
  /** ARN helpers: `arn:aws:ec2:REGION:ACCOUNT:TYPE/ID`. */
  arn(type: 'instance' | 'network-interface' | 'security-group' | 'network-acl' | 'vpc' | 'subnet', id: string): string;
}

export interface Ec2Peer extends Peer, Ec2PeerState {}

// ---------------------------------------------------------------------------------------------------------------
// Errors and XML

class Ec2Error extends Error {
  status: number;
  code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function fail(code: string, message: string, status = 400): never {
  throw new Ec2Error(status, code, message);
}

const AUTH_FAILURE = 'AWS was not able to validate the provided access credentials';
const REQUEST_EXPIRED = 'Request has expired.';

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

type XmlScalar = string | number | boolean | Date | null | undefined;

/** `<name>value</name>`, or nothing for null/undefined. */
function x(name: string, value: XmlScalar): string {
  if (value === null || value === undefined) return '';
  const text = value instanceof Date ? value.toISOString() : String(value);
  return `<${name}>${xmlEscape(text)}</${name}>`;
}

function node(name: string, ...children: string[]): string {
  return `<${name}>${children.join('')}</${name}>`;
}

/** An EC2 list: `<name><item>…</item>…</name>`. */
function set<T>(name: string, items: readonly T[], item: (t: T) => string): string {
  return items.length === 0 ? `<${name}/>` : `<${name}>${items.map((i) => `<item>${item(i)}</item>`).join('')}</${name}>`;
}

function tagSet(tags: Tags): string {
  return set('tagSet', Object.entries(tags), ([k, v]) => x('key', k) + x('value', v));
}

function ec2ErrorXml(code: string, message: string, requestId: string = randomUUID()): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
}

function sendXml(res: ServerResponse, status: number, body: string, requestId: string): void {
  res.writeHead(status, {
    'content-type': 'text/xml;charset=UTF-8',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': requestId,
    server: 'AmazonEC2'
  });
  res.end(body);
}

/** The harness's generic faults in EC2's words: `RequestLimitExceeded` and `InternalError`, as EC2's error XML. */
export function ec2FaultRaw(fault: 'rate_limited' | 'server_error'): { contentType: string; body: string } {
  return {
    contentType: 'text/xml;charset=UTF-8',
    body:
      fault === 'rate_limited'
        ? ec2ErrorXml('RequestLimitExceeded', 'Request limit exceeded.')
        : ec2ErrorXml('InternalError', 'An internal error has occurred')
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Request parameters

type Params = Map<string, string>;

/** The indices N present for `prefix.N…` keys, ascending. */
function indices(p: Params, prefix: string): number[] {
  const re = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)(\\.|$)`);
  const found = new Set<number>();
  for (const k of p.keys()) {
    const m = re.exec(k);
    if (m) found.add(Number(m[1]));
  }
  return [...found].sort((a, b) => a - b);
}

/** The values of `prefix.1`, `prefix.2`, … */
function list(p: Params, prefix: string): string[] {
  return indices(p, prefix).map((i) => p.get(`${prefix}.${i}`) ?? '');
}

function tagsFrom(p: Params, prefix: string): Tags {
  const tags: Tags = {};
  for (const i of indices(p, prefix)) {
    const key = p.get(`${prefix}.${i}.Key`);
    if (key === undefined) fail('MissingParameter', 'The request must contain the parameter tag.key');
    tags[key] = p.get(`${prefix}.${i}.Value`) ?? '';
  }
  return tags;
}

interface Filter {
  name: string;
  values: string[];
}

function filtersFrom(p: Params): Filter[] {
  return indices(p, 'Filter').map((i) => ({ name: p.get(`Filter.${i}.Name`) ?? '', values: list(p, `Filter.${i}.Value`) }));
}

function bool(p: Params, name: string): boolean | undefined {
  const v = p.get(name);
  if (v === undefined) return undefined;
  if (/^true$/i.test(v)) return true;
  if (/^false$/i.test(v)) return false;
  return fail('InvalidParameterValue', `Value (${v}) for parameter ${name} is invalid. Expected: 'true' or 'false'.`);
}

function required(p: Params, name: string, shown = name): string {
  const v = p.get(name);
  if (v === undefined || v === '') fail('MissingParameter', `The request must contain the parameter ${shown}`);
  return v;
}

function int(p: Params, name: string): number | undefined {
  const v = p.get(name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) fail('InvalidParameterValue', `Value (${v}) for parameter ${name} is invalid. Expected an integer.`);
  return Number(v);
}

/** `*` and `?` wildcards, as IAM and EC2 filters use them. */
function wildcard(pattern: string, value: string, caseInsensitive = false): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, caseInsensitive ? 'is' : 's').test(value);
}

type FilterFields<T> = Record<string, (r: T) => (string | null | undefined)[]>;

/** EC2's filter semantics: the values of one filter are OR-ed (with wildcards), the filters AND-ed. */
function applyFilters<T>(items: T[], filters: Filter[], fields: FilterFields<T>, tagsOf: (r: T) => Tags): T[] {
  for (const f of filters) {
    if (!f.name.startsWith('tag:') && f.name !== 'tag-key' && f.name !== 'tag-value' && !fields[f.name]) {
      fail('InvalidParameterValue', `The filter '${f.name}' is invalid`);
    }
  }
  return items.filter((item) =>
    filters.every((f) => {
      let have: (string | null | undefined)[];
      if (f.name.startsWith('tag:')) {
        const v = tagsOf(item)[f.name.slice(4)];
        have = v === undefined ? [] : [v];
      } else if (f.name === 'tag-key') have = Object.keys(tagsOf(item));
      else if (f.name === 'tag-value') have = Object.values(tagsOf(item));
      else have = (fields[f.name] as (r: T) => (string | null | undefined)[])(item);
      return f.values.some((want) => have.some((h) => h !== null && h !== undefined && wildcard(want, h)));
    })
  );
}

// ---------------------------------------------------------------------------------------------------------------
// IAM

interface PolicyStatement {
  Effect?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
}

function strings(v: unknown): string[] | null {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v;
  return null;
}

function statementsOf(policy: string): PolicyStatement[] {
  try {
    const doc = JSON.parse(policy) as { Statement?: unknown };
    const st = doc.Statement;
    const all = Array.isArray(st) ? st : st && typeof st === 'object' ? [st] : [];
    return all.filter((s): s is PolicyStatement => !!s && typeof s === 'object');
  } catch {
    return [];
  }
}

function statementMatches(st: PolicyStatement, action: string, resource: string): boolean {
  const actions = strings(st.Action);
  const notActions = strings(st.NotAction);
  const actionOk = actions
    ? actions.some((a) => wildcard(a, action, true))
    : notActions
      ? !notActions.some((a) => wildcard(a, action, true))
      : false;
  if (!actionOk) return false;
  const resources = strings(st.Resource);
  const notResources = strings(st.NotResource);
  return resources ? resources.some((r) => wildcard(r, resource)) : notResources ? !notResources.some((r) => wildcard(r, resource)) : false;
}

/** A session policy's verdict on one action and resource: explicit deny wins, then an allow, else implicit deny. */
function sessionPolicyVerdict(policy: string, action: string, resource: string): 'allow' | 'deny' | 'implicit' {
  const sts = statementsOf(policy).filter((s) => statementMatches(s, action, resource));
  if (sts.some((s) => s.Effect === 'Deny')) return 'deny';
  return sts.some((s) => s.Effect === 'Allow') ? 'allow' : 'implicit';
}

// ---------------------------------------------------------------------------------------------------------------
// The peer

const hex = (n: number) =>
  randomBytes(Math.ceil(n / 2))
    .toString('hex')
    .slice(0, n);
const newId = (prefix: string) => `${prefix}-${hex(17)}`;
const ID_RE = (prefix: string) => new RegExp(`^${prefix}-([0-9a-f]{8}|[0-9a-f]{17})$`);

const PROTOCOL_NAMES: Record<string, string> = {
  '-1': '-1',
  all: '-1',
  '6': 'tcp',
  tcp: 'tcp',
  '17': 'udp',
  udp: 'udp',
  '1': 'icmp',
  icmp: 'icmp',
  '58': 'icmpv6',
  icmpv6: 'icmpv6'
};
const PROTOCOL_NUMBERS: Record<string, string> = { '-1': '-1', all: '-1', tcp: '6', udp: '17', icmp: '1', icmpv6: '58' };

function cidr4(s: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
  return !!m && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) <= 32;
}

function cidr6(s: string): boolean {
  const m = /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(s);
  return !!m && (m[1] ?? '').includes(':') && Number(m[2]) <= 128;
}

interface Caller {
  arn: string;
  roleArn: string | null;
  session: StsSession | null;
  user: StsUser | null;
}

interface ActionContext {
  p: Params;
  caller: Caller;
}

interface ActionSpec {
  /** The ARNs the call acts on (`*` for actions without resource-level permissions); validates the ids' syntax. */
  resources(p: Params): string[];
  /** Performs the call and returns the response's inner XML. */
  run(ctx: ActionContext): string;
}

export async function startEc2Peer(sts: StsPeer, opts: PeerOptions & { account?: string; region?: string } = {}): Promise<Ec2Peer> {
  const account = opts.account ?? sts.sts.account;
  const region = opts.region ?? 'us-east-1';
  const vpcs = new Map<string, Ec2Vpc>();
  const subnets = new Map<string, Ec2Subnet>();
  const instances = new Map<string, Ec2Instance>();
  const interfaces = new Map<string, Ec2NetworkInterface>();
  const securityGroups = new Map<string, Ec2SecurityGroup>();
  const networkAcls = new Map<string, Ec2NetworkAcl>();
  const policies = new Map<string, string[]>();
  const calls: Ec2Call[] = [];
  let throttled = 0;
  let vpcCount = 0;
  const subnetCount = new Map<string, number>();
  const hostCount = new Map<string, number>();

  const arn: Ec2PeerState['arn'] = (type, id) => `arn:aws:ec2:${region}:${account}:${type}/${id}`;
  const dnsName = (ip: string) => `ip-${ip.replace(/\./g, '-')}.${region === 'us-east-1' ? 'ec2.internal' : `${region}.compute.internal`}`;
  const mac = () => `0e:${hex(10).replace(/(..)(?!$)/g, '$1:')}`;
  const principalArn = (p: string) => sts.sts.users.get(p)?.arn ?? p;

  const iam: Ec2Iam = {
    policies,
    allow(principal, actions) {
      const key = principalArn(principal);
      policies.set(key, [...(policies.get(key) ?? []), ...actions]);
    },
    revoke(principal) {
      policies.delete(principalArn(principal));
    }
  };

  const sgRule = (r: Omit<Ec2SecurityGroupRule, 'ruleId'>): Ec2SecurityGroupRule => ({ ruleId: newId('sgr'), ...r });
  const defaultEntries = (ipv6: boolean): Ec2NetworkAclEntry[] =>
    [false, true].flatMap((egress) => [
      { ruleNumber: 100, protocol: '-1', ruleAction: 'allow' as const, egress, cidrBlock: '0.0.0.0/0' },
      ...(ipv6 ? [{ ruleNumber: 101, protocol: '-1', ruleAction: 'allow' as const, egress, ipv6CidrBlock: '::/0' }] : []),
      { ruleNumber: 32767, protocol: '-1', ruleAction: 'deny' as const, egress, cidrBlock: '0.0.0.0/0' },
      ...(ipv6 ? [{ ruleNumber: 32768, protocol: '-1', ruleAction: 'deny' as const, egress, ipv6CidrBlock: '::/0' }] : [])
    ]);

  const vpcOf = (vpcId: string): Ec2Vpc => vpcs.get(vpcId) ?? fail('InvalidVpcID.NotFound', `The vpc ID '${vpcId}' does not exist`);
  const subnetOf = (subnetId: string): Ec2Subnet =>
    subnets.get(subnetId) ?? fail('InvalidSubnetID.NotFound', `The subnet ID '${subnetId}' does not exist`);

  const state: Ec2PeerState = {
    account,
    region,
    iam,
    vpcs,
    subnets,
    instances,
    interfaces,
    securityGroups,
    networkAcls,
    calls,
    settleAfterDescribes: 1,
    naclEntryLimit: 20,
    arn,
    addVpc(o = {}) {
      vpcCount++;
      const vpc: Ec2Vpc = {
        vpcId: newId('vpc'),
        cidrBlock: o.cidrBlock ?? `10.${vpcCount % 256}.0.0/16`,
        ipv6CidrBlock: o.ipv6 ? `2600:1f18:${hex(4)}:${hex(2)}00::/56` : null,
        isDefault: o.isDefault ?? false,
        tags: { ...o.tags }
      };
      vpcs.set(vpc.vpcId, vpc);
      const acl: Ec2NetworkAcl = {
        networkAclId: newId('acl'),
        vpcId: vpc.vpcId,
        isDefault: true,
        associations: [],
        entries: defaultEntries(!!o.ipv6),
        tags: {}
      };
      networkAcls.set(acl.networkAclId, acl);
      const sg: Ec2SecurityGroup = {
        groupId: newId('sg'),
        groupName: 'default',
        description: 'default VPC security group',
        vpcId: vpc.vpcId,
        ingress: [],
        egress: [sgRule({ ipProtocol: '-1', fromPort: null, toPort: null, cidrIpv4: '0.0.0.0/0' })],
        tags: {}
      };
      sg.ingress.push(sgRule({ ipProtocol: '-1', fromPort: null, toPort: null, groupId: sg.groupId }));
      securityGroups.set(sg.groupId, sg);
      return vpc;
    },
    addSubnet(vpcId, o = {}) {
      const vpc = vpcOf(vpcId);
      const n = (subnetCount.get(vpcId) ?? 0) + 1;
      subnetCount.set(vpcId, n);
      const base = vpc.cidrBlock.split('.').slice(0, 2).join('.');
      const subnet: Ec2Subnet = {
        subnetId: newId('subnet'),
        vpcId,
        cidrBlock: o.cidrBlock ?? `${base}.${n}.0/24`,
        ipv6CidrBlock: vpc.ipv6CidrBlock ? vpc.ipv6CidrBlock.replace(/00::\/56$/, `${n.toString(16).padStart(2, '0')}::/64`) : null,
        availabilityZone: o.availabilityZone ?? `${region}a`,
        tags: { ...o.tags }
      };
      subnets.set(subnet.subnetId, subnet);
      const acl = [...networkAcls.values()].find((a) => a.vpcId === vpcId && a.isDefault);
      acl?.associations.push({ networkAclAssociationId: newId('aclassoc'), subnetId: subnet.subnetId });
      return subnet;
    },
    addInstance(o = {}) {
      const subnet = o.subnetId
        ? subnetOf(o.subnetId)
        : ([...subnets.values()][0] ?? state.addSubnet((vpcs.values().next().value ?? state.addVpc()).vpcId));
      const groups = (o.groups ?? [state.defaultSecurityGroup(subnet.vpcId).groupId]).map((id) => {
        const g = securityGroups.get(id) ?? fail('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
        return { groupId: g.groupId, groupName: g.groupName };
      });
      const instanceState = o.state ?? 'running';
      const instance: Ec2Instance = {
        instanceId: newId('i'),
        state: instanceState,
        vpcId: subnet.vpcId,
        subnetId: subnet.subnetId,
        instanceType: o.instanceType ?? 't3.micro',
        imageId: newId('ami'),
        launchTime: new Date(Math.floor(Date.now() / 1000) * 1000),
        networkInterfaceIds: [],
        tags: { ...o.tags },
        settleIn: instanceState === 'pending' || instanceState === 'stopping' ? state.settleAfterDescribes : 0,
        stateTransitionReason: instanceState === 'stopped' ? 'User initiated' : ''
      };
      instances.set(instance.instanceId, instance);
      const count = o.interfaces ?? 1;
      for (let deviceIndex = 0; deviceIndex < count; deviceIndex++) {
        const host = (hostCount.get(subnet.subnetId) ?? 3) + 1;
        hostCount.set(subnet.subnetId, host);
        const ip = `${subnet.cidrBlock.split('.').slice(0, 3).join('.')}.${host}`;
        const eni: Ec2NetworkInterface = {
          networkInterfaceId: newId('eni'),
          subnetId: subnet.subnetId,
          vpcId: subnet.vpcId,
          description: deviceIndex === 0 ? '' : `secondary interface ${deviceIndex}`,
          macAddress: mac(),
          privateIpAddresses: [ip],
          ipv6Addresses: o.ipv6 && subnet.ipv6CidrBlock ? [subnet.ipv6CidrBlock.replace(/::\/64$/, `::${host.toString(16)}`)] : [],
          attachment: { attachmentId: newId('eni-attach'), instanceId: instance.instanceId, deviceIndex, attachTime: instance.launchTime },
          groups: groups.map((g) => ({ ...g })),
          tags: {}
        };
        interfaces.set(eni.networkInterfaceId, eni);
        instance.networkInterfaceIds.push(eni.networkInterfaceId);
      }
      return instance;
    },
    addSecurityGroup(vpcId, name, o = {}) {
      vpcOf(vpcId);
      if ([...securityGroups.values()].some((g) => g.vpcId === vpcId && g.groupName === name)) {
        fail('InvalidGroup.Duplicate', `The security group '${name}' already exists for VPC '${vpcId}'`);
      }
      const sg: Ec2SecurityGroup = {
        groupId: newId('sg'),
        groupName: name,
        description: o.description ?? name,
        vpcId,
        ingress: [],
        egress: [sgRule({ ipProtocol: '-1', fromPort: null, toPort: null, cidrIpv4: '0.0.0.0/0' })],
        tags: { ...o.tags }
      };
      securityGroups.set(sg.groupId, sg);
      return sg;
    },
    addNetworkAcl(vpcId, o = {}) {
      const vpc = vpcOf(vpcId);
      const acl: Ec2NetworkAcl = {
        networkAclId: newId('acl'),
        vpcId,
        isDefault: false,
        associations: [],
        entries: defaultEntries(!!vpc.ipv6CidrBlock).filter((e) => e.ruleNumber > 32766),
        tags: { ...o.tags }
      };
      networkAcls.set(acl.networkAclId, acl);
      for (const subnetId of o.subnetIds ?? []) {
        for (const other of networkAcls.values()) other.associations = other.associations.filter((a) => a.subnetId !== subnetId);
        acl.associations.push({ networkAclAssociationId: newId('aclassoc'), subnetId });
      }
      return acl;
    },
    defaultSecurityGroup(vpcId) {
      return (
        [...securityGroups.values()].find((g) => g.vpcId === vpcId && g.groupName === 'default') ??
        fail('InvalidGroup.NotFound', `The security group 'default' does not exist in VPC '${vpcId}'`)
      );
    },
    networkAclOf(subnetId) {
      return (
        [...networkAcls.values()].find((a) => a.associations.some((s) => s.subnetId === subnetId)) ??
        fail('InvalidNetworkAclID.NotFound', `No network ACL is associated with '${subnetId}'`)
      );
    },
    throttle(count) {
      throttled = count;
    }
  };

  // --- lookups that answer as EC2 does ------------------------------------------------------------------------

  const checkIds = (ids: string[], prefix: string, code: string) => {
    for (const id of ids) {
      if (!ID_RE(prefix).test(id)) fail(code, `Invalid id: "${id}" (expecting "${prefix}-...")`);
    }
  };
  const instanceIds = (p: Params, requiredList: boolean) => {
    const ids = list(p, 'InstanceId');
    if (requiredList && ids.length === 0) fail('MissingParameter', 'The request must contain the parameter InstanceId');
    checkIds(ids, 'i', 'InvalidInstanceID.Malformed');
    return ids;
  };
  const existingInstances = (ids: string[]): Ec2Instance[] => {
    const missing = ids.filter((id) => !instances.has(id));
    if (missing.length === 1) fail('InvalidInstanceID.NotFound', `The instance ID '${missing[0]}' does not exist`);
    if (missing.length > 1) fail('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
    return ids.map((id) => instances.get(id) as Ec2Instance);
  };
  const groupOf = (id: string): Ec2SecurityGroup =>
    securityGroups.get(id) ?? fail('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
  const eniOf = (id: string): Ec2NetworkInterface =>
    interfaces.get(id) ?? fail('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${id}' does not exist`);
  const aclOf = (id: string): Ec2NetworkAcl =>
    networkAcls.get(id) ?? fail('InvalidNetworkAclID.NotFound', `The networkAcl ID '${id}' does not exist`);

  const RESOURCE_TYPES: [string, Parameters<typeof arn>[0]][] = [
    ['i', 'instance'],
    ['eni', 'network-interface'],
    ['sg', 'security-group'],
    ['acl', 'network-acl'],
    ['vpc', 'vpc'],
    ['subnet', 'subnet']
  ];
  const typeOfId = (id: string) => {
    const t = RESOURCE_TYPES.find(([prefix]) => ID_RE(prefix).test(id));
    return t ? t[1] : fail('InvalidID', `The ID '${id}' is not valid`);
  };
  const tagsOfResource = (id: string): Tags => {
    switch (typeOfId(id)) {
      case 'instance':
        return existingInstances([id])[0]?.tags ?? {};
      case 'network-interface':
        return eniOf(id).tags;
      case 'security-group':
        return groupOf(id).tags;
      case 'network-acl':
        return aclOf(id).tags;
      case 'vpc':
        return vpcOf(id).tags;
      case 'subnet':
        return subnetOf(id).tags;
    }
  };

  const validateTags = (tags: Tags) => {
    for (const [k, v] of Object.entries(tags)) {
      if (k.length === 0 || k.length > 128) fail('InvalidParameterValue', `Tag key exceeds the maximum length of 128 characters`);
      if (v.length > 256) fail('InvalidParameterValue', `Tag value exceeds the maximum length of 256 characters`);
      if (/^aws:/i.test(k)) fail('InvalidParameterValue', `Tag keys starting with 'aws:' are reserved for internal use`);
    }
  };
  const addTags = (target: Tags, tags: Tags) => {
    const keys = new Set([...Object.keys(target), ...Object.keys(tags)]);
    if (keys.size > 50) fail('TagLimitExceeded', 'The maximum number of Tags for a resource has been reached.');
    Object.assign(target, tags);
  };

  // --- XML of the resources -------------------------------------------------------------------------------------

  const stateXml = (name: string, s: InstanceStateName) => node(name, x('code', INSTANCE_STATE_CODES[s]), x('name', s));
  const groupSet = (groups: Ec2GroupRef[]) => set('groupSet', groups, (g) => x('groupId', g.groupId) + x('groupName', g.groupName));
  const groupsOfInstance = (i: Ec2Instance): Ec2GroupRef[] => {
    const seen = new Map<string, Ec2GroupRef>();
    for (const id of i.networkInterfaceIds) for (const g of interfaces.get(id)?.groups ?? []) seen.set(g.groupId, g);
    return [...seen.values()];
  };
  const privateIpsXml = (eni: Ec2NetworkInterface) =>
    set(
      'privateIpAddressesSet',
      eni.privateIpAddresses,
      (ip) => x('privateIpAddress', ip) + x('privateDnsName', dnsName(ip)) + x('primary', ip === eni.privateIpAddresses[0])
    );
  const ipv6Xml = (eni: Ec2NetworkInterface) =>
    set('ipv6AddressesSet', eni.ipv6Addresses, (ip) => x('ipv6Address', ip) + x('isPrimaryIpv6', false));

  const instanceXml = (i: Ec2Instance) => {
    const enis = i.networkInterfaceIds.map((id) => interfaces.get(id)).filter((e): e is Ec2NetworkInterface => !!e);
    const primary = enis[0];
    const ip = primary?.privateIpAddresses[0];
    const subnet = subnets.get(i.subnetId);
    return [
      x('instanceId', i.instanceId),
      x('imageId', i.imageId),
      stateXml('instanceState', i.state),
      x('privateDnsName', ip ? dnsName(ip) : ''),
      x('dnsName', ''),
      x('reason', i.stateTransitionReason),
      x('amiLaunchIndex', 0),
      '<productCodes/>',
      x('instanceType', i.instanceType),
      x('launchTime', i.launchTime),
      node('placement', x('availabilityZone', subnet?.availabilityZone ?? `${region}a`), x('groupName', ''), x('tenancy', 'default')),
      node('monitoring', x('state', 'disabled')),
      x('subnetId', i.subnetId),
      x('vpcId', i.vpcId),
      x('privateIpAddress', ip),
      x('sourceDestCheck', true),
      groupSet(groupsOfInstance(i)),
      ...(i.state === 'stopped' || i.state === 'stopping'
        ? [
            node(
              'stateReason',
              x('code', 'Client.UserInitiatedShutdown'),
              x('message', 'Client.UserInitiatedShutdown: User initiated shutdown')
            )
          ]
        : []),
      x('architecture', 'x86_64'),
      x('rootDeviceType', 'ebs'),
      x('rootDeviceName', '/dev/xvda'),
      '<blockDeviceMapping/>',
      x('virtualizationType', 'hvm'),
      tagSet(i.tags),
      x('hypervisor', 'xen'),
      set('networkInterfaceSet', enis, (e) =>
        [
          x('networkInterfaceId', e.networkInterfaceId),
          x('subnetId', e.subnetId),
          x('vpcId', e.vpcId),
          x('description', e.description),
          x('ownerId', account),
          x('status', 'in-use'),
          x('macAddress', e.macAddress),
          x('privateIpAddress', e.privateIpAddresses[0]),
          x('privateDnsName', e.privateIpAddresses[0] ? dnsName(e.privateIpAddresses[0]) : undefined),
          x('sourceDestCheck', true),
          groupSet(e.groups),
          e.attachment
            ? node(
                'attachment',
                x('attachmentId', e.attachment.attachmentId),
                x('deviceIndex', e.attachment.deviceIndex),
                x('status', 'attached'),
                x('attachTime', e.attachment.attachTime),
                x('deleteOnTermination', e.attachment.deviceIndex === 0),
                x('networkCardIndex', 0)
              )
            : '',
          privateIpsXml(e),
          ipv6Xml(e),
          x('interfaceType', 'interface')
        ].join('')
      ),
      x('ebsOptimized', false),
      x('enaSupport', true),
      x('ipv6Address', primary?.ipv6Addresses[0])
    ].join('');
  };

  const eniXml = (e: Ec2NetworkInterface) =>
    [
      x('networkInterfaceId', e.networkInterfaceId),
      x('subnetId', e.subnetId),
      x('vpcId', e.vpcId),
      x('availabilityZone', subnets.get(e.subnetId)?.availabilityZone),
      x('description', e.description),
      x('ownerId', account),
      x('requesterManaged', false),
      x('status', e.attachment ? 'in-use' : 'available'),
      x('macAddress', e.macAddress),
      x('privateIpAddress', e.privateIpAddresses[0]),
      x('privateDnsName', e.privateIpAddresses[0] ? dnsName(e.privateIpAddresses[0]) : undefined),
      x('sourceDestCheck', true),
      groupSet(e.groups),
      e.attachment
        ? node(
            'attachment',
            x('attachmentId', e.attachment.attachmentId),
            x('instanceId', e.attachment.instanceId),
            x('instanceOwnerId', account),
            x('deviceIndex', e.attachment.deviceIndex),
            x('status', 'attached'),
            x('attachTime', e.attachment.attachTime),
            x('deleteOnTermination', e.attachment.deviceIndex === 0),
            x('networkCardIndex', 0)
          )
        : '',
      tagSet(e.tags),
      privateIpsXml(e),
      ipv6Xml(e),
      x('interfaceType', 'interface')
    ].join('');

  const permissionsXml = (name: string, rules: Ec2SecurityGroupRule[]) => {
    const byKey = new Map<string, Ec2SecurityGroupRule[]>();
    for (const r of rules) {
      const key = `${r.ipProtocol}|${r.fromPort}|${r.toPort}`;
      byKey.set(key, [...(byKey.get(key) ?? []), r]);
    }
    return set(name, [...byKey.values()], (rs) => {
      const first = rs[0] as Ec2SecurityGroupRule;
      return [
        x('ipProtocol', first.ipProtocol),
        x('fromPort', first.fromPort),
        x('toPort', first.toPort),
        set(
          'groups',
          rs.filter((r) => r.groupId),
          (r) => x('userId', account) + x('groupId', r.groupId) + x('description', r.description)
        ),
        set(
          'ipRanges',
          rs.filter((r) => r.cidrIpv4),
          (r) => x('cidrIp', r.cidrIpv4) + x('description', r.description)
        ),
        set(
          'ipv6Ranges',
          rs.filter((r) => r.cidrIpv6),
          (r) => x('cidrIpv6', r.cidrIpv6) + x('description', r.description)
        ),
        '<prefixListIds/>'
      ].join('');
    });
  };

  const sgXml = (g: Ec2SecurityGroup) =>
    [
      x('ownerId', account),
      x('groupId', g.groupId),
      x('groupName', g.groupName),
      x('groupDescription', g.description),
      x('vpcId', g.vpcId),
      x('securityGroupArn', arn('security-group', g.groupId)),
      permissionsXml('ipPermissions', g.ingress),
      permissionsXml('ipPermissionsEgress', g.egress),
      tagSet(g.tags)
    ].join('');

  const aclXml = (a: Ec2NetworkAcl) =>
    [
      x('networkAclId', a.networkAclId),
      x('vpcId', a.vpcId),
      x('default', a.isDefault),
      set(
        'entrySet',
        [...a.entries].sort((m, n) => Number(m.egress) - Number(n.egress) || m.ruleNumber - n.ruleNumber),
        (e) =>
          [
            x('ruleNumber', e.ruleNumber),
            x('protocol', e.protocol),
            x('ruleAction', e.ruleAction),
            x('egress', e.egress),
            x('cidrBlock', e.cidrBlock),
            x('ipv6CidrBlock', e.ipv6CidrBlock),
            e.icmpTypeCode ? node('icmpTypeCode', x('code', e.icmpTypeCode.code), x('type', e.icmpTypeCode.type)) : '',
            e.portRange ? node('portRange', x('from', e.portRange.from), x('to', e.portRange.to)) : ''
          ].join('')
      ),
      set(
        'associationSet',
        a.associations,
        (s) => x('networkAclAssociationId', s.networkAclAssociationId) + x('networkAclId', a.networkAclId) + x('subnetId', s.subnetId)
      ),
      tagSet(a.tags),
      x('ownerId', account)
    ].join('');

  // --- the actions ----------------------------------------------------------------------------------------------

  const settle = () => {
    for (const i of instances.values()) {
      if (i.state !== 'stopping' && i.state !== 'pending') continue;
      i.settleIn--;
      if (i.settleIn <= 0) {
        i.state = i.state === 'stopping' ? 'stopped' : 'running';
        i.settleIn = 0;
      }
    }
  };
  const stateChange = (i: Ec2Instance, previous: InstanceStateName) =>
    x('instanceId', i.instanceId) + stateXml('currentState', i.state) + stateXml('previousState', previous);

  const revokeMatch = (r: Ec2SecurityGroupRule, proto: string, from: number | null, to: number | null) =>
    r.ipProtocol === proto && (proto === '-1' || (r.fromPort === from && r.toPort === to));

  const actions: Record<string, ActionSpec> = {
    DescribeInstances: {
      resources: (p) => {
        instanceIds(p, false);
        return ['*'];
      },
      run: ({ p }) => {
        const ids = instanceIds(p, false);
        const listed = existingInstances(ids);
        settle();
        const base = ids.length ? listed : [...instances.values()];
        const found = applyFilters(
          base,
          filtersFrom(p),
          {
            'instance-id': (i) => [i.instanceId],
            'instance-state-name': (i) => [i.state],
            'instance-state-code': (i) => [String(INSTANCE_STATE_CODES[i.state])],
            'instance-type': (i) => [i.instanceType],
            'vpc-id': (i) => [i.vpcId],
            'subnet-id': (i) => [i.subnetId],
            'private-ip-address': (i) => i.networkInterfaceIds.flatMap((e) => interfaces.get(e)?.privateIpAddresses.slice(0, 1) ?? []),
            'network-interface.network-interface-id': (i) => i.networkInterfaceIds,
            'instance.group-id': (i) => groupsOfInstance(i).map((g) => g.groupId),
            'instance.group-name': (i) => groupsOfInstance(i).map((g) => g.groupName)
          },
          (i) => i.tags
        );
        return set(
          'reservationSet',
          found,
          (i) =>
            x('reservationId', `r-${i.instanceId.slice(2)}`) + x('ownerId', account) + '<groupSet/>' + set('instancesSet', [i], instanceXml)
        );
      }
    },
    StopInstances: {
      resources: (p) => instanceIds(p, true).map((id) => arn('instance', id)),
      run: ({ p }) => {
        const found = existingInstances(instanceIds(p, true));
        return set('instancesSet', found, (i) => {
          const previous = i.state;
          if (i.state === 'running' || i.state === 'pending') {
            i.state = 'stopping';
            i.settleIn = state.settleAfterDescribes;
            i.stateTransitionReason = `User initiated (${new Date()
              .toISOString()
              .replace('T', ' ')
              .replace(/\.\d+Z$/, ' GMT')})`;
            if (i.settleIn <= 0) i.state = 'stopped';
          } else if (i.state === 'terminated' || i.state === 'shutting-down') {
            fail('IncorrectInstanceState', `This instance '${i.instanceId}' is not in a state from which it can be stopped.`);
          }
          return stateChange(i, previous);
        });
      }
    },
    StartInstances: {
      resources: (p) => instanceIds(p, true).map((id) => arn('instance', id)),
      run: ({ p }) => {
        const found = existingInstances(instanceIds(p, true));
        for (const i of found) {
          if (i.state === 'stopping' || i.state === 'terminated' || i.state === 'shutting-down') {
            fail('IncorrectInstanceState', `The instance '${i.instanceId}' is not in a state from which it can be started.`);
          }
        }
        return set('instancesSet', found, (i) => {
          const previous = i.state;
          if (i.state === 'stopped') {
            i.state = 'pending';
            i.settleIn = state.settleAfterDescribes;
            i.stateTransitionReason = '';
            if (i.settleIn <= 0) i.state = 'running';
          }
          return stateChange(i, previous);
        });
      }
    },
    DescribeNetworkInterfaces: {
      resources: (p) => {
        checkIds(list(p, 'NetworkInterfaceId'), 'eni', 'InvalidNetworkInterfaceID.Malformed');
        return ['*'];
      },
      run: ({ p }) => {
        const ids = list(p, 'NetworkInterfaceId');
        const base = ids.length ? ids.map(eniOf) : [...interfaces.values()];
        const found = applyFilters(
          base,
          filtersFrom(p),
          {
            'network-interface-id': (e) => [e.networkInterfaceId],
            'attachment.instance-id': (e) => [e.attachment?.instanceId],
            'attachment.device-index': (e) => [e.attachment ? String(e.attachment.deviceIndex) : null],
            'attachment.attachment-id': (e) => [e.attachment?.attachmentId],
            'vpc-id': (e) => [e.vpcId],
            'subnet-id': (e) => [e.subnetId],
            'group-id': (e) => e.groups.map((g) => g.groupId),
            'group-name': (e) => e.groups.map((g) => g.groupName),
            'private-ip-address': (e) => e.privateIpAddresses,
            'addresses.private-ip-address': (e) => e.privateIpAddresses,
            'ipv6-addresses.ipv6-address': (e) => e.ipv6Addresses,
            status: (e) => [e.attachment ? 'in-use' : 'available']
          },
          (e) => e.tags
        );
        return set('networkInterfaceSet', found, eniXml);
      }
    },
    ModifyNetworkInterfaceAttribute: {
      resources: (p) => {
        const id = required(p, 'NetworkInterfaceId', 'networkInterfaceId');
        checkIds([id], 'eni', 'InvalidNetworkInterfaceID.Malformed');
        const groups = list(p, 'SecurityGroupId');
        checkIds(groups, 'sg', 'InvalidGroupId.Malformed');
        return [arn('network-interface', id), ...groups.map((g) => arn('security-group', g))];
      },
      run: ({ p }) => {
        const eni = eniOf(p.get('NetworkInterfaceId') ?? '');
        const groupIds = list(p, 'SecurityGroupId');
        const description = p.get('Description.Value');
        if (groupIds.length === 0 && description === undefined) {
          fail('MissingParameter', 'The request must contain the parameter groupSet, description or sourceDestCheck');
        }
        if (groupIds.length > 5) {
          fail('SecurityGroupsPerInterfaceLimitExceeded', 'The maximum number of security groups per interface has been reached.');
        }
        const groups = groupIds.map((id) => {
          const g = securityGroups.get(id);
          if (!g || g.vpcId !== eni.vpcId) fail('InvalidGroup.NotFound', `The security group '${id}' does not exist in VPC '${eni.vpcId}'`);
          return { groupId: id, groupName: g.groupName };
        });
        if (groups.length) eni.groups = groups;
        if (description !== undefined) eni.description = description;
        return x('return', true);
      }
    },
    DescribeSecurityGroups: {
      resources: (p) => {
        checkIds(list(p, 'GroupId'), 'sg', 'InvalidGroupId.Malformed');
        return ['*'];
      },
      run: ({ p }) => {
        const ids = list(p, 'GroupId');
        const names = list(p, 'GroupName');
        let base = [...securityGroups.values()];
        if (ids.length) base = ids.map(groupOf);
        if (names.length) {
          base = names.map(
            (n) => base.find((g) => g.groupName === n) ?? fail('InvalidGroup.NotFound', `The security group '${n}' does not exist`)
          );
        }
        const found = applyFilters(
          base,
          filtersFrom(p),
          {
            'group-id': (g) => [g.groupId],
            'group-name': (g) => [g.groupName],
            description: (g) => [g.description],
            'vpc-id': (g) => [g.vpcId],
            'owner-id': () => [account],
            'egress.ip-permission.cidr': (g) => g.egress.map((r) => r.cidrIpv4),
            'ip-permission.cidr': (g) => g.ingress.map((r) => r.cidrIpv4),
            'ip-permission.group-id': (g) => g.ingress.map((r) => r.groupId)
          },
          (g) => g.tags
        );
        return set('securityGroupInfo', found, sgXml);
      }
    },
    CreateSecurityGroup: {
      resources: (p) => {
        required(p, 'GroupName', 'groupName');
        required(p, 'GroupDescription', 'groupDescription');
        const vpcId = p.get('VpcId');
        if (vpcId !== undefined) checkIds([vpcId], 'vpc', 'InvalidVpcID.Malformed');
        return [arn('security-group', '*'), ...(vpcId ? [arn('vpc', vpcId)] : [])];
      },
      run: ({ p }) => {
        const name = p.get('GroupName') ?? '';
        const description = p.get('GroupDescription') ?? '';
        if (name.length > 255)
          fail('InvalidParameterValue', 'Value for parameter groupName is too long; it must be at most 255 characters');
        if (/^sg-/i.test(name)) fail('InvalidParameterValue', `Group names may not be in the format sg-*`);
        const vpcIdParam = p.get('VpcId');
        const vpc = vpcIdParam
          ? vpcOf(vpcIdParam)
          : ([...vpcs.values()].find((v) => v.isDefault) ?? fail('VPCIdNotSpecified', 'No default VPC for this user'));
        const tags: Tags = {};
        for (const i of indices(p, 'TagSpecification')) {
          const type = p.get(`TagSpecification.${i}.ResourceType`);
          if (type !== 'security-group') {
            fail('InvalidParameterValue', `'${type ?? ''}' is not a valid taggable resource type for this operation.`);
          }
          Object.assign(tags, tagsFrom(p, `TagSpecification.${i}.Tag`));
        }
        validateTags(tags);
        const g = state.addSecurityGroup(vpc.vpcId, name, { description, tags });
        return x('groupId', g.groupId) + tagSet(g.tags) + x('securityGroupArn', arn('security-group', g.groupId));
      }
    },
    RevokeSecurityGroupEgress: {
      resources: (p) => {
        const id = required(p, 'GroupId', 'groupId');
        checkIds([id], 'sg', 'InvalidGroupId.Malformed');
        return [arn('security-group', id)];
      },
      run: ({ p }) => {
        const g = groupOf(p.get('GroupId') ?? '');
        const revoked: Ec2SecurityGroupRule[] = [];
        const unknown: Ec2SecurityGroupRule[] = [];
        for (const ruleId of list(p, 'SecurityGroupRuleId')) {
          const r = g.egress.find((e) => e.ruleId === ruleId);
          if (!r) fail('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${ruleId}' does not exist`);
          revoked.push(r);
        }
        for (const i of indices(p, 'IpPermissions')) {
          const rawProto = p.get(`IpPermissions.${i}.IpProtocol`) ?? '';
          const proto = PROTOCOL_NAMES[rawProto.toLowerCase()] ?? rawProto;
          const from = proto === '-1' ? null : (int(p, `IpPermissions.${i}.FromPort`) ?? null);
          const to = proto === '-1' ? null : (int(p, `IpPermissions.${i}.ToPort`) ?? null);
          const wanted: Omit<Ec2SecurityGroupRule, 'ruleId'>[] = [
            ...indices(p, `IpPermissions.${i}.IpRanges`).map((j) => ({ cidrIpv4: p.get(`IpPermissions.${i}.IpRanges.${j}.CidrIp`) })),
            ...indices(p, `IpPermissions.${i}.Ipv6Ranges`).map((j) => ({ cidrIpv6: p.get(`IpPermissions.${i}.Ipv6Ranges.${j}.CidrIpv6`) })),
            ...indices(p, `IpPermissions.${i}.Groups`).map((j) => ({ groupId: p.get(`IpPermissions.${i}.Groups.${j}.GroupId`) }))
          ]
            .filter((w) => Object.values(w).some((v) => v !== undefined))
            .map((w) => ({ ipProtocol: proto, fromPort: from, toPort: to, ...w }));
          for (const w of wanted) {
            const r = g.egress.find(
              (e) =>
                revokeMatch(e, proto, from, to) &&
                e.cidrIpv4 === w.cidrIpv4 &&
                e.cidrIpv6 === w.cidrIpv6 &&
                e.groupId === w.groupId &&
                !revoked.includes(e)
            );
            if (r) revoked.push(r);
            else unknown.push({ ruleId: '', ...w });
          }
        }
        if (revoked.length === 0) fail('InvalidPermission.NotFound', 'The specified rule does not exist in this security group.');
        g.egress = g.egress.filter((e) => !revoked.includes(e));
        return (
          x('return', true) +
          (unknown.length ? permissionsXml('unknownIpPermissionSet', unknown) : '') +
          set('revokedSecurityGroupRuleSet', revoked, (r) =>
            [
              x('securityGroupRuleId', r.ruleId),
              x('groupId', g.groupId),
              x('isEgress', true),
              x('ipProtocol', r.ipProtocol),
              x('fromPort', r.fromPort ?? -1),
              x('toPort', r.toPort ?? -1),
              x('cidrIpv4', r.cidrIpv4),
              x('cidrIpv6', r.cidrIpv6),
              x('referencedGroupId', r.groupId),
              x('description', r.description)
            ].join('')
          )
        );
      }
    },
    CreateTags: {
      resources: (p) => {
        const ids = list(p, 'ResourceId');
        if (ids.length === 0) fail('MissingParameter', 'The request must contain the parameter resourceIdSet');
        if (indices(p, 'Tag').length === 0) fail('MissingParameter', 'The request must contain the parameter tagSet');
        return ids.map((id) => arn(typeOfId(id), id));
      },
      run: ({ p }) => {
        const tags = tagsFrom(p, 'Tag');
        validateTags(tags);
        const targets = list(p, 'ResourceId').map(tagsOfResource);
        for (const t of targets) addTags({ ...t }, tags);
        for (const t of targets) Object.assign(t, tags);
        return x('return', true);
      }
    },
    DescribeNetworkAcls: {
      resources: () => ['*'],
      run: ({ p }) => {
        const ids = list(p, 'NetworkAclId');
        const base = ids.length ? ids.map(aclOf) : [...networkAcls.values()];
        const found = applyFilters(
          base,
          filtersFrom(p),
          {
            'network-acl-id': (a) => [a.networkAclId],
            'vpc-id': (a) => [a.vpcId],
            default: (a) => [String(a.isDefault)],
            'association.subnet-id': (a) => a.associations.map((s) => s.subnetId),
            'association.association-id': (a) => a.associations.map((s) => s.networkAclAssociationId),
            'association.network-acl-id': (a) => a.associations.map(() => a.networkAclId),
            'entry.rule-number': (a) => a.entries.map((e) => String(e.ruleNumber)),
            'entry.rule-action': (a) => a.entries.map((e) => e.ruleAction),
            'entry.cidr': (a) => a.entries.map((e) => e.cidrBlock),
            'entry.egress': (a) => a.entries.map((e) => String(e.egress)),
            'owner-id': () => [account]
          },
          (a) => a.tags
        );
        return set('networkAclSet', found, aclXml);
      }
    },
    CreateNetworkAclEntry: {
      resources: (p) => [arn('network-acl', required(p, 'NetworkAclId', 'networkAclId'))],
      run: ({ p }) => {
        const acl = aclOf(p.get('NetworkAclId') ?? '');
        const ruleNumber = int(p, 'RuleNumber') ?? fail('MissingParameter', 'The request must contain the parameter ruleNumber');
        const rawProto = required(p, 'Protocol', 'protocol').toLowerCase();
        const ruleAction = required(p, 'RuleAction', 'ruleAction').toLowerCase();
        const egress = bool(p, 'Egress') ?? fail('MissingParameter', 'The request must contain the parameter egress');
        const cidrBlock = p.get('CidrBlock');
        const ipv6CidrBlock = p.get('Ipv6CidrBlock');
        if (ruleNumber < 1 || ruleNumber > 32766) {
          fail('InvalidParameterValue', `Invalid value '${ruleNumber}' for ruleNumber. Rule number must be between 1 and 32766.`);
        }
        const protocol =
          PROTOCOL_NUMBERS[rawProto] ?? (/^\d{1,3}$/.test(rawProto) && Number(rawProto) <= 255 ? String(Number(rawProto)) : null);
        if (protocol === null) fail('InvalidParameterValue', `Invalid value '${rawProto}' for protocol.`);
        if (ruleAction !== 'allow' && ruleAction !== 'deny') {
          fail('InvalidParameterValue', `Invalid value '${ruleAction}' for ruleAction. Valid values: allow, deny.`);
        }
        if (cidrBlock !== undefined && ipv6CidrBlock !== undefined) {
          fail('InvalidParameterCombination', "Only one of 'cidrBlock' or 'ipv6CidrBlock' may be specified.");
        }
        if (cidrBlock === undefined && ipv6CidrBlock === undefined) {
          fail('MissingParameter', "Either 'cidrBlock' or 'ipv6CidrBlock' should be provided.");
        }
        if (cidrBlock !== undefined && !cidr4(cidrBlock))
          fail('InvalidParameterValue', `Value (${cidrBlock}) for parameter cidrBlock is invalid.`);
        if (ipv6CidrBlock !== undefined && !cidr6(ipv6CidrBlock)) {
          fail('InvalidParameterValue', `Value (${ipv6CidrBlock}) for parameter ipv6CidrBlock is invalid.`);
        }
        const from = int(p, 'PortRange.From');
        const to = int(p, 'PortRange.To');
        if ((protocol === '6' || protocol === '17') && (from === undefined || to === undefined)) {
          fail('MissingParameter', 'The request must contain the parameter portRange');
        }
        const icmpCode = int(p, 'Icmp.Code');
        const icmpType = int(p, 'Icmp.Type');
        if ((protocol === '1' || protocol === '58') && (icmpCode === undefined || icmpType === undefined)) {
          fail('MissingParameter', 'The request must contain the parameter icmpTypeCode');
        }
        if (acl.entries.some((e) => e.ruleNumber === ruleNumber && e.egress === egress)) {
          fail('NetworkAclEntryAlreadyExists', `The network acl entry identified by ${ruleNumber} already exists.`);
        }
        if (acl.entries.filter((e) => e.egress === egress && e.ruleNumber <= 32766).length >= state.naclEntryLimit) {
          fail('NetworkAclEntryLimitExceeded', `The maximum number of network acl entries has been reached.`);
        }
        acl.entries.push({
          ruleNumber,
          protocol,
          ruleAction: ruleAction as 'allow' | 'deny',
          egress,
          ...(cidrBlock !== undefined ? { cidrBlock } : { ipv6CidrBlock }),
          ...((protocol === '6' || protocol === '17') && from !== undefined && to !== undefined ? { portRange: { from, to } } : {}),
          ...((protocol === '1' || protocol === '58') && icmpCode !== undefined && icmpType !== undefined
            ? { icmpTypeCode: { code: icmpCode, type: icmpType } }
            : {})
        });
        return x('return', true);
      }
    },
    DeleteNetworkAclEntry: {
      resources: (p) => [arn('network-acl', required(p, 'NetworkAclId', 'networkAclId'))],
      run: ({ p }) => {
        const acl = aclOf(p.get('NetworkAclId') ?? '');
        const ruleNumber = int(p, 'RuleNumber') ?? fail('MissingParameter', 'The request must contain the parameter ruleNumber');
        const egress = bool(p, 'Egress') ?? fail('MissingParameter', 'The request must contain the parameter egress');
        if (ruleNumber < 1 || ruleNumber > 32766) {
          fail('InvalidParameterValue', `Invalid value '${ruleNumber}' for ruleNumber. Rule number must be between 1 and 32766.`);
        }
        const before = acl.entries.length;
        acl.entries = acl.entries.filter((e) => !(e.ruleNumber === ruleNumber && e.egress === egress));
        if (acl.entries.length === before) {
          fail(
            'InvalidNetworkAclEntry.NotFound',
            `The network acl entry identified by ${ruleNumber} (${egress ? 'egress' : 'ingress'}) does not exist in network acl '${acl.networkAclId}'.`
          );
        }
        return x('return', true);
      }
    }
  };

  // --- authorisation ---------------------------------------------------------------------------------------------

  const authorize = (caller: Caller, action: string, resources: string[]) => {
    const iamAction = `ec2:${action}`;
    const denied = (resource: string, why: string) =>
      fail(
        'UnauthorizedOperation',
        `You are not authorized to perform this operation. User: ${caller.arn} is not authorized to perform: ${iamAction}${resource === '*' ? '' : ` on resource: ${resource}`} ${why}`,
        403
      );
    const principal = caller.roleArn ?? caller.arn;
    const identity = policies.get(principal) ?? [];
    if (!identity.some((a) => wildcard(a, iamAction, true))) {
      denied(resources[0] ?? '*', `because no identity-based policy allows the ${iamAction} action`);
    }
    const policy = caller.session?.policy ?? null;
    if (policy === null) return;
    for (const resource of resources) {
      const verdict = sessionPolicyVerdict(policy, iamAction, resource);
      if (verdict === 'deny') denied(resource, 'with an explicit deny in a session policy');
      if (verdict === 'implicit') denied(resource, `because no session policy allows the ${iamAction} action`);
    }
  };

  // --- the handler -----------------------------------------------------------------------------------------------

  const peer = await startPeer(
    async (req, res, ctx) => {
      const isForm = String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
      const search = req.method === 'POST' && isForm ? new URLSearchParams(ctx.body) : ctx.url.searchParams;
      const p: Params = new Map(search);
      const action = p.get('Action') ?? '';
      const dryRun = /^true$/i.test(p.get('DryRun') ?? '');
      const requestId = randomUUID();
      const call: Ec2Call = { action, principal: null, roleArn: null, dryRun, at: Date.now(), outcome: 'ok' };
      calls.push(call);
      try {
        if (ctx.control.fault === 'wrong_secret' || ctx.control.fault === 'revoked') fail('AuthFailure', AUTH_FAILURE, 401);
        if (ctx.control.fault === 'expired') fail('RequestExpired', REQUEST_EXPIRED);

        const verdict = await verifySigV4(
          {
            method: req.method ?? 'GET',
            path: ctx.url.pathname,
            query: queryOf(ctx.url),
            headers: req.headers as IncomingHttpHeaders,
            body: ctx.body
          },
          (id) => sts.sts.users.get(id)?.secretAccessKey ?? sts.sts.sessions.get(id)?.secretAccessKey ?? null
        );
        if (!verdict.ok) {
          if (verdict.code === 'MissingAuthenticationToken')
            fail('MissingParameter', 'The request must contain the parameter AWSAccessKeyId');
          if (verdict.code === 'IncompleteSignature') fail('IncompleteSignature', verdict.message);
          fail('AuthFailure', AUTH_FAILURE, 401);
        }
        if (verdict.service !== 'ec2' || verdict.region !== region) fail('AuthFailure', AUTH_FAILURE, 401);
        const skew = Math.abs(verdict.signedAt.getTime() - (Date.now() + sts.sts.clockOffsetMs));
        if (skew > MAX_SKEW_MS) fail('RequestExpired', REQUEST_EXPIRED);

        const session = sts.sts.sessions.get(verdict.accessKeyId) ?? null;
        if (session) {
          const token = req.headers['x-amz-security-token'];
          if (token !== session.sessionToken || !verdict.signedHeaders.includes('x-amz-security-token'))
            fail('AuthFailure', AUTH_FAILURE, 401);
          if (session.expiresAt <= Date.now()) fail('RequestExpired', REQUEST_EXPIRED);
        }
        const user = session ? null : (sts.sts.users.get(verdict.accessKeyId) ?? null);
        if (!session && !user) fail('AuthFailure', AUTH_FAILURE, 401);
        const caller: Caller = { arn: session?.arn ?? user?.arn ?? '', roleArn: session?.roleArn ?? null, session, user };
        call.principal = caller.arn;
        call.roleArn = caller.roleArn;

        if (throttled > 0) {
          throttled--;
          fail('RequestLimitExceeded', 'Request limit exceeded.', 503);
        }
        if (p.get('Version') !== EC2_VERSION) fail('InvalidAction', `The action ${action} is not valid for this web service.`);
        const spec = actions[action] ?? fail('InvalidAction', `The action ${action || '(none)'} is not valid for this web service.`);
        const resources = spec.resources(p);
        authorize(caller, action, resources);
        if (dryRun) fail('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
        const inner = spec.run({ p, caller });
        sendXml(
          res,
          200,
          `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_NS}"><requestId>${requestId}</requestId>${inner}</${action}Response>`,
          requestId
        );
      } catch (e) {
        if (!(e instanceof Ec2Error)) throw e;
        call.outcome = e.code;
        sendXml(res, e.status, ec2ErrorXml(e.code, e.message, requestId), requestId);
      }
    },
    { faultRaw: ec2FaultRaw, ...opts }
  );

  // One object: the state (whose settings a test may change) gains the peer's url, control and methods (closures).
  return Object.assign(state, peer);
}
