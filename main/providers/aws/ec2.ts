import { EC2Client } from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient, type AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import type { CredentialMaterial } from '../../vault/credential-store.ts';
import { KeydeskError } from '../../errors.ts';
import type { ProviderHttp } from '../http.ts';
import { ActionError, type CapabilityReadiness } from '../plugin.ts';
import { mapStsError, sdkHandler, type LastAnswer } from './sdk.ts';
import { AWS_CAPABILITY_ACTIONS, type AwsHostCapability } from './spec.ts';

/**
 * EC2 for the host capabilities (isolate, block_ip, power) and their readiness: a client over Keydesk's provider HTTP,
 * a role session narrowed to one run (AssumeRole with an inline policy listing only the capability's actions on the
 * run's resources, the execution id and actor as session tags, 15 minutes), and EC2's error codes in the execution's
 * terms. The SDK's retries are off: one call is one honest round trip.
 */

export interface AwsKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The credential's own keys (access_key mode: possibly temporary, with a session token). */
export function sourceKeys(credential: CredentialMaterial): AwsKeys {
  const id = credential.secrets.access_key_id;
  const secret = credential.secrets.secret_access_key;
  if (!id || !secret) throw new ActionError('credential_invalid', 'MISSING_FIELD', 'The credential needs the access key ID and secret.');
  const keys: AwsKeys = { accessKeyId: id.reveal(), secretAccessKey: secret.reveal() };
  const token = credential.secrets.session_token;
  if (token) keys.sessionToken = token.reveal();
  return keys;
}

export function ec2Client(credential: CredentialMaterial, http: ProviderHttp, keys: AwsKeys, region: string): EC2Client {
  const endpoint = credential.fields.ec2_endpoint;
  return new EC2Client({
    region,
    credentials: keys,
    ...(endpoint ? { endpoint } : {}),
    // Never AWS_ENDPOINT_URL_* or ~/.aws/config: a signed request goes only where the credential says.
    ignoreConfiguredEndpointUrls: true,
    useFipsEndpoint: false,
    useDualstackEndpoint: false,
    maxAttempts: 1,
    requestHandler: sdkHandler(http, { answer: null as LastAnswer | null })
  });
}

/** The partition and account of the role a credential assumes (assume_role mode), from its ARN. */
export function roleAccount(roleArn: string | undefined): { partition: string; account: string } | null {
  const m = /^arn:(aws[a-z-]*):iam::(\d{12}):role\//.exec(roleArn ?? '');
  return m ? { partition: m[1]!, account: m[2]! } : null;
}

/** A session tag value: letters, digits, spaces and _ . : / = + - @ (AWS's set), at most 256 characters. */
function tagValue(v: string): string {
  return v.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, '_').slice(0, 256);
}

export interface RunSession {
  keys: AwsKeys;
  name: string;
  expiresAt: string | null;
}

/**
 * assume_role mode: a role session for this run only. Its inline policy allows the capability's actions, mutating ones
 * only on `resources` (ARNs), Describe* on "*" (EC2 Describe actions support no resource-level permissions); the
 * credential's own session_policy is replaced by this narrower one (the role's policies still bound it).
 */
