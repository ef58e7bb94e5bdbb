import { answer, bearerJson, failure, joinUrl, malformedAnswer, type Answer } from '../answers.ts';
import { ActionError, type ActionContext, type ValidationOutcome } from '../plugin.ts';
import { defaultScope, entraClientCredentialsToken, entraCredential } from './entra.ts';

/**
 * Azure Resource Manager REST for the host capabilities: an MSAL client-credentials token (entra.ts) for the
 * credential's ARM endpoint, every request through the run's provider fetch (ctx.http), ARM errors read into
 * ActionErrors in Keydesk's words, and long-running operations polled — `Azure-AsyncOperation` first, else `Location`
 * — with a bounded loop that honours Retry-After (capped). A poll URL on another origin than the ARM endpoint is
 * refused: the bearer token goes to the ARM endpoint only.
 */

export const ARM_DEFAULT = 'https://management.azure.com';
export const NETWORK_API = '2024-05-01';
export const COMPUTE_API = '2024-07-01';
export const AUTHORIZATION_API = '2022-04-01';

/** Polls of one long-running operation before Keydesk gives up on it (its effect is then unknown). */
export const MAX_POLLS = 60;
/** The longest wait between polls, whatever Retry-After says. */
export const MAX_POLL_WAIT_MS = 10_000;
const DEFAULT_POLL_WAIT_MS = 2_000;

export interface ArmAnswer extends Answer {
  headers: Headers;
}

