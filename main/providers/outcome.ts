import { KeydeskError } from '../errors.ts';
import { retryAfterMs } from './http.ts';
import type { Observed, ValidationOutcome } from './plugin.ts';

/**
 * Small helpers plugins share to turn an HTTP answer into an honest ValidationOutcome. The rules (DESIGN.md): a bad
 * key is `failed`, an expired secret `expired`; network errors, timeouts, 5xx, throttling and malformed answers are
 * `unknown` (they say nothing about the credential). Messages are written for an analyst; the validation service
 * still scrubs every one of them of the credential's secrets before it is stored or shown.
 */

/** Larger answers than this are not read: a validation call's answer is small, and a huge one is not the API we expect. */
export const MAX_ANSWER_BYTES = 1 << 20;

export function outcome(status: ValidationOutcome['status'], code: string, message: string, observed?: Observed): ValidationOutcome {
  return { status, error: { code, message }, ...(observed ? { observed } : {}) };
}

export function ok(observed: Observed, expiresAt?: string | null): ValidationOutcome {
  return { status: 'ok', error: null, observed, ...(expiresAt !== undefined ? { expiresAt } : {}) };
}

/** The body as text, at most `max` bytes (a larger answer is treated as malformed). */
export async function readText(res: Response, max = MAX_ANSWER_BYTES): Promise<string | null> {
  const bytes = await readBytes(res, max);
  return bytes === null ? null : Buffer.from(bytes).toString('utf8');
}

/** The body's bytes, at most `max` of them; null (and the rest of the body dropped) when the answer is larger. */
export async function readBytes(res: Response, max = MAX_ANSWER_BYTES): Promise<Uint8Array | null> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > max) {
    await res.body?.cancel().catch(() => undefined);
    return null;
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** JSON.parse that answers undefined instead of throwing. */
export function parseJson(text: string | null): unknown {
  if (text === null || text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The provider's own short message from a JSON error body (message, error_description, error.message, detail). */
export function providerMessage(body: unknown): string | null {
  if (!body || typeof body !== 'object') return null;
  const o = body as Record<string, unknown>;
  for (const k of ['message', 'error_description', 'detail']) if (typeof o[k] === 'string' && o[k]) return o[k];
  const err = o.error;
  if (err && typeof err === 'object' && typeof (err as Record<string, unknown>).message === 'string')
    return (err as Record<string, string>).message ?? null;
  return null;
}

/** The provider's own error code from a JSON body ("error": "token_expired", or error.code). */
export function providerCode(body: unknown): string | null {
  if (!body || typeof body !== 'object') return null;
  const o = body as Record<string, unknown>;
  if (typeof o.error === 'string') return o.error;
  if (o.error && typeof o.error === 'object' && typeof (o.error as Record<string, unknown>).code === 'string')
    return (o.error as Record<string, string>).code ?? null;
  if (typeof o.code === 'string') return o.code;
  return null;
}

export function withProviderWords(message: string, provider: string, words: string | null): string {
  return words ? `${message} (${provider} said: "${words.slice(0, 200)}")` : message;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the provider';
  }
}

/** 429 after the bounded Retry-After waits: the provider is throttling us; it says nothing about the credential. */
export function throttled(res: Response, what: string): ValidationOutcome {
  const after = retryAfterMs(res.headers.get('retry-after'));
  const when = after === null ? 'later' : `in ${Math.max(1, Math.ceil(after / 1000))} s`;
  return outcome('unknown', 'HTTP_429', `${what} is rate-limiting requests (429 Too Many Requests); validate again ${when}.`);
}

/** 5xx: the provider failed; the credential may be fine. */
export function serverError(res: Response, what: string): ValidationOutcome {
  return outcome(
    'unknown',
    `HTTP_${res.status}`,
    `${what} answered ${res.status} (a server-side error); the credential may be fine. Validate again later.`
  );
}

export function malformed(what: string, expected: string, url?: string): ValidationOutcome {
  return outcome(
    'unknown',
    'MALFORMED_RESPONSE',
    `${what} answered, but not with ${expected}${url ? ` (from ${hostOf(url)}; check the endpoint override)` : ''}. Validate again later.`
  );
}

/** Anything a plugin throws, as an outcome: network errors and timeouts are `unknown`; a plugin bug is `unknown` too. */
export function outcomeFromThrown(e: unknown): ValidationOutcome {
  if (e instanceof KeydeskError) {
    if (e.code === 'PROVIDER_UNREACHABLE')
      return outcome('unknown', e.code, `${e.message} The credential may be fine; validate again when the provider is reachable.`);
    return outcome('unknown', e.code, e.message);
  }
  const name = e instanceof Error ? e.name : typeof e;
  return outcome(
    'unknown',
    'VALIDATION_ERROR',
    `Validation stopped on an unexpected ${name}; the credential was not judged. Validate again, and report this if it persists.`
  );
}

/** `${base}${path}`, keeping any path prefix the base has (a proxy mounted under /hostinger, say). */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}