export async function narrowedSession(
  credential: CredentialMaterial,
  http: ProviderHttp,
  signal: AbortSignal,
  run: { id: string; actor: string },
  capability: AwsHostCapability,
  resources: readonly string[]
): Promise<RunSession> {
  const roleArn = credential.fields.role_arn ?? '';
  const actions = AWS_CAPABILITY_ACTIONS[capability];
  const describe = actions.filter((a) => a.startsWith('ec2:Describe'));
  const mutating = actions.filter((a) => !a.startsWith('ec2:Describe'));
  const policy = {
    Version: '2012-10-17',
    Statement: [
      ...(describe.length ? [{ Effect: 'Allow', Action: describe, Resource: '*' }] : []),
      { Effect: 'Allow', Action: mutating, Resource: [...resources] }
    ]
  };
  const name = `keydesk-${run.id}`.slice(0, 64);
  const input: AssumeRoleCommandInput = {
    RoleArn: roleArn,
    RoleSessionName: name,
    DurationSeconds: 900,
    Policy: JSON.stringify(policy),
    Tags: [
      { Key: 'keydesk-execution', Value: tagValue(run.id) },
      { Key: 'keydesk-actor', Value: tagValue(run.actor) }
    ]
  };
  const externalId = credential.secrets.external_id;
  if (externalId) input.ExternalId = externalId.reveal();
  const last: { answer: LastAnswer | null } = { answer: null };
  const endpoint = credential.fields.sts_endpoint;
  const sts = new STSClient({
    region: credential.fields.region ?? 'us-east-1',
    credentials: sourceKeys(credential),
    ...(endpoint ? { endpoint } : {}),
    ignoreConfiguredEndpointUrls: true,
    useFipsEndpoint: false,
    useDualstackEndpoint: false,
    maxAttempts: 1,
    requestHandler: sdkHandler(http, last)
  });
  try {
    const r = await sts.send(new AssumeRoleCommand(input), { abortSignal: signal });
    const c = r.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken)
      throw new ActionError('cloud_api_error', 'MALFORMED_RESPONSE', 'STS answered AssumeRole without temporary credentials.');
    const expiresAt = c.Expiration instanceof Date && !Number.isNaN(c.Expiration.getTime()) ? c.Expiration.toISOString() : null;
    return { keys: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken }, name, expiresAt };
  } catch (e) {
    if (e instanceof ActionError || (e instanceof KeydeskError && e.code === 'VAULT_LOCKED')) throw e;
    const o = mapStsError(e, last.answer, 'AssumeRole', roleArn);
    const code = o.error?.code ?? 'AssumeRole';
    const message = o.error?.message ?? 'STS refused AssumeRole.';
    if (o.status === 'failed' || o.status === 'expired')
      throw new ActionError('reauth', code, message, { credentialStatus: o.status === 'expired' ? 'expired' : 'failed' });
    throw new ActionError('cloud_api_error', code, message);
  } finally {
    sts.destroy();
  }
}

interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** EC2's answer to one call (`action`, e.g. "ModifyNetworkInterfaceAttribute"), as an ActionError. */
export function ec2Failure(e: unknown, action: string, what: string): unknown {
  if (e instanceof ActionError || e instanceof KeydeskError) return e;
  const err = (e ?? {}) as SdkError;
  const code = typeof err.name === 'string' ? err.name : 'Error';
  const status = err.$metadata?.httpStatusCode ?? 0;
  switch (code) {
    case 'AuthFailure':
    case 'InvalidClientTokenId':
    case 'SignatureDoesNotMatch':
    case 'UnrecognizedClientException':
      return new ActionError(
        'reauth',
        code,
        `AWS did not accept the credential's keys (${code}): they are wrong, deactivated or deleted. Re-authenticate the credential with a working access key.`
      );
    case 'RequestExpired':
    case 'ExpiredToken':
      return new ActionError(
        'reauth',
        code,
        `AWS refused the request as expired (${code}): the session token has expired, or this computer's clock is more than 15 minutes off.`,
        { credentialStatus: 'expired' }
      );
    case 'UnauthorizedOperation':
    case 'AccessDenied':
      return new ActionError(
        'cloud_api_error',
        code,
        `Missing permission ec2:${action} (${what}): AWS answered ${code}. Grant ec2:${action} to the credential's user or role (keydesk permissions aws lists every action this capability needs).`
      );
    case 'RequestLimitExceeded':
    case 'Throttling':
      return new ActionError('cloud_api_error', code, `EC2 is rate-limiting requests (${action}); run again in a minute.`);
    case 'NetworkAclEntryLimitExceeded':
    case 'RulesPerAclLimitExceeded':
      return new ActionError(
        'cloud_api_error',
        code,
        `The network ACL is full (${code}: 20 entries per direction by default). Remove entries or ask AWS for a higher limit; the entries this run already added are in its revert context.`
      );
    default:
      break;
  }
  if (/\.NotFound$/.test(code))
    return new ActionError('inventory_not_found', code, `${what} does not exist (EC2 ${code}). Check the id and the region.`);
  if (/\.Malformed$/.test(code)) return new ActionError('input_invalid', code, `${what} is not a well-formed EC2 id (${code}).`);
  if (status >= 500)
    return new ActionError('cloud_api_error', code, `EC2 answered ${status} to ${action} (a server-side error); run again later.`);
  return new ActionError('cloud_api_error', code, `EC2 refused ${action} on ${what} (${code}).`);
}

// ---------------------------------------------------------------------------------------------
// Readiness: EC2 DryRun on every call a capability makes (DryRunOperation = allowed, UnauthorizedOperation = missing).

