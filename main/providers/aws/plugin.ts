import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient, type AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { ok, outcome } from '../outcome.ts';
import { mapStsError, sdkHandler, type LastAnswer } from './sdk.ts';
import { cleanErrorCode, makeScrubber } from '../scrub.ts';
import type { Observed, ValidationPlugin, ValidateContext, ValidationOutcome } from '../plugin.ts';

/**
 * AWS: STS GetCallerIdentity (it needs no IAM permission), after AssumeRole in assume_role mode, with the real SDK.
 * Every request goes through Keydesk's provider HTTP (per-request timeout, cancel signal, host-wide Retry-After), via
 * a small request handler; the SDK's own retries are off so a validation is one honest round trip per call.
 */

const SESSION_NAME = 'keydesk-validation';

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

function client(ctx: ValidateContext, keys: Keys, last: { answer: LastAnswer | null }): STSClient {
  const endpoint = ctx.credential.fields.sts_endpoint;
  return new STSClient({
    region: ctx.credential.fields.region ?? 'us-east-1',
    credentials: keys,
    ...(endpoint ? { endpoint } : {}),
    // Only the credential's own endpoint (or AWS's default for its region) is used: never AWS_ENDPOINT_URL_* or
    // ~/.aws/config, which could send a signed request elsewhere.
    ignoreConfiguredEndpointUrls: true,
    useFipsEndpoint: false,
    useDualstackEndpoint: false,
    maxAttempts: 1,
    requestHandler: sdkHandler(ctx.http, last)
  });
}

function identityOf(r: { Account?: string; Arn?: string; UserId?: string }): Record<string, string> | null {
  if (typeof r.Account !== 'string' || !/^\d{12}$/.test(r.Account) || typeof r.Arn !== 'string' || !r.Arn.startsWith('arn:')) return null;
  return { account_id: r.Account, arn: r.Arn, ...(typeof r.UserId === 'string' ? { user_id: r.UserId } : {}) };
}

const NO_CAPABILITIES: Observed['readiness'] = [];

/**
 * Each host capability's readiness from EC2's own answer (DryRun). A credential that overrides the STS endpoint
 * (a proxy, GovCloud, a test peer) but not EC2's would have its DryRun requests sent to AWS's public endpoint: its
 * readiness stays unknown until ec2_endpoint says where EC2 is.
 */
async function readiness(ctx: ValidateContext, keys: Keys): Promise<Observed['readiness']> {
  const ids = ['isolate', 'block_ip', 'power'] as const;
  if (ctx.credential.fields.sts_endpoint && !ctx.credential.fields.ec2_endpoint)
    return ids.map((capability) => ({
      capability,
      ready: null,
      missing: [],
      note: 'sts_endpoint is overridden but ec2_endpoint is not: set ec2_endpoint to check EC2 permissions.'
    }));
  const { ec2Client, ec2Readiness } = await import('./ec2.ts');
  const client = ec2Client(ctx.credential, ctx.http, keys, ctx.credential.fields.region ?? 'us-east-1');
  try {
    return await ec2Readiness(client, ctx.signal);
  } finally {
    client.destroy();
  }
}

async function validate(ctx: ValidateContext): Promise<ValidationOutcome> {
  const keyId = ctx.credential.secrets.access_key_id;
  const secret = ctx.credential.secrets.secret_access_key;
  if (!keyId || !secret)
    return outcome('failed', 'MISSING_FIELD', 'The credential needs both the access key ID and the secret access key.');
  const last: { answer: LastAnswer | null } = { answer: null };
  let keys: Keys = { accessKeyId: keyId.reveal(), secretAccessKey: secret.reveal() };
  const token = ctx.credential.secrets.session_token;
  if (token) keys.sessionToken = token.reveal();
  const observed: Observed = { readiness: NO_CAPABILITIES };
  const identity: Record<string, string> = {};

  if (ctx.credential.mode === 'assume_role') {
    const roleArn = ctx.credential.fields.role_arn ?? '';
    const input: AssumeRoleCommandInput = { RoleArn: roleArn, RoleSessionName: SESSION_NAME };
    const externalId = ctx.credential.secrets.external_id;
    if (externalId) input.ExternalId = externalId.reveal();
    if (ctx.credential.fields.session_policy) input.Policy = ctx.credential.fields.session_policy;
    if (ctx.credential.fields.duration_seconds) input.DurationSeconds = Number(ctx.credential.fields.duration_seconds);
    const source = client(ctx, keys, last);
    try {
      const r = await source.send(new AssumeRoleCommand(input), { abortSignal: ctx.signal });
      const c = r.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken)
        return outcome(
          'unknown',
          'MALFORMED_RESPONSE',
          'STS answered AssumeRole without temporary credentials (check sts_endpoint). Validate again later.'
        );
      keys = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
      identity.role_arn = roleArn;
      if (c.Expiration instanceof Date && !Number.isNaN(c.Expiration.getTime())) identity.session_expires_at = c.Expiration.toISOString();
    } catch (e) {
      return mapStsError(e, last.answer, 'AssumeRole', roleArn);
    } finally {
      source.destroy();
    }
  }

  // The role session's keys are secrets too, though the vault never stores them: an STS (or proxy) that echoes what it
  // was sent must not get them into a message. The validation service scrubs the stored secrets; these are scrubbed here.
  const session =
    ctx.credential.mode === 'assume_role' ? makeScrubber([keys.accessKeyId, keys.secretAccessKey, keys.sessionToken ?? '']) : null;
  const sts = client(ctx, keys, last);
  try {
    const r = await sts.send(new GetCallerIdentityCommand({}), { abortSignal: ctx.signal });
    const who = identityOf(r);
    if (!who)
      return outcome(
        'unknown',
        'MALFORMED_RESPONSE',
        'STS answered GetCallerIdentity without an account id and ARN (check sts_endpoint). Validate again later.'
      );
    observed.identity = { ...who, ...identity };
    observed.readiness = await readiness(ctx, keys);
    // The role session's expiry is the session's, not the credential's: the source keys make a new one each time, so
    // it is recorded with the identity, not as the credential's expiry (which would read "expired" an hour later).
    return ok(observed);
  } catch (e) {
    const o = mapStsError(e, last.answer, 'GetCallerIdentity');
    if (!session || !o.error) return o;
    return { ...o, error: { code: cleanErrorCode(o.error.code, session), message: session.scrub(o.error.message) } };
  } finally {
    sts.destroy();
  }
}

export const plugin: ValidationPlugin = { validate };
