import { KeydeskError } from '../errors.ts';
import { retryAfterMs } from './http.ts';
import type { Observed, ValidationOutcome } from './plugin.ts';

/**
 * Small helpers plugins share to turn an HTTP answer into an honest ValidationOutcome. The rules (DESIGN.md): a bad
 * key is `failed`, an expired secret `expired`; network errors, timeouts, 5xx, throttling and malformed answers are
 * `unknown` (they say nothing about the credential). Messages are written for an analyst; the validation service
 * still scrubs every one of them of the credential's secrets before it is stored or shown.
 */

export function outcome(status: ValidationOutcome['status'], code: string, message: string, observed?: Observed): ValidationOutcome {
  return { status, error: { code, message }, ...(observed ? { observed } : {}) };
}

export function ok(observed: Observed, expiresAt?: string | null): ValidationOutcome {
  return { status: 'ok', error: null, observed, ...(expiresAt !== undefined ? { expiresAt } : {}) };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the provider';
  }
}

/**
 * 429 or 5xx from `what`: the provider is throttling us or failed, which says nothing about the credential (`unknown`);
 * null for any other status. `retryAfter` is the answer's Retry-After header where the plugin still has it.
 */
export function unavailable(status: number, what: string, retryAfter?: string | null): ValidationOutcome | null {
  if (status === 429) {
    const after = retryAfter === undefined ? null : retryAfterMs(retryAfter);
    const when = after !== null ? `in ${Math.max(1, Math.ceil(after / 1000))} s` : retryAfter === undefined ? 'in a minute' : 'later';
    return outcome('unknown', 'HTTP_429', `${what} is rate-limiting requests (429 Too Many Requests); validate again ${when}.`);
  }
  if (status >= 500)
    return outcome(
      'unknown',
      `HTTP_${status}`,
      `${what} answered ${status} (a server-side error); the credential may be fine. Validate again later.`
    );
  return null;
}

/** 429 after the bounded Retry-After waits: the provider is throttling us; it says nothing about the credential. */
export function throttled(res: Response, what: string): ValidationOutcome {
  return unavailable(429, what, res.headers.get('retry-after'))!;
}

/** 5xx: the provider failed; the credential may be fine. */
export function serverError(res: Response, what: string): ValidationOutcome {
  return unavailable(res.status, what)!;
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
