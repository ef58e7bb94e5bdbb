import { KeydeskError } from '../../errors.ts';
import { retryAfterMs, type ProviderHttp } from '../http.ts';
import { outcome, outcomeFromThrown } from '../outcome.ts';
import { MAX_ANSWER_BYTES, readBytes } from '../answers.ts';
import type { ValidationOutcome } from '../plugin.ts';

/**
 * What every AWS call Keydesk makes shares: a smithy request handler over Keydesk's provider HTTP (per-request
 * timeout, cancel signal, host-wide Retry-After) and STS's error codes as an outcome.
 */

/** The part of a smithy HttpRequest the handler reads. */
interface SdkRequest {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

export interface LastAnswer {
  status: number;
  retryAfter: string | null;
}

/** A smithy HttpHandler over ProviderHttp. `last` records the last answer's status for the error mapping. */
export function sdkHandler(http: ProviderHttp, last: { answer: LastAnswer | null }) {
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(request: SdkRequest, options?: { abortSignal?: AbortSignal }) {
      const url = new URL(`${request.protocol}//${request.hostname}${request.port ? `:${request.port}` : ''}${request.path}`);
      for (const [k, v] of Object.entries(request.query ?? {})) {
        if (v === null) url.searchParams.append(k, '');
        else for (const x of Array.isArray(v) ? v : [v]) url.searchParams.append(k, x);
      }
      const headers = new Headers();
      for (const [k, v] of Object.entries(request.headers)) {
        // fetch sets Host and Content-Length itself, to the same values the SDK signed.
        if (k.toLowerCase() !== 'host' && k.toLowerCase() !== 'content-length') headers.set(k, v);
      }
      const body = typeof request.body === 'string' || request.body instanceof Uint8Array ? request.body : undefined;
      const res = await http(url, {
        method: request.method,
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(options?.abortSignal ? { signal: options.abortSignal as AbortSignal } : {})
      });
      last.answer = { status: res.status, retryAfter: res.headers.get('retry-after') };
      // At most 1 MiB is read (an STS answer is a few hundred bytes): a huge body is not STS, and is not buffered.
      const buf = await readBytes(res, MAX_ANSWER_BYTES);
      if (buf === null) throw new KeydeskError('PROVIDER_ERROR', 'STS answered with an oversized body (check sts_endpoint).');
      const out: Record<string, string> = {};
      res.headers.forEach((v, k) => {
        out[k] = v;
      });
      return { response: { statusCode: res.status, reason: res.statusText, headers: out, body: buf } };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs() {
      return {};
    },
    destroy() {}
  };
}

interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** STS's answer to a call, as an outcome. `during` says which call (for the AccessDenied message). */
export function mapStsError(
  e: unknown,
  last: LastAnswer | null,
  during: 'AssumeRole' | 'GetCallerIdentity',
  roleArn?: string
): ValidationOutcome {
  if (e instanceof KeydeskError) return outcomeFromThrown(e);
  const err = (e ?? {}) as SdkError;
  const status = err.$metadata?.httpStatusCode ?? last?.status ?? 0;
  const code = typeof err.name === 'string' ? err.name : 'Error';
  // A request signed by a clock more than 15 minutes off: this computer's clock, not the keys.
  if (
    code === 'RequestExpired' ||
    code === 'RequestTimeTooSkewed' ||
    (code === 'SignatureDoesNotMatch' && /^Signature (expired|not yet current)/.test(err.message ?? ''))
  ) {
    return outcome(
      'unknown',
      code,
      'AWS refused the request’s timestamp: this computer’s clock is more than 15 minutes off. Correct the clock, then validate again.'
    );
  }
  switch (code) {
    case 'InvalidClientTokenId':
      return outcome(
        'failed',
        code,
        'AWS does not recognise the access key ID: it is wrong, deleted or deactivated. Create a new access key in IAM and update the credential.'
      );
    case 'SignatureDoesNotMatch':
      return outcome(
        'failed',
        code,
        'The secret access key does not match the access key ID (AWS rejected the request signature). Check the secret access key.'
      );
    case 'IncompleteSignature':
    case 'MissingAuthenticationToken':
      return outcome('failed', code, 'AWS rejected the request authentication. Check the access key pair.');
    case 'ExpiredToken':
    case 'ExpiredTokenException':
      return outcome(
        'expired',
        code,
        'The session token has expired: get new temporary keys (or use the assume_role mode, which makes a new session each time).'
      );
    case 'AccessDenied':
      if (during === 'AssumeRole') {
        return outcome(
          'failed',
          code,
          `AccessDenied: these keys may not call sts:AssumeRole on ${roleArn ?? 'the role'}. Check the role's trust policy (it must trust this user or account), the external id it requires, and that the keys' policy allows sts:AssumeRole.`
        );
      }
      return outcome('failed', code, 'AWS denied the request (AccessDenied).');
    case 'RegionDisabledException':
      return outcome(
        'failed',
        code,
        'STS is not activated in this region for the account. Activate it in IAM account settings, or choose another region.'
      );
    case 'MalformedPolicyDocument':
    case 'MalformedPolicyDocumentException':
      return outcome('failed', code, 'AWS refused the session policy: it is not a valid IAM policy document. Fix session_policy.');
    case 'PackedPolicyTooLarge':
    case 'PackedPolicyTooLargeException':
      return outcome('failed', code, 'AWS refused the session policy: it is too large. Shorten session_policy.');
    case 'ValidationError':
      return outcome(
        'failed',
        code,
        `AWS refused the ${during} request: ${err.message ?? 'a parameter is not valid'} (check duration_seconds against the role's maximum session duration).`
      );
    case 'Throttling':
    case 'ThrottlingException':
    case 'RequestLimitExceeded':
      return throttledOutcome(last);
    default:
      break;
  }
  if (status === 429) return throttledOutcome(last);
  if (status >= 500)
    return outcome(
      'unknown',
      status ? `HTTP_${status}` : code,
      `STS answered ${status} (a server-side error); the credential may be fine. Validate again later.`
    );
  if (status >= 200 && status < 300)
    return outcome(
      'unknown',
      'MALFORMED_RESPONSE',
      `STS answered ${during}, but not with the XML it should (check sts_endpoint). Validate again later.`
    );
  if (status === 401 || status === 403) return outcome('failed', code, `AWS rejected the credential (${status} ${code}).`);
  return outcome(
    'unknown',
    code,
    `STS answered ${status || 'without a status'} (${code}); that says nothing clear about the keys. Check sts_endpoint and region, then validate again.`
  );
}

function throttledOutcome(last: LastAnswer | null): ValidationOutcome {
  const after = retryAfterMs(last?.retryAfter ?? null);
  return outcome(
    'unknown',
    'Throttling',
    `STS is rate-limiting requests; validate again ${after === null ? 'later' : `in ${Math.max(1, Math.ceil(after / 1000))} s`}.`
  );
}