export interface ArmClient {
  base: string;
  request(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<ArmAnswer>;
  /** Waits for the long-running operation an answer started (if any) to succeed. */
  settle(a: ArmAnswer, what: string): Promise<void>;
}

function tokenFailure(o: ValidationOutcome): ActionError {
  const code = o.error?.code ?? 'TOKEN_FAILED';
  const message = `Entra ID issued no token for Azure Resource Manager: ${o.error?.message ?? 'no answer.'}`;
  if (o.status === 'expired') return new ActionError('reauth', code, message, { credentialStatus: 'expired' });
  if (o.status === 'failed') return new ActionError('reauth', code, message, { credentialStatus: 'failed' });
  return new ActionError('cloud_api_error', code, message);
}

/** The permission an ARM 403 names ("…perform action 'Microsoft.Network/…/write' over scope…"). Pure. */
export function deniedAction(body: unknown): string | null {
  const msg = (body as { error?: { message?: unknown } } | undefined)?.error?.message;
  const m = typeof msg === 'string' ? /perform action '([A-Za-z0-9./*_-]{1,200})'/.exec(msg) : null;
  return m?.[1] ?? null;
}

/**
 * An ARM answer that is not a success → the ActionError it means. 403 AuthorizationFailed (and
 * LinkedAuthorizationFailed: the permission on a resource joined to this one) names the missing permission in our
 * words, not ARM's (ARM's quote the client id); 401 → the run waits for re-authentication (ExpiredAuthenticationToken
 * marks the credential expired, any other 401 failed); 404 → the target (or
 * scope) does not exist.
 */
export function armFailure(a: Answer, what: string, expected?: string): ActionError {
  if (a.status === 403) {
    const code = (a.body as { error?: { code?: unknown } } | undefined)?.error?.code;
    const c = typeof code === 'string' && /^[A-Za-z]{1,64}$/.test(code) ? code : 'AuthorizationFailed';
    const action = deniedAction(a.body) ?? expected ?? 'the permission for it';
    return new ActionError(
      'cloud_api_error',
      c,
      `${what} was refused (403 ${c}): the service principal lacks ${action}. Give it a role that includes ${action} on the resource (or its resource group), then run again.`
    );
  }
  // ARM's 401 for a token past its expiry (clock skew, a token held too long): the run waits for re-authentication.
  return failure(a, what, { expiredCodes: ['ExpiredAuthenticationToken'] });
}

export async function armClient(ctx: ActionContext): Promise<ArmClient> {
  const cred = entraCredential(ctx);
  if (!cred)
    throw new ActionError(
      'credential_invalid',
      'MISSING_FIELD',
      'The credential is missing its tenant, client ID, or client secret or certificate.'
    );
  const base = ctx.credential.fields.arm_endpoint ?? ARM_DEFAULT;
  const origin = new URL(base).origin;
  const t = await entraClientCredentialsToken(ctx.http, cred, defaultScope(base));
  if (!t.ok) throw tokenFailure(t.outcome);
  const token = t.accessToken;
  // Azure has no per-call down-scoping of a service principal (its RBAC roles are what it may do): the run's token is
  // for Resource Manager only, fresh for this run, and recorded with its expiry.
  ctx.session({
    name: `service principal …${cred.clientId.slice(-4)} at ${new URL(base).host}`,
    expiresAt: t.expiresOn,
    kind: 'Resource Manager access token (Entra client credentials)'
  });

  const send = async (method: string, url: string, body?: unknown): Promise<ArmAnswer> => {
    const res = await ctx.http(url, bearerJson(token, method, body));
    const headers = res.headers;
    return { ...(await answer(res)), headers };
  };

  const pollUrl = (raw: string | null): string | null => {
    if (!raw) return null;
    let u: URL;
    try {
      u = new URL(raw, base);
    } catch {
      return null;
    }
    if (u.origin !== origin)
      throw new ActionError(
        'cloud_api_error',
        'POLL_ORIGIN',
        `Azure Resource Manager asked Keydesk to poll an operation on another host (${u.host}); Keydesk sends its token only to ${new URL(base).host}. The operation's outcome is unknown: check the resource in the portal.`
      );
    return u.toString();
  };

  const wait = (headers: Headers) => {
    const ra = Number(headers.get('retry-after') ?? NaN);
    const ms = Number.isFinite(ra) && ra >= 0 ? ra * 1000 : DEFAULT_POLL_WAIT_MS;
    return Math.min(ms, MAX_POLL_WAIT_MS);
  };

  return {
    base,
    request(method, path, body) {
      ctx.step(`ARM ${method} ${path.replace(/\?.*$/, '')}`);
      return send(method, joinUrl(base, path), body);
    },
    async settle(a, what) {
      const async = pollUrl(a.headers.get('azure-asyncoperation'));
      let location = async ? null : pollUrl(a.headers.get('location'));
      if (!async && !location) {
        if (a.status === 202) throw malformedAnswer(`Azure Resource Manager (${what})`);
        return;
      }
      let last = a.headers;
      for (let i = 0; i < MAX_POLLS; i++) {
        await ctx.sleep(wait(last));
        const p = await send('GET', (async ?? location)!);
        last = p.headers;
        if (p.status >= 400) throw armFailure(p, `Azure Resource Manager (${what}: operation status)`);
        if (async) {
          const status = (p.body as { status?: unknown } | undefined)?.status;
          if (status === 'Succeeded') return;
          if (status === 'Failed' || status === 'Canceled') {
            const err = (p.body as { error?: { code?: unknown; message?: unknown } }).error;
            const code =
              typeof err?.code === 'string' && /^[A-Za-z]{1,64}$/.test(err.code) ? err.code : `OPERATION_${status.toUpperCase()}`;
            const said = typeof err?.message === 'string' ? ` (${err.message.slice(0, 200)})` : '';
            throw new ActionError('cloud_api_error', code, `Azure Resource Manager: ${what} ${status.toLowerCase()}${said}.`);
          }
          if (typeof status !== 'string') throw malformedAnswer(`Azure Resource Manager (${what}: operation status)`);
        } else {
          if (p.status === 200 || p.status === 204 || p.status === 201) return;
          location = pollUrl(p.headers.get('location')) ?? location;
        }
      }
      throw new ActionError(
        'cloud_api_error',
        'OPERATION_TIMEOUT',
        `Azure Resource Manager: ${what} did not finish after ${MAX_POLLS} status checks; its effect is unknown. Check the resource before retrying.`
      );
    }
  };
}

// ------------------------------------------------------------------------------------------------ permissions

/** ARM's action wildcards (`*` anywhere), case-insensitive. Pure. */
export function actionMatches(pattern: string, action: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
      .join('.*')}$`,
    'i'
  );
  return re.test(action);
}

export interface PermissionEntry {
  actions: string[];
  notActions: string[];
}

/**
 * Whether the permissions ARM lists at a scope allow `action`: some entry (one per role) matches it in `actions` and
 * not in its own `notActions`. Pure.
 */
export function permitted(entries: readonly PermissionEntry[], action: string): boolean {
  return entries.some((e) => e.actions.some((p) => actionMatches(p, action)) && !e.notActions.some((p) => actionMatches(p, action)));
}

/** `{value:[{actions, notActions}]}` → the entries, or null when the answer is not that. Pure. */
export function permissionEntries(body: unknown): PermissionEntry[] | null {
  const v = (body as { value?: unknown } | undefined)?.value;
  if (!Array.isArray(v)) return null;
  const strs = (x: unknown) => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : []);
  return v.map((e) => ({ actions: strs((e as PermissionEntry).actions), notActions: strs((e as PermissionEntry).notActions) }));
}
