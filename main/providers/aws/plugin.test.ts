import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startStsPeer, type StsPeer } from '../../../e2e/peers/sts.ts';
import { containsAnyEncoding, keychainVault, type TempVault } from '../../testing/fixtures.ts';
import { lifecycleOf, readinessOf } from '../../credentials/lifecycle.ts';
import { defaultRegistry } from '../registry.ts';

/**
 * AWS through the real validation service and the real @aws-sdk/client-sts, against the loopback STS that verifies
 * each request's SigV4 signature with the secret it knows. sts_endpoint points the SDK at the peer.
 */
let peer: StsPeer;
let v: TempVault;
beforeAll(async () => {
  peer = await startStsPeer();
  v = await keychainVault();
});
afterAll(async () => {
  await v.cleanup();
  await peer.close();
});
afterEach(() => {
  peer.reset();
  peer.sts.echoSecrets = false;
  peer.sts.getCallerIdentityError = null;
  peer.sts.clockOffsetMs = 0;
});

let n = 0;
function accessKey(keys: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) {
  return v.app.credentials.add({
    name: `aws-${++n}`,
    provider: 'aws',
    mode: 'access_key',
    values: {
      access_key_id: keys.accessKeyId,
      secret_access_key: keys.secretAccessKey,
      ...(keys.sessionToken ? { session_token: keys.sessionToken } : {}),
      region: 'eu-west-1',
      sts_endpoint: peer.url
    }
  });
}
function assumeRole(keys: { accessKeyId: string; secretAccessKey: string }, roleArn: string, extra: Record<string, string> = {}) {
  return v.app.credentials.add({
    name: `aws-role-${++n}`,
    provider: 'aws',
    mode: 'assume_role',
    values: {
      access_key_id: keys.accessKeyId,
      secret_access_key: keys.secretAccessKey,
      role_arn: roleArn,
      region: 'eu-west-1',
      sts_endpoint: peer.url,
      ...extra
    }
  });
}
const validate = async (id: string, timeoutMs?: number) => (await v.app.validation.validate(id, timeoutMs ? { timeoutMs } : {})).credential;

