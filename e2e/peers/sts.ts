import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { startPeer, type Peer, type PeerOptions } from './harness.ts';

/**
 * A loopback AWS STS (test support only). It speaks the STS Query API the SDK uses (form POST, version 2011-06-15,
 * XML answers in the https://sts.amazonaws.com/doc/2011-06-15/ namespace) and verifies every request's SigV4
 * signature for real: it recomputes the signature with AWS's own signer (@smithy/signature-v4) from the secret it
 * knows for the access key id, and answers as STS does — `InvalidClientTokenId` for an unknown or deleted key id,
 * `SignatureDoesNotMatch` for a wrong secret (or a tampered request), `ExpiredToken` for an expired session.
 * GetCallerIdentity and AssumeRole (trust, external id, session policy, duration) are implemented; the temporary
 * credentials AssumeRole issues are accepted afterwards, until they expire; each session keeps the session name, inline
 * policy and session tags it was issued with (other peers, e.g. ec2.ts, enforce the policy).
 * Harness faults: wrong_secret → SignatureDoesNotMatch, expired → ExpiredToken, revoked → InvalidClientTokenId
 * (for every request); rate_limited (429 `Throttling`, with Retry-After), server_error (500 `InternalFailure`), both in
 * STS's XML, hang and malformed come from the harness. Real STS throttles with 400 `Throttling`: `getCallerIdentityError`
 * can answer that too.
 */

export const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
/** How far a request's X-Amz-Date may be from the peer's clock (AWS allows 15 minutes). */
export const MAX_SKEW_MS = 15 * 60_000;

// ---------------------------------------------------------------------------------------------------------------
// SigV4 verification (pure; tested against AWS's published test vectors in sts.test.ts)

export interface SignedRequest {
  method: string;
  /** The path as sent, without the query string (percent-encoded as on the wire). */
  path: string;
  query: Record<string, string | string[]>;
  /** Header names lower-case; values as received. */
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export type SigV4Failure = {
  ok: false;
  code: 'MissingAuthenticationToken' | 'IncompleteSignature' | 'InvalidClientTokenId' | 'SignatureDoesNotMatch';
  message: string;
};
export type SigV4Result =
  { ok: true; accessKeyId: string; region: string; service: string; signedAt: Date; signedHeaders: string[] } | SigV4Failure;

const AUTH_RE =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

function parseAmzDate(s: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return null;
  const d = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  return Number.isNaN(d.getTime()) ? null : d;
}

function decodePath(path: string): string {
  return path
    .split('/')
    .map((seg) => {
      try {
        return decodeURIComponent(seg);
      } catch {
        return seg;
      }
    })
    .join('/');
}

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/**
 * Verifies an AWS Signature Version 4 `Authorization` header: parses it, looks up the secret for its access key id,
 * recomputes the signature over the signed headers, the path, the query and the body's SHA-256 with
 * @smithy/signature-v4, and compares in constant time. Does not check the clock (callers do).
 */
export async function verifySigV4(req: SignedRequest, secretFor: (accessKeyId: string) => string | null): Promise<SigV4Result> {
  const auth = headerValue(req.headers.authorization);
  if (!auth) return { ok: false, code: 'MissingAuthenticationToken', message: 'Request is missing Authentication Token' };
  const m = AUTH_RE.exec(auth);
  if (!m)
    return {
      ok: false,
      code: 'IncompleteSignature',
      message: 'Authorization header requires Credential, SignedHeaders and Signature parameters.'
    };
  const [, accessKeyId, day, region, service, signedList, signature] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string
  ];
  const secret = secretFor(accessKeyId);
  if (secret === null)
    return { ok: false, code: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.' };
  const signedHeaders = signedList.split(';');
  if (!signedHeaders.includes('host')) return { ok: false, code: 'SignatureDoesNotMatch', message: SIGNATURE_MISMATCH };
  const amzDate = headerValue(req.headers['x-amz-date']);
  const signedAt = amzDate ? parseAmzDate(amzDate) : null;
  if (!signedAt || !signedHeaders.includes('x-amz-date') || amzDate?.slice(0, 8) !== day) {
    return {
      ok: false,
      code: 'IncompleteSignature',
      message: 'The request must carry a signed X-Amz-Date header matching the credential scope date.'
    };
  }
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const v = headerValue(req.headers[name]);
    if (v === undefined) return { ok: false, code: 'SignatureDoesNotMatch', message: SIGNATURE_MISMATCH };
    headers[name] = v;
  }
  const bodyHash = createHash('sha256').update(req.body, 'utf8').digest('hex');
  // A signed x-amz-content-sha256 must be the body's real hash: the signer would otherwise trust the header.
  if (headers['x-amz-content-sha256'] !== undefined && headers['x-amz-content-sha256'] !== bodyHash) {
    return { ok: false, code: 'SignatureDoesNotMatch', message: SIGNATURE_MISMATCH };
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey: secret },
    region,
    service,
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: false,
    uriEscapePath: true
  });
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: 'https:',
      hostname: (headers.host ?? '').replace(/:\d+$/, ''),
      path: decodePath(req.path),
      query: req.query,
      headers,
      body: req.body
    },
    { signingDate: signedAt, signableHeaders: new Set(signedHeaders), signingRegion: region, signingService: service }
  );
  const expected = /Signature=([0-9a-f]{64})$/.exec(String((signed.headers as Record<string, string>).authorization ?? ''))?.[1] ?? '';
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(signature, 'utf8');
  if (a.length !== b.length || !timingSafeEqual(a, b)) return { ok: false, code: 'SignatureDoesNotMatch', message: SIGNATURE_MISMATCH };
  return { ok: true, accessKeyId, region, service, signedAt, signedHeaders };
}