/** Well-formed ids that name nothing: DryRun checks the permission before the resource. */
const DUMMY = {
  instance: 'i-00000000000000000',
  eni: 'eni-00000000000000000',
  sg: 'sg-00000000000000000',
  acl: 'acl-00000000000000000',
  vpc: 'vpc-00000000000000000'
};

/** Each action a capability needs, as a DryRun request. */
async function dryRunCommand(action: string): Promise<unknown> {
  const m = await import('@aws-sdk/client-ec2');
  const base = { DryRun: true } as const;
  switch (action) {
    case 'ec2:DescribeInstances':
      return new m.DescribeInstancesCommand({ ...base, InstanceIds: [DUMMY.instance] });
    case 'ec2:DescribeSecurityGroups':
      return new m.DescribeSecurityGroupsCommand({ ...base });
    case 'ec2:DescribeNetworkAcls':
      return new m.DescribeNetworkAclsCommand({ ...base });
    case 'ec2:CreateSecurityGroup':
      return new m.CreateSecurityGroupCommand({ ...base, GroupName: 'keydesk-readiness', Description: 'readiness', VpcId: DUMMY.vpc });
    case 'ec2:CreateTags':
      return new m.CreateTagsCommand({ ...base, Resources: [DUMMY.sg], Tags: [{ Key: 'keydesk', Value: 'readiness' }] });
    case 'ec2:RevokeSecurityGroupEgress':
      return new m.RevokeSecurityGroupEgressCommand({
        ...base,
        GroupId: DUMMY.sg,
        IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }]
      });
    case 'ec2:ModifyNetworkInterfaceAttribute':
      return new m.ModifyNetworkInterfaceAttributeCommand({ ...base, NetworkInterfaceId: DUMMY.eni, Groups: [DUMMY.sg] });
    case 'ec2:CreateNetworkAclEntry':
      return new m.CreateNetworkAclEntryCommand({
        ...base,
        NetworkAclId: DUMMY.acl,
        RuleNumber: 1,
        Protocol: '-1',
        RuleAction: 'deny',
        Egress: false,
        CidrBlock: '192.0.2.1/32'
      });
    case 'ec2:DeleteNetworkAclEntry':
      return new m.DeleteNetworkAclEntryCommand({ ...base, NetworkAclId: DUMMY.acl, RuleNumber: 1, Egress: false });
    case 'ec2:StopInstances':
      return new m.StopInstancesCommand({ ...base, InstanceIds: [DUMMY.instance] });
    case 'ec2:StartInstances':
      return new m.StartInstancesCommand({ ...base, InstanceIds: [DUMMY.instance] });
    default:
      throw new Error(`No DryRun request for ${action}`);
  }
}

/**
 * Per host capability: ready when EC2 answers DryRunOperation to every call it makes, missing the actions answered
 * UnauthorizedOperation, unknown when any answer says neither (a network error, throttling, another code).
 */
export async function ec2Readiness(client: EC2Client, signal: AbortSignal): Promise<CapabilityReadiness[]> {
  const verdicts = new Map<string, boolean | null>();
  const all = [...new Set(Object.values(AWS_CAPABILITY_ACTIONS).flat())];
  for (const action of all) {
    try {
      await client.send((await dryRunCommand(action)) as Parameters<EC2Client['send']>[0], { abortSignal: signal });
      verdicts.set(action, null); // a DryRun that "succeeded" is not an answer DryRun gives
    } catch (e) {
      const err = e as SdkError;
      verdicts.set(action, err.name === 'DryRunOperation' ? true : err.name === 'UnauthorizedOperation' ? false : null);
      // No answer at all (unreachable, timed out, cancelled): the other calls would fare no better.
      if (!err.$metadata?.httpStatusCode) break;
    }
  }
  return (Object.keys(AWS_CAPABILITY_ACTIONS) as AwsHostCapability[]).map((capability) => {
    const actions = AWS_CAPABILITY_ACTIONS[capability];
    const missing = actions.filter((a) => verdicts.get(a) === false);
    const unknown = actions.filter((a) => verdicts.get(a) !== true && verdicts.get(a) !== false);
    if (missing.length) return { capability, ready: false, missing };
    if (unknown.length) return { capability, ready: null, missing: [], note: `EC2 gave no DryRun verdict for ${unknown.join(', ')}.` };
    return { capability, ready: true, missing: [] };
  });
}
