import { KeydeskError } from '../../errors.ts';
import { printableProviderText } from '../flow/loopback.ts';

/**
 * Turning a library's failure into a Keydesk error. Library errors can quote a request (and so a token or a code),
 * so their text never passes through: only a KeydeskError found in the cause chain (our own HTTP layer's
 * PROVIDER_UNREACHABLE), the library's error *code*, and fixed wording.
 */

/** The first KeydeskError in an error's cause chain (our fetch wrapper's network errors surface this way). */
export function keydeskCause(e: unknown): KeydeskError | null {
  let cur: unknown = e;
  for (let depth = 0; depth < 8 && cur; depth++) {
    if (cur instanceof KeydeskError) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return null;
}

/** A short, fixed-vocabulary code of a library error (its `code` or `errorCode`), for messages and logs. */
export function libraryCode(e: unknown): string {
  const o = e as { code?: unknown; errorCode?: unknown; name?: unknown } | null;
  for (const v of [o?.code, o?.errorCode, o?.name]) {
    if (typeof v === 'string' && /^[\w.-]{1,64}$/.test(v)) return v;
  }
  return 'error';
}

/**
 * For a library error that is not the provider's OAuth answer: a check failed, or the answer was unusable.
 * `fixedText` is a message the caller knows to be the library's own fixed wording (openid-client's ClientError),
 * never a foreign error's free text.
 */
export function libraryFailure(what: string, host: string, e: unknown, library: string, fixedText?: string): KeydeskError {
  const own = keydeskCause(e);
  if (own) return own;
  const detail = fixedText && /^[\w\s"'().,:-]{1,160}$/.test(fixedText) ? ` — ${printableProviderText(fixedText, 160)}` : '';
  return new KeydeskError('OAUTH_FAILED', `${what} with ${host} failed in ${library} (${libraryCode(e)}${detail}). Nothing was stored.`);
}