export function queryOf(url: URL): Record<string, string | string[]> {
  const q: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = q[k];
    q[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return q;
}

// ---------------------------------------------------------------------------------------------------------------
// The STS service

export interface StsUser {
  accessKeyId: string;
  secretAccessKey: string;
  arn: string;
  userId: string;
}

export interface StsRole {
  arn: string;
  /** Access key ids allowed to assume the role (its trust policy). */
  trusted: Set<string>;
  externalId: string | null;
  maxSessionDuration: number;
}

export interface StsSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  arn: string;
  userId: string;
  roleArn: string;
  expiresAt: number;
  /** The RoleSessionName it was issued under ('keydesk-test' for issueSession). */
  roleSessionName: string;
  /** The inline session policy AssumeRole received (JSON), or null: the session then has the role's permissions only. */
  policy: string | null;
  /** The session tags AssumeRole received (`Tags.member.N.Key/Value`). */
  tags: Record<string, string>;
}

export interface AssumeRoleCall {
  roleArn: string;
  roleSessionName: string;
  externalId: string | null;
  policy: string | null;
  /** The session tags sent (`Tags.member.N.Key/Value`). */
  tags: Record<string, string>;
  durationSeconds: number;
  by: string;
}

export interface StsPeerState {
  account: string;
  users: Map<string, StsUser>;
  roles: Map<string, StsRole>;
  sessions: Map<string, StsSession>;
  assumeRoleCalls: AssumeRoleCall[];
  addUser(opts?: { name?: string; accessKeyId?: string; secretAccessKey?: string }): StsUser;
  /** Deletes an access key: later requests signed with it get InvalidClientTokenId. */
  deleteKey(accessKeyId: string): void;
  addRole(opts: { name: string; trusted: string[]; externalId?: string; maxSessionDuration?: number }): string;
  /** Temporary credentials as AssumeRole would issue them (optionally already expired, with a session policy and tags). */
  issueSession(
    roleArn: string,
    opts?: { durationSeconds?: number; expired?: boolean; roleSessionName?: string; policy?: string | null; tags?: Record<string, string> }
  ): StsSession;
  expireSessions(): void;
  /** When set, error messages quote the access key id and session token they were sent (for the canary tests). */
  echoSecrets: boolean;
  /** When set, a correctly signed GetCallerIdentity gets this error instead (echoed like every error; canary tests). */
  getCallerIdentityError: { status: number; code: string; message: string } | null;
  /** The peer's clock is this far from the real one (a client whose clock is off by the opposite amount). */
  clockOffsetMs: number;
}

