import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient, type STSClientConfig } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStsPeer, verifySigV4, type SignedRequest, type StsPeer } from './sts.ts';

/**
 * AWS's published Signature Version 4 test suite (docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html),
 * as carried in smithy-lang/smithy-typescript packages/signature-v4/src/suite.fixture.ts: the credentials, date and
 * expected Authorization headers below are AWS's, not ours.
 */
const SUITE_KEY = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const SCOPE = 'AKIDEXAMPLE/20150830/us-east-1/service/aws4_request';
const suiteSecret = (id: string) => (id === SUITE_KEY.accessKeyId ? SUITE_KEY.secretAccessKey : null);

function vector(over: Partial<SignedRequest> & { signedHeaders: string; signature: string }): SignedRequest {
  const { signedHeaders, signature, ...rest } = over;
  return {
    method: 'GET',
    path: '/',
    query: {},
    body: '',
    ...rest,
    headers: {
      host: 'example.amazonaws.com',
      'x-amz-date': '20150830T123600Z',
      ...rest.headers,
      authorization: `AWS4-HMAC-SHA256 Credential=${SCOPE}, SignedHeaders=${signedHeaders}, Signature=${signature}`
    }
  };
}

const GET_VANILLA = vector({
  signedHeaders: 'host;x-amz-date',
  signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'
});

