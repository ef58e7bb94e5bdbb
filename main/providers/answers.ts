import { ActionError } from './plugin.ts';

/**
 * Reading provider answers, shared by validation plugins, capability handlers and OAuth drivers: bounded reads,
 * tolerant JSON, the provider's own code and words, and — for actions — the ActionError an answer means.
 */

/** Larger answers than this are not read: a validation call's answer is small, and a huge one is not the API we expect. */
export const MAX_ANSWER_BYTES = 1 << 20;

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

/** A REST call with a bearer token, asking for JSON (and sending `body` as JSON when there is one). */
export function bearerJson(token: string, method: string, body?: unknown): RequestInit {
  return {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      ...(body !== undefined ? { 'content-type': 'application/json' } : {})
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {})
  };
}

/** `${base}${path}`, keeping any path prefix the base has (a proxy mounted under /hostinger, say). */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

/**
 * Reading a provider's answer to an action, shared by the capability modules. The mapping is the lifecycle's:
 * 401 means the provider rejected the credential (the run waits for re-authentication); 403 means the credential
 * works but may not do this (credential_invalid: re-authenticating will not help, a permission is missing); 404 the
 * target does not exist (inventory_not_found); 400/422 the provider refused the input (input_invalid); throttling,
 * 5xx and anything unexpected are cloud_api_error. Messages name the provider's code and words; the execution
 * service scrubs them of the credential's secrets before they are stored or shown.
 */

export interface Answer {
  status: number;
  body: unknown;
}

export async function answer(res: Response): Promise<Answer> {
  const text = await readText(res);
  return { status: res.status, body: parseJson(text) };
}

export function words(body: unknown): string {
  const m = providerMessage(body);
  return m ? ` (${m.slice(0, 200)})` : '';
}

/** The ActionError for a non-success answer. `what` names the call ("Graph PATCH /users/alice"). */
export function failure(
  a: Answer,
  what: string,
  opts: { expiredCodes?: readonly string[]; reauthStatuses?: readonly number[] } = {}
): ActionError {
  const code = providerCode(a.body) ?? `HTTP_${a.status}`;
  const said = words(a.body);
  if (a.status === 401 || opts.reauthStatuses?.includes(a.status)) {
    const expired = opts.expiredCodes?.includes(code) ?? false;
    return new ActionError('reauth', code, `${what} was refused: the credential was rejected (${a.status} ${code})${said}.`, {
      credentialStatus: expired ? 'expired' : 'failed'
    });
  }
  if (a.status === 403)
    return new ActionError(
      'credential_invalid',
      code,
      `${what} was refused: the credential lacks the permission for it (403 ${code})${said}.`
    );
  if (a.status === 404) return new ActionError('inventory_not_found', code, `${what}: not found (404 ${code})${said}.`);
  if (a.status === 400 || a.status === 422)
    return new ActionError('input_invalid', code, `${what} was refused as invalid (${a.status} ${code})${said}.`);
  if (a.status === 429)
    return new ActionError('cloud_api_error', code, `${what}: the provider is rate-limiting requests (429). Try again later.`);
  return new ActionError('cloud_api_error', code, `${what} failed (${a.status} ${code})${said}.`);
}

/** A success answer that is not the JSON we expect. */
export function malformedAnswer(what: string): ActionError {
  return new ActionError(
    'cloud_api_error',
    'MALFORMED_RESPONSE',
    `${what} answered, but not in the form Keydesk expects; its effect is unknown. Check the provider before retrying.`
  );
}

export function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}