export interface StsPeer extends Peer {
  sts: StsPeerState;
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function sendXml(res: ServerResponse, status: number, xml: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`;
  res.writeHead(status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body), 'x-amzn-requestid': randomUUID() });
  res.end(body);
}

function stsErrorXml(code: string, message: string, type: 'Sender' | 'Receiver'): string {
  return `<ErrorResponse xmlns="${STS_NS}">\n  <Error>\n    <Type>${type}</Type>\n    <Code>${xmlEscape(code)}</Code>\n    <Message>${xmlEscape(message)}</Message>\n  </Error>\n  <RequestId>${randomUUID()}</RequestId>\n</ErrorResponse>\n`;
}

/** An STS error in STS's own XML shape. */
export function sendStsError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  type: 'Sender' | 'Receiver' = 'Sender'
): void {
  sendXml(res, status, stsErrorXml(code, message, type));
}

/** The harness's generic faults in STS's words: `Throttling` ("Rate exceeded") and `InternalFailure`, as XML. */
export function stsFaultRaw(fault: 'rate_limited' | 'server_error'): { contentType: string; body: string } {
  const xml =
    fault === 'rate_limited'
      ? stsErrorXml('Throttling', 'Rate exceeded', 'Sender')
      : stsErrorXml('InternalFailure', 'An internal error has occurred.', 'Receiver');
  return { contentType: 'text/xml', body: `<?xml version="1.0" encoding="UTF-8"?>\n${xml}` };
}

function upperId(prefix: string): string {
  return prefix + randomBytes(12).toString('hex').toUpperCase().slice(0, 16);
}

export async function startStsPeer(opts: PeerOptions & { account?: string } = {}): Promise<StsPeer> {
  const account = opts.account ?? '123456789012';
  const users = new Map<string, StsUser>();
  const roles = new Map<string, StsRole>();
  const sessions = new Map<string, StsSession>();
  const assumeRoleCalls: AssumeRoleCall[] = [];

  const state: StsPeerState = {
    account,
    users,
    roles,
    sessions,
    assumeRoleCalls,
    echoSecrets: false,
    getCallerIdentityError: null,
    clockOffsetMs: 0,
    addUser(o = {}) {
      const name = o.name ?? `analyst-${randomBytes(3).toString('hex')}`;
      const u: StsUser = {
        accessKeyId: o.accessKeyId ?? upperId('AKIA'),
        secretAccessKey: o.secretAccessKey ?? randomBytes(30).toString('base64').slice(0, 40),
        arn: `arn:aws:iam::${account}:user/${name}`,
        userId: upperId('AIDA')
      };
      users.set(u.accessKeyId, u);
      return u;
    },
    deleteKey(accessKeyId) {
      users.delete(accessKeyId);
      sessions.delete(accessKeyId);
    },
    addRole(o) {
      const arn = `arn:aws:iam::${account}:role/${o.name}`;
      roles.set(arn, {
        arn,
        trusted: new Set(o.trusted),
        externalId: o.externalId ?? null,
        maxSessionDuration: o.maxSessionDuration ?? 3600
      });
      return arn;
    },
    issueSession(roleArn, o = {}) {
      const role = roles.get(roleArn);
      const name = roleArn.split('/').pop() ?? 'role';
      const roleId = upperId('AROA');
      const roleSessionName = o.roleSessionName ?? 'keydesk-test';
      const s: StsSession = {
        accessKeyId: upperId('ASIA'),
        secretAccessKey: randomBytes(30).toString('base64').slice(0, 40),
        sessionToken: `FwoGZXIvYXdzE${randomBytes(96).toString('base64')}`,
        arn: `arn:aws:sts::${account}:assumed-role/${name}/${roleSessionName}`,
        userId: `${roleId}:${roleSessionName}`,
        roleArn: role?.arn ?? roleArn,
        expiresAt: o.expired ? Date.now() - 60_000 : Date.now() + (o.durationSeconds ?? 3600) * 1000,
        roleSessionName,
        policy: o.policy ?? null,
        tags: { ...o.tags }
      };
      sessions.set(s.accessKeyId, s);
      return s;
    },
    expireSessions() {
      for (const s of sessions.values()) s.expiresAt = Date.now() - 1000;
    }
  };

  const peer = await startPeer(
    async (req, res, ctx) => {
      const isForm = String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
      const params = req.method === 'POST' && isForm ? new URLSearchParams(ctx.body) : ctx.url.searchParams;
      const echo = (base: string) => {
        if (!state.echoSecrets) return base;
        const key = /Credential=([^/]+)/.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
        const token = String(req.headers['x-amz-security-token'] ?? '');
        return `${base} (AccessKeyId ${key}${token ? `, session token ${token}` : ''})`;
      };
      /** Every error of this request, quoting the caller's key id and token when the peer is told to misbehave. */
      const fail = (status: number, code: string, message: string) => sendStsError(res, status, code, echo(message));

      if (ctx.control.fault === 'wrong_secret') return fail(403, 'SignatureDoesNotMatch', SIGNATURE_MISMATCH);
      if (ctx.control.fault === 'expired') return fail(400, 'ExpiredToken', 'The security token included in the request is expired');
      if (ctx.control.fault === 'revoked')
        return fail(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');

      const verdict = await verifySigV4(
        {
          method: req.method ?? 'GET',
          path: ctx.url.pathname,
          query: queryOf(ctx.url),
          headers: req.headers as IncomingHttpHeaders,
          body: ctx.body
        },
        (id) => users.get(id)?.secretAccessKey ?? sessions.get(id)?.secretAccessKey ?? null
      );
      if (!verdict.ok)
        return fail(
          verdict.code === 'MissingAuthenticationToken' || verdict.code === 'IncompleteSignature' ? 400 : 403,
          verdict.code,
          verdict.message
        );
      if (verdict.service !== 'sts') return fail(403, 'SignatureDoesNotMatch', `Credential should be scoped to correct service: 'sts'.`);
      // AWS's own words for a request signed by a clock more than 15 minutes off (the peer's clock can be set ahead or
      // behind with clockOffsetMs, as if this computer's clock were wrong).
      const serverNow = Date.now() + state.clockOffsetMs;
      const amz = (t: number) =>
        new Date(t)
          .toISOString()
          .replace(/[-:]/g, '')
          .replace(/\.\d{3}/, '');
      const signed = verdict.signedAt.getTime();
      if (signed < serverNow - MAX_SKEW_MS) {
        return fail(
          403,
          'SignatureDoesNotMatch',
          `Signature expired: ${amz(signed)} is now earlier than ${amz(serverNow - MAX_SKEW_MS)} (${amz(serverNow)} - 15 min.)`
        );
      }
      if (signed > serverNow + MAX_SKEW_MS) {
        return fail(
          403,
          'SignatureDoesNotMatch',
          `Signature not yet current: ${amz(signed)} is still later than ${amz(serverNow + MAX_SKEW_MS)} (${amz(serverNow)} + 15 min.)`
        );
      }

      const session = sessions.get(verdict.accessKeyId);
      if (session) {
        const token = req.headers['x-amz-security-token'];
        if (token !== session.sessionToken || !verdict.signedHeaders.includes('x-amz-security-token')) {
          return fail(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
        }
        if (session.expiresAt <= Date.now()) return fail(400, 'ExpiredToken', 'The security token included in the request is expired');
      }
      const caller = session ?? users.get(verdict.accessKeyId);
      if (!caller) return fail(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');

      if (params.get('Version') !== '2011-06-15')
        return fail(400, 'InvalidAction', `Could not find operation for version ${params.get('Version') ?? '(none)'}`);
      const action = params.get('Action');
      const requestId = randomUUID();

      if (action === 'GetCallerIdentity') {
        const injected = state.getCallerIdentityError;
        if (injected) return fail(injected.status, injected.code, injected.message);
        return sendXml(
          res,
          200,
          `<GetCallerIdentityResponse xmlns="${STS_NS}">\n  <GetCallerIdentityResult>\n    <Arn>${xmlEscape(caller.arn)}</Arn>\n    <UserId>${xmlEscape(caller.userId)}</UserId>\n    <Account>${account}</Account>\n  </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>${requestId}</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n`
        );
      }

      if (action === 'AssumeRole') {
        const roleArn = params.get('RoleArn') ?? '';
        const roleSessionName = params.get('RoleSessionName') ?? '';
        const externalId = params.get('ExternalId');
        const policy = params.get('Policy');
        const durationRaw = params.get('DurationSeconds');
        const durationSeconds = durationRaw === null ? 3600 : Number(durationRaw);
        const tags: Record<string, string> = {};
        for (let i = 1; params.has(`Tags.member.${i}.Key`); i++) {
          tags[params.get(`Tags.member.${i}.Key`) ?? ''] = params.get(`Tags.member.${i}.Value`) ?? '';
        }
        assumeRoleCalls.push({ roleArn, roleSessionName, externalId, policy, tags, durationSeconds, by: verdict.accessKeyId });
        if (!/^[\w+=,.@-]{2,64}$/.test(roleSessionName)) {
          return fail(
            400,
            'ValidationError',
            `1 validation error detected: Value '${roleSessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`
          );
        }
        if (!Number.isInteger(durationSeconds) || durationSeconds < 900) {
          return fail(
            400,
            'ValidationError',
            `1 validation error detected: Value '${String(durationRaw)}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`
          );
        }
        const role = roles.get(roleArn);
        const denied = `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`;
        if (!role || !role.trusted.has(session ? session.roleArn : verdict.accessKeyId)) return fail(403, 'AccessDenied', denied);
        if (role.externalId !== null && externalId !== role.externalId) return fail(403, 'AccessDenied', denied);
        if (durationSeconds > role.maxSessionDuration)
          return fail(400, 'ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
        if (policy !== null) {
          let parsed: unknown;
          try {
            parsed = JSON.parse(policy);
          } catch {
            parsed = null;
          }
          if (!parsed || typeof parsed !== 'object' || !('Statement' in parsed))
            return fail(400, 'MalformedPolicyDocument', 'The policy is not in the valid JSON format.');
          if (policy.length > 2048)
            return fail(400, 'PackedPolicyTooLarge', 'Packed policy consumes 120% of allotted space, please use smaller policy.');
        }
        const s = state.issueSession(role.arn, { durationSeconds, roleSessionName, policy, tags });
        const expiration = new Date(s.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
        return sendXml(
          res,
          200,
          `<AssumeRoleResponse xmlns="${STS_NS}">\n  <AssumeRoleResult>\n    <AssumedRoleUser>\n      <Arn>${xmlEscape(s.arn)}</Arn>\n      <AssumedRoleId>${xmlEscape(s.userId)}</AssumedRoleId>\n    </AssumedRoleUser>\n    <Credentials>\n      <AccessKeyId>${s.accessKeyId}</AccessKeyId>\n      <SecretAccessKey>${xmlEscape(s.secretAccessKey)}</SecretAccessKey>\n      <SessionToken>${xmlEscape(s.sessionToken)}</SessionToken>\n      <Expiration>${expiration}</Expiration>\n    </Credentials>\n${policy !== null ? '    <PackedPolicySize>6</PackedPolicySize>\n' : ''}  </AssumeRoleResult>\n  <ResponseMetadata>\n    <RequestId>${requestId}</RequestId>\n  </ResponseMetadata>\n</AssumeRoleResponse>\n`
        );
      }

      return fail(400, 'InvalidAction', `Could not find operation ${action ?? '(none)'} for version 2011-06-15`);
    },
    { faultRaw: stsFaultRaw, ...opts }
  );

  return Object.assign(peer, { sts: state });
}