describe('verifySigV4 against AWS’s published SigV4 test vectors', () => {
  it('get-vanilla verifies', async () => {
    expect(await verifySigV4(GET_VANILLA, suiteSecret)).toMatchObject({
      ok: true,
      accessKeyId: 'AKIDEXAMPLE',
      region: 'us-east-1',
      service: 'service'
    });
  });

  it('get-vanilla-query-order-key-case verifies (the query is sorted before signing)', async () => {
    const r = await verifySigV4(
      vector({
        query: { Param2: 'value2', Param1: 'value1' },
        signedHeaders: 'host;x-amz-date',
        signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500'
      }),
      suiteSecret
    );
    expect(r.ok).toBe(true);
  });

  it('get-utf8 verifies from the percent-encoded path as sent on the wire', async () => {
    const r = await verifySigV4(
      vector({
        path: '/%E1%88%B4',
        signedHeaders: 'host;x-amz-date',
        signature: '8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85'
      }),
      suiteSecret
    );
    expect(r.ok).toBe(true);
  });

  it('post-x-www-form-urlencoded verifies (a signed form body, as STS requests are)', async () => {
    const r = await verifySigV4(
      vector({
        method: 'POST',
        body: 'Param1=value1',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        signedHeaders: 'content-type;host;x-amz-date',
        signature: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a'
      }),
      suiteSecret
    );
    expect(r.ok).toBe(true);
  });

  it('post-sts-header-before verifies (a signed session token header)', async () => {
    const r = await verifySigV4(
      vector({
        method: 'POST',
        headers: {
          'x-amz-security-token':
            'AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=='
        },
        signedHeaders: 'host;x-amz-date;x-amz-security-token',
        signature: '85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead'
      }),
      suiteSecret
    );
    expect(r.ok).toBe(true);
  });

  it('rejects the vector signed with another secret (SignatureDoesNotMatch)', async () => {
    const r = await verifySigV4(GET_VANILLA, () => 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ');
    expect(r).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
  });

  it('rejects a tampered request: another path, another body, another signed header value', async () => {
    expect(await verifySigV4({ ...GET_VANILLA, path: '/other' }, suiteSecret)).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    expect(await verifySigV4({ ...GET_VANILLA, body: 'x' }, suiteSecret)).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    expect(await verifySigV4({ ...GET_VANILLA, headers: { ...GET_VANILLA.headers, host: 'evil.example' } }, suiteSecret)).toMatchObject({
      ok: false,
      code: 'SignatureDoesNotMatch'
    });
  });

  it('rejects an unknown access key id (InvalidClientTokenId) and a missing or garbled header', async () => {
    expect(await verifySigV4(GET_VANILLA, () => null)).toMatchObject({ ok: false, code: 'InvalidClientTokenId' });
    expect(await verifySigV4({ ...GET_VANILLA, headers: { host: 'example.amazonaws.com' } }, suiteSecret)).toMatchObject({
      ok: false,
      code: 'MissingAuthenticationToken'
    });
    expect(
      await verifySigV4(
        { ...GET_VANILLA, headers: { ...GET_VANILLA.headers, authorization: 'AWS4-HMAC-SHA256 Credential=x' } },
        suiteSecret
      )
    ).toMatchObject({ ok: false, code: 'IncompleteSignature' });
  });

  it('refuses a signed x-amz-content-sha256 that is not the body’s hash', async () => {
    const r = await verifySigV4(
      vector({
        method: 'POST',
        body: 'Action=AssumeRole',
        headers: { 'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
        signedHeaders: 'host;x-amz-content-sha256;x-amz-date',
        signature: '0'.repeat(64)
      }),
      suiteSecret
    );
    expect(r).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
  });
});

describe('the STS peer against the real AWS SDK (its own HTTP handler)', () => {
  let peer: StsPeer;
  beforeAll(async () => {
    peer = await startStsPeer();
  });
  afterAll(async () => {
    await peer.close();
  });

  const sts = (keys: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
    new STSClient({ region: 'eu-west-1', endpoint: peer.url, credentials: keys, maxAttempts: 1, ignoreConfiguredEndpointUrls: true });
  const errorName = async (p: Promise<unknown>) =>
    p.then(
      () => 'no error',
      (e: { name?: string }) => e.name
    );

  it('listens on 127.0.0.1 only', () => {
    expect(new URL(peer.url).hostname).toBe('127.0.0.1');
  });

  it('answers GetCallerIdentity for a known key with the caller’s account and ARN', async () => {
    peer.reset();
    const u = peer.sts.addUser({ name: 'alice' });
    const r = await sts(u).send(new GetCallerIdentityCommand({}));
    expect(r).toMatchObject({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/alice' });
  });

  it('checks the signature for real: a wrong secret is SignatureDoesNotMatch, an unknown or deleted key InvalidClientTokenId', async () => {
    peer.reset();
    const u = peer.sts.addUser();
    expect(
      await errorName(sts({ ...u, secretAccessKey: `${u.secretAccessKey.slice(0, -1)}X` }).send(new GetCallerIdentityCommand({})))
    ).toBe('SignatureDoesNotMatch');
    expect(await errorName(sts({ ...u, accessKeyId: 'AKIAUNKNOWNUNKNOWN00' }).send(new GetCallerIdentityCommand({})))).toBe(
      'InvalidClientTokenId'
    );
    peer.sts.deleteKey(u.accessKeyId);
    expect(await errorName(sts(u).send(new GetCallerIdentityCommand({})))).toBe('InvalidClientTokenId');
  });

  it('AssumeRole issues temporary credentials the peer then accepts, until they expire (ExpiredToken)', async () => {
    peer.reset();
    const u = peer.sts.addUser();
    const role = peer.sts.addRole({ name: 'Responder', trusted: [u.accessKeyId], externalId: 'ext-0001' });
    const r = await sts(u).send(
      new AssumeRoleCommand({
        RoleArn: role,
        RoleSessionName: 's1',
        ExternalId: 'ext-0001',
        DurationSeconds: 900,
        Policy: '{"Version":"2012-10-17","Statement":[]}'
      })
    );
    const c = r.Credentials;
    expect(c?.AccessKeyId).toMatch(/^ASIA/);
    expect(c?.Expiration?.getTime()).toBeGreaterThan(Date.now() + 800_000);
    const temp = { accessKeyId: c?.AccessKeyId ?? '', secretAccessKey: c?.SecretAccessKey ?? '', sessionToken: c?.SessionToken ?? '' };
    expect((await sts(temp).send(new GetCallerIdentityCommand({}))).Arn).toBe('arn:aws:sts::123456789012:assumed-role/Responder/s1');
    expect(await errorName(sts({ ...temp, sessionToken: 'forged' }).send(new GetCallerIdentityCommand({})))).toBe('InvalidClientTokenId');
    peer.sts.expireSessions();
    expect(await errorName(sts(temp).send(new GetCallerIdentityCommand({})))).toBe('ExpiredToken');
  });

  it('AssumeRole refuses an untrusted caller, a wrong external id, a too-long session and a malformed policy', async () => {
    peer.reset();
    const u = peer.sts.addUser();
    const stranger = peer.sts.addUser();
    const role = peer.sts.addRole({ name: 'Guarded', trusted: [u.accessKeyId], externalId: 'ext-0002', maxSessionDuration: 3600 });
    expect(
      await errorName(sts(stranger).send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'keydesk-test', ExternalId: 'ext-0002' })))
    ).toBe('AccessDenied');
    expect(
      await errorName(sts(u).send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'keydesk-test', ExternalId: 'wrong' })))
    ).toBe('AccessDenied');
    expect(
      await errorName(
        sts(u).send(
          new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'keydesk-test', ExternalId: 'ext-0002', DurationSeconds: 7200 })
        )
      )
    ).toBe('ValidationError');
    expect(
      await errorName(
        sts(u).send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'keydesk-test', ExternalId: 'ext-0002', Policy: 'not json' }))
      )
    ).toBe('MalformedPolicyDocumentException');
  });

  it('answers the harness credential faults with STS’s own codes', async () => {
    const u = peer.sts.addUser();
    for (const [fault, code] of [
      ['wrong_secret', 'SignatureDoesNotMatch'],
      ['expired', 'ExpiredToken'],
      ['revoked', 'InvalidClientTokenId']
    ] as const) {
      peer.reset();
      peer.setFault(fault);
      expect(await errorName(sts(u).send(new GetCallerIdentityCommand({})))).toBe(code);
    }
    peer.reset();
  });

  it('speaks STS’s XML error format', async () => {
    peer.reset();
    const res = await fetch(peer.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=GetCallerIdentity&Version=2011-06-15'
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('text/xml');
    const xml = await res.text();
    expect(xml).toContain('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">');
    expect(xml).toMatch(/<Code>MissingAuthenticationToken<\/Code>/);
  });

  it('refuses a request signed for another service', async () => {
    peer.reset();
    const u = peer.sts.addUser();
    const s3scoped = new STSClient({
      region: 'eu-west-1',
      endpoint: peer.url,
      credentials: u,
      maxAttempts: 1,
      signingName: 's3'
    } as STSClientConfig);
    const e = await s3scoped.send(new GetCallerIdentityCommand({})).then(
      () => null,
      (x: Error) => x
    );
    expect(e?.name).toBe('SignatureDoesNotMatch');
    expect(e?.message).toContain("scoped to correct service: 'sts'");
  });
});