describe('aws access_key', () => {
  it('ok: GetCallerIdentity; the account id and ARN become readable identity; readiness unknown without ec2_endpoint', async () => {
    const u = peer.sts.addUser({ name: 'responder' });
    const c = accessKey(u);
    const r = await validate(c.id);
    expect(r).toMatchObject({
      status: 'ok',
      lastError: null,
      observed: { identity: { account_id: '123456789012', arn: 'arn:aws:iam::123456789012:user/responder', user_id: u.userId } }
    });
    // STS is overridden (the peer) but EC2 is not: no DryRun goes to AWS's public endpoint, readiness stays unknown.
    expect(readinessOf(r, defaultRegistry)).toMatchObject({
      known: true,
      lines: ['isolate', 'block_ip', 'power'].map((capability) => expect.objectContaining({ capability, ready: null })),
      note: null
    });
    expect(peer.control.requests).toEqual([expect.objectContaining({ method: 'POST', path: '/' })]);
  });

  it('failed: a wrong secret key (the peer’s real signature check) is SignatureDoesNotMatch', async () => {
    const u = peer.sts.addUser();
    const c = accessKey({ ...u, secretAccessKey: `${u.secretAccessKey.slice(0, -2)}zz` });
    expect(await validate(c.id)).toMatchObject({ status: 'failed', lastError: { code: 'SignatureDoesNotMatch' } });
  });

  it('failed: an unknown or deleted access key id is InvalidClientTokenId', async () => {
    const u = peer.sts.addUser();
    const c = accessKey(u);
    peer.sts.deleteKey(u.accessKeyId);
    const r = await validate(c.id);
    expect(r).toMatchObject({ status: 'failed', lastError: { code: 'InvalidClientTokenId' } });
    expect(r.lastError?.message).toMatch(/wrong, deleted or deactivated/);
  });

  it('expired: temporary keys whose session ended are ExpiredToken', async () => {
    const u = peer.sts.addUser();
    const role = peer.sts.addRole({ name: 'Temp', trusted: [u.accessKeyId] });
    const s = peer.sts.issueSession(role);
    const c = accessKey(s);
    expect((await validate(c.id)).status).toBe('ok');
    peer.sts.expireSessions();
    expect(await validate(c.id)).toMatchObject({ status: 'expired', lastError: { code: 'ExpiredToken' } });
  });

  it('unknown: 500, throttling beyond the Retry-After we wait, a malformed answer and a hang', async () => {
    const c = accessKey(peer.sts.addUser());
    peer.setFault('server_error');
    expect(await validate(c.id)).toMatchObject({ status: 'unknown', lastError: { code: 'HTTP_500' } });
    peer.reset();
    peer.setFault('rate_limited', { retryAfterSeconds: 90 });
    expect(await validate(c.id)).toMatchObject({
      status: 'unknown',
      lastError: { code: 'Throttling', message: 'STS is rate-limiting requests; validate again in 90 s.' }
    });
    peer.reset();
    // What STS itself answers when it throttles: HTTP 400 with the Throttling code (no Retry-After).
    peer.sts.getCallerIdentityError = { status: 400, code: 'Throttling', message: 'Rate exceeded' };
    expect(await validate(c.id)).toMatchObject({
      status: 'unknown',
      lastError: { code: 'Throttling', message: 'STS is rate-limiting requests; validate again later.' }
    });
    peer.sts.getCallerIdentityError = null;
    peer.setFault('malformed');
    expect(await validate(c.id)).toMatchObject({ status: 'unknown', lastError: { code: 'MALFORMED_RESPONSE' } });
    peer.reset();
    peer.setFault('hang');
    expect(await validate(c.id, 200)).toMatchObject({ status: 'unknown', lastError: { code: 'PROVIDER_UNREACHABLE' } });
  });

  it('unknown, not failed: a clock more than 15 minutes off (AWS: "Signature expired" / "not yet current") says nothing about the keys', async () => {
    const c = accessKey(peer.sts.addUser());
    for (const offset of [20 * 60_000, -20 * 60_000]) {
      peer.sts.clockOffsetMs = offset;
      expect(await validate(c.id)).toMatchObject({
        status: 'unknown',
        lastError: { code: 'SignatureDoesNotMatch', message: expect.stringContaining('clock') }
      });
    }
    peer.sts.clockOffsetMs = 0;
    expect((await validate(c.id)).status).toBe('ok');
  });

  it('a 429 with a short Retry-After is waited out and the real answer recorded', async () => {
    const c = accessKey(peer.sts.addUser());
    peer.setFault('rate_limited', { retryAfterSeconds: 1, count: 1 });
    expect((await validate(c.id)).status).toBe('ok');
    expect(peer.control.requests).toHaveLength(2);
  });
});

describe('aws assume_role', () => {
  it('ok: AssumeRole with the external id, session policy and duration, then GetCallerIdentity with the session', async () => {
    const u = peer.sts.addUser();
    const role = peer.sts.addRole({
      name: 'KeydeskResponder',
      trusted: [u.accessKeyId],
      externalId: 'soc-ext-42',
      maxSessionDuration: 7200
    });
    const policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}';
    const c = assumeRole(u, role, { external_id: 'soc-ext-42', session_policy: policy, duration_seconds: '1800' });
    const r = await validate(c.id);
    expect(r.status).toBe('ok');
    expect(peer.sts.assumeRoleCalls).toEqual([
      expect.objectContaining({ roleArn: role, externalId: 'soc-ext-42', policy, durationSeconds: 1800, by: u.accessKeyId })
    ]);
    expect(r.observed.identity).toMatchObject({
      account_id: '123456789012',
      arn: 'arn:aws:sts::123456789012:assumed-role/KeydeskResponder/keydesk-validation',
      role_arn: role
    });
    // The STS session expiry is recorded (as the session's, not the credential's: the source keys stay valid).
    const sessionEnds = Date.parse((r.observed.identity as Record<string, string>).session_expires_at ?? '');
    expect(sessionEnds - Date.now()).toBeGreaterThan(1700_000);
    expect(r.expiresAt).toBeNull();
    expect(lifecycleOf(r, defaultRegistry, new Date()).session?.label).toMatch(/^session expires in (29|30) min/);
  });

  it('failed: AccessDenied on AssumeRole names sts:AssumeRole and the role', async () => {
    const u = peer.sts.addUser();
    const role = peer.sts.addRole({ name: 'Strict', trusted: [u.accessKeyId], externalId: 'needed-ext' });
    const c = assumeRole(u, role);
    const r = await validate(c.id);
    expect(r).toMatchObject({ status: 'failed', lastError: { code: 'AccessDenied' } });
    expect(r.lastError?.message).toContain(`sts:AssumeRole on ${role}`);
  });

  it('failed: bad source keys fail at AssumeRole; a duration over the role maximum is refused', async () => {
    const u = peer.sts.addUser();
    const role = peer.sts.addRole({ name: 'R', trusted: [u.accessKeyId], maxSessionDuration: 3600 });
    const bad = assumeRole({ ...u, secretAccessKey: 'A'.repeat(40) }, role);
    expect(await validate(bad.id)).toMatchObject({ status: 'failed', lastError: { code: 'SignatureDoesNotMatch' } });
    const long = assumeRole(u, role, { duration_seconds: '7200' });
    expect(await validate(long.id)).toMatchObject({ status: 'failed', lastError: { code: 'ValidationError' } });
    expect(peer.sts.assumeRoleCalls.at(-1)).toMatchObject({ durationSeconds: 7200 });
  });

  it('expired: source keys that are an expired session', async () => {
    const u = peer.sts.addUser();
    const role = peer.sts.addRole({ name: 'Chain', trusted: [u.accessKeyId] });
    const s = peer.sts.issueSession(role, { expired: true });
    const c = v.app.credentials.add({
      name: `aws-chain-${++n}`,
      provider: 'aws',
      mode: 'access_key',
      values: {
        access_key_id: s.accessKeyId,
        secret_access_key: s.secretAccessKey,
        session_token: s.sessionToken,
        region: 'eu-west-1',
        sts_endpoint: peer.url
      }
    });
    expect((await validate(c.id)).status).toBe('expired');
  });
});

