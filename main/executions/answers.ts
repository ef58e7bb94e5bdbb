import { ActionError } from '../providers/plugin.ts';
import { parseJson, providerCode, providerMessage, readText } from '../providers/outcome.ts';

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
