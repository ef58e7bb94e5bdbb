import { endpointField, field, integerIn, jsonObject, pattern, type FieldSpec, type ProviderSpec } from '../spec.ts';

/** An EC2 instance: its id, or its ARN (which names the region and account). */
export const INSTANCE_ID_RE = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
export const INSTANCE_ARN_RE = /^arn:(aws[a-z-]*):ec2:([a-z]{2}(?:-[a-z]+)+-\d{1,2}):(\d{12}):instance\/(i-(?:[0-9a-f]{8}|[0-9a-f]{17}))$/;
/** block_ip's scope: a VPC (its network ACLs in use) or one network ACL. */
export const SCOPE_RE = /^(?:vpc|acl)-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

export type AwsHostCapability = 'isolate' | 'block_ip' | 'power';

/**
 * The EC2 actions each host capability calls — exactly these, in the order it calls them. The permission lists the
 * UI and `keydesk permissions` show, the DryRun readiness checks and each run's narrowed session policy all come
 * from here (a test checks the EC2 peer saw no other action).
 */
export const AWS_CAPABILITY_ACTIONS: Record<AwsHostCapability, readonly string[]> = {
  isolate: [
    'ec2:DescribeInstances',
    'ec2:DescribeSecurityGroups',
    'ec2:CreateSecurityGroup',
    'ec2:CreateTags',
    'ec2:RevokeSecurityGroupEgress',
    'ec2:ModifyNetworkInterfaceAttribute',
    'ec2:DescribeNetworkAcls',
    'ec2:CreateNetworkAclEntry',
    'ec2:DeleteNetworkAclEntry'
  ],
  block_ip: ['ec2:DescribeNetworkAcls', 'ec2:CreateNetworkAclEntry', 'ec2:DeleteNetworkAclEntry'],
  power: ['ec2:DescribeInstances', 'ec2:StopInstances', 'ec2:StartInstances']
};

const ROLE_NOTE = 'assume_role: also sts:AssumeRole and sts:TagSession on the role (each run gets its own 15-minute session).';

const keyId = field({
  name: 'access_key_id',
  label: 'Access key ID',
  secret: true,
  last4: true,
  placeholder: 'AKIA…',
  rule: pattern('Access key ID', /^[A-Z0-9]{16,128}$/, 'an IAM access key id (16–128 upper-case letters and digits)', 128)
});
const secretKey = field({
  name: 'secret_access_key',
  label: 'Secret access key',
  secret: true,
  rule: pattern('Secret access key', /^\S{16,128}$/, 'a secret access key (16–128 characters, no spaces)', 128)
});
const region = field({
  name: 'region',
  label: 'Region',
  placeholder: 'us-east-1',
  rule: pattern('Region', /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'an AWS region such as us-east-1', 32)
});
const sts = endpointField(
  'sts_endpoint',
  'STS endpoint',
  'Override the STS endpoint (FIPS, GovCloud, China, or a proxy).',
  'https://sts.us-east-1.amazonaws.com'
);

const ec2 = endpointField(
  'ec2_endpoint',
  'EC2 endpoint',
  'Override the EC2 endpoint (FIPS, GovCloud, China, a VPC endpoint, or a proxy) for isolate, block_ip and power.',
  'https://ec2.us-east-1.amazonaws.com'
);
const blockScope = field({
  name: 'block_scope',
  label: 'Default block_ip scope',
  required: false,
  placeholder: 'vpc-0abc… or acl-0abc…',
  help: 'The VPC (every network ACL in use in it) or the one network ACL block_ip adds its deny entries to, when a run names none.',
  rule: pattern('Default block_ip scope', SCOPE_RE, 'a VPC id (vpc-…) or a network ACL id (acl-…)', 64)
});

const accessKeyFields: FieldSpec[] = [
  keyId,
  secretKey,
  field({
    name: 'session_token',
    label: 'Session token',
    secret: true,
    required: false,
    multiline: true,
    help: 'Only for temporary (ASIA…) keys.',
    rule: pattern('Session token', /^\S{16,8192}$/, 'a session token', 8192)
  }),
  region,
  sts,
  ec2,
  blockScope
];

const assumeRoleFields: FieldSpec[] = [
  keyId,
  secretKey,
  field({
    name: 'role_arn',
    label: 'Role ARN',
    placeholder: 'arn:aws:iam::123456789012:role/KeydeskResponder',
    rule: pattern('Role ARN', /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)')
  }),
  field({
    name: 'external_id',
    label: 'External ID',
    secret: true,
    required: false,
    rule: pattern('External ID', /^[\w+=,.@:/-]{2,1224}$/, '2–1224 characters of letters, digits and +=,.@:/-', 1224)
  }),
  field({
    name: 'session_policy',
    label: 'Session policy (JSON)',
    required: false,
    multiline: true,
    kind: 'json',
    help: 'An inline IAM policy that narrows the role session.',
    rule: jsonObject('Session policy')
  }),
  field({
    name: 'duration_seconds',
    label: 'Session duration (seconds)',
    required: false,
    kind: 'number',
    placeholder: '3600',
    rule: integerIn('Session duration', 900, 43200)
  }),
  region,
  sts,
  ec2,
  blockScope
];

export const awsSpec: ProviderSpec = {
  id: 'aws',
  label: 'Amazon Web Services',
  tenantScoped: false,
  modes: [
    { id: 'access_key', label: 'Access key pair', fields: accessKeyFields, rotationDays: 90 },
    { id: 'assume_role', label: 'Assume role', fields: assumeRoleFields, rotationDays: 90 }
  ],
  capabilities: [
    {
      id: 'isolate',
      label: 'Isolate an EC2 instance (quarantine security group; cut its connections to the rest of the VPC)',
      permissions: [...AWS_CAPABILITY_ACTIONS.isolate],
      note: ROLE_NOTE,
      target: { label: 'EC2 instance id or ARN', placeholder: 'i-0123456789abcdef0' },
      options: [
        {
          name: 'cut_connections',
          label: 'Cut existing connections',
          help: 'Security groups do not cut connections already open. Also add network ACL deny entries for the host in the VPC’s other subnets, which cut its connections to them at once.',
          default: true
        }
      ]
    },
    {
      id: 'block_ip',
      label: 'Block an IP address or CIDR block (network ACL deny entries, in and out)',
      permissions: [...AWS_CAPABILITY_ACTIONS.block_ip],
      note: ROLE_NOTE,
      target: { label: 'IPv4 / IPv6 address or CIDR block', placeholder: '203.0.113.7 or 2001:db8::/48' },
      scope: { label: 'VPC or network ACL', placeholder: 'vpc-0abc… or acl-0abc…', field: 'block_scope' }
    },
    {
      id: 'power',
      label: 'Stop an EC2 instance (revert: start it, if this run stopped it)',
      permissions: [...AWS_CAPABILITY_ACTIONS.power],
      note: ROLE_NOTE,
      target: { label: 'EC2 instance id or ARN', placeholder: 'i-0123456789abcdef0' }
    }
  ],
  validationPermissions: [
    'sts:GetCallerIdentity (needs no IAM permission)',
    'sts:AssumeRole on the role (assume_role mode)',
    'readiness: each capability’s EC2 actions are checked with DryRun'
  ],
  accounts: {
    ofTarget: (target) => INSTANCE_ARN_RE.exec(target)?.[3] ?? null,
    ofCredential: (fields, identity) =>
      /^arn:aws[a-z-]*:iam::(\d{12}):role\//.exec(fields.role_arn ?? '')?.[1] ??
      (/^\d{12}$/.test(identity.account_id ?? '') ? identity.account_id! : null)
  }
};