describe('aws canary', () => {
  it('an STS that echoes the access key id and session token in its errors never gets them stored, returned or audited', async () => {
    const keyId = `AKIACANARY${randomBytes(8).toString('hex').toUpperCase()}`;
    const secret = `canarySecret/${randomBytes(12).toString('base64url')}`;
    const u = peer.sts.addUser({ accessKeyId: keyId, secretAccessKey: secret });
    const role = peer.sts.addRole({ name: 'Echo', trusted: [u.accessKeyId], maxSessionDuration: 3600 });
    const s = peer.sts.issueSession(role);
    // ValidationError is the answer whose own words Keydesk passes on; the echoing STS puts the key id in them.
    const tooLong = assumeRole(u, role, { duration_seconds: '7200' });
    const temp = accessKey(s);
    peer.sts.echoSecrets = true;
    const first = await v.app.validation.validateAll({ refs: [tooLong.id] });
    expect(first.results[0]?.credential.lastError).toMatchObject({
      code: 'ValidationError',
      message: expect.stringContaining('[redacted]')
    });
    peer.setFault('revoked');
    const second = await v.app.validation.validateAll({ refs: [temp.id] });
    expect(second.results[0]?.credential.status).toBe('failed');
    const everything = [
      JSON.stringify(first),
      JSON.stringify(second),
      JSON.stringify(v.app.credentials.list()),
      JSON.stringify([...v.app.audit.export()])
    ].join('\n');
    for (const canary of [keyId, secret, s.sessionToken, s.accessKeyId]) expect(containsAnyEncoding(everything, canary)).toBeNull();
  });

  it('the role session AssumeRole issued (never stored) is scrubbed too, when STS echoes it in its answer to GetCallerIdentity', async () => {
    const u = peer.sts.addUser();
    const role = peer.sts.addRole({ name: 'EchoSession', trusted: [u.accessKeyId] });
    const c = assumeRole(u, role);
    const before = new Set(peer.sts.sessions.keys());
    peer.sts.echoSecrets = true;
    peer.sts.getCallerIdentityError = { status: 400, code: 'ValidationError', message: 'request rejected' };
    const r = await v.app.validation.validateAll({ refs: [c.id] });
    const issued = [...peer.sts.sessions.values()].filter((x) => !before.has(x.accessKeyId));
    expect(issued).toHaveLength(1);
    expect(r.results[0]?.credential.lastError).toMatchObject({ code: 'ValidationError', message: expect.stringContaining('[redacted]') });
    const everything = [JSON.stringify(r), JSON.stringify(v.app.credentials.list()), JSON.stringify([...v.app.audit.export()])].join('\n');
    for (const canary of [issued[0]!.accessKeyId, issued[0]!.sessionToken, issued[0]!.secretAccessKey])
      expect(containsAnyEncoding(everything, canary)).toBeNull();
  });
});
