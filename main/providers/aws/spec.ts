import { endpointField, field, integerIn, jsonObject, pattern, type FieldSpec, type ProviderSpec } from '../spec.ts';

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
  sts
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
  sts
];

export const awsSpec: ProviderSpec = {
  id: 'aws',
  label: 'Amazon Web Services',
  tenantScoped: false,
  modes: [
    { id: 'access_key', label: 'Access key pair', fields: accessKeyFields, rotationDays: 90 },
    { id: 'assume_role', label: 'Assume role', fields: assumeRoleFields, rotationDays: 90 }
  ],
  // block_ip, isolate and power act on inventory assets: planned, not built yet.
  capabilities: [],
  validationPermissions: ['sts:GetCallerIdentity (needs no IAM permission)', 'sts:AssumeRole on the role (assume_role mode)']
};
