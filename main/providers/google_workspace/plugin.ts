import { googleApiError, googleGet, serviceAccountToken, type ServiceAccountKey } from '../gcp/google-auth.ts';
import { malformed, ok, outcome, unavailable } from '../outcome.ts';
import { joinUrl } from '../answers.ts';
import type { CapabilityReadiness, Observed, ValidationPlugin, ValidateContext, ValidationOutcome } from '../plugin.ts';
import { jsonField } from '../spec.ts';
import { googleWorkspaceSpec, WORKSPACE_SCOPES } from './spec.ts';

/**
 * Google Workspace, service account with domain-wide delegation: tokens as the delegated admin, then the Directory
 * API: users.list (one user) and domains.list. Domains come back as binding suggestions.
 *
 * Readiness: domain-wide delegation is authorised per client id *and scope*, and Google refuses a token request with
 * `unauthorized_client` if any one requested scope is not delegated — without saying which. So every scope that
 * validation or a capability needs is asked for on its own: the ones refused are exactly the missing ones, and
 * readiness names them and the capabilities they block. Reads use the read-only scopes even where the read-write
 * one is delegated (defence in depth).
 */

export const DIRECTORY_BASE = 'https://www.googleapis.com';
const DIRECTORY = 'The Directory API';

/** Every scope validation or a capability of this mode needs, validation's first, each once. */
export function scopesToProbe(mode: string): string[] {
  const caps = googleWorkspaceSpec.capabilities.filter((c) => !c.modes || c.modes.includes(mode));
  return [...new Set([...googleWorkspaceSpec.validationPermissions, ...caps.flatMap((c) => c.permissions)])];
}

/** Readiness of each capability of `mode` from the scopes delegation granted and refused. Pure. */
export function workspaceReadiness(mode: string, granted: ReadonlySet<string>, refused: ReadonlySet<string>): CapabilityReadiness[] {
  return googleWorkspaceSpec.capabilities
    .filter((c) => !c.modes || c.modes.includes(mode))
    .map((c) => {
      const missing = c.permissions.filter((p) => refused.has(p));
      const unknown = c.permissions.some((p) => !granted.has(p) && !refused.has(p));
      return { capability: c.id, ready: missing.length > 0 ? false : unknown ? null : true, missing };
    });
}

/** Verified domains and verified aliases from a domains.list answer, lower case, each once. Pure. */
export function verifiedDomains(json: unknown): string[] | null {
  const list = (json as { domains?: unknown } | undefined)?.domains;
  if (!Array.isArray(list)) return null;
  const out = new Set<string>();
  for (const d of list as { domainName?: unknown; verified?: unknown; domainAliases?: unknown }[]) {
    if (typeof d?.domainName === 'string' && d.verified !== false) out.add(d.domainName.toLowerCase().replace(/\.$/, ''));
    if (Array.isArray(d?.domainAliases)) {
      for (const a of d.domainAliases as { domainAliasName?: unknown; verified?: unknown }[]) {
        if (typeof a?.domainAliasName === 'string' && a.verified !== false) out.add(a.domainAliasName.toLowerCase().replace(/\.$/, ''));
      }
    }
  }
  return [...out];
}

function directoryFailure(
  status: number,
  json: unknown,
  call: 'users' | 'domains',
  customer: string,
  admin: string,
  url: string
): ValidationOutcome {
  const err = googleApiError(json);
  const down = unavailable(status, DIRECTORY);
  if (down) return down;
  if (status === 401)
    return outcome(
      'failed',
      err.status ?? 'UNAUTHENTICATED',
      `${DIRECTORY} did not accept the access token Google issued for the delegated admin.`
    );
  if (status === 403) {
    if (err.reason === 'insufficientPermissions')
      return outcome(
        'failed',
        err.status ?? 'PERMISSION_DENIED',
        `${DIRECTORY} says the token lacks the scope to ${call === 'users' ? 'read users' : 'read domains'}.`
      );
    return outcome(
      'failed',
      err.status ?? 'PERMISSION_DENIED',
      `${admin} may not ${call === 'users' ? 'read the users' : 'read the domains'} of customer ${customer}: the delegated admin must be a Workspace administrator of that customer.`
    );
  }
  if (status === 400 || status === 404)
    return outcome(
      'failed',
      err.status ?? `HTTP_${status}`,
      `${DIRECTORY} does not know customer ${customer}. Use the customer ID from Admin console → Account settings (or my_customer).`
    );
  if (status !== 200) return outcome('failed', `HTTP_${status}`, `${DIRECTORY} refused the request (HTTP ${status}).`);
  return malformed(DIRECTORY, call === 'users' ? 'a list of users' : 'a list of domains', url);
}

async function validateDwd(ctx: ValidateContext): Promise<ValidationOutcome> {
  const key = jsonField(ctx.credential.secrets.service_account_json?.reveal()) as (ServiceAccountKey & Record<string, unknown>) | null;
  const admin = ctx.credential.fields.delegated_admin_email;
  const customer = ctx.credential.fields.customer_id;
  if (!key || typeof key.client_email !== 'string' || typeof key.private_key !== 'string') {
    return outcome(
      'failed',
      'INVALID_KEY_FILE',
      'The stored service account JSON is missing client_email or private_key. Paste the key file again.'
    );
  }
  if (!admin || !customer) return outcome('failed', 'INPUT_INVALID', 'The delegated admin email and the customer ID are required.');
  const clientId = typeof key.client_id === 'string' ? key.client_id : null;
  const identity: Record<string, string> = {
    client_email: key.client_email,
    ...(clientId ? { client_id: clientId } : {}),
    ...(typeof key.private_key_id === 'string' ? { private_key_id_last4: key.private_key_id.slice(-4) } : {}),
    admin_email: admin,
    customer_id: customer
  };

  // 1. One token request per scope: the refused ones are exactly the scopes delegation lacks.
  const granted = new Set<string>();
  const refused = new Set<string>();
  const tokens = new Map<string, string>();
  for (const scope of scopesToProbe(ctx.credential.mode)) {
    const t = await serviceAccountToken(ctx.http, key, [scope], { subject: admin, tokenUrl: ctx.credential.fields.token_url });
    if (t.ok) {
      granted.add(scope);
      tokens.set(scope, t.accessToken);
    } else if (t.outcome.error?.code === 'unauthorized_client') {
      refused.add(scope);
    } else {
      // The key, the admin or the network: nothing more can be learned now.
      return { ...t.outcome, observed: { identity } };
    }
  }
  const readiness = workspaceReadiness(ctx.credential.mode, granted, refused);
  const observed = (extra: Partial<Observed> = {}): Observed => ({ identity, readiness, granted: [...granted], ...extra });

  const needed = googleWorkspaceSpec.validationPermissions.filter((s) => refused.has(s));
  if (needed.length > 0) {
    const all = refused.size === scopesToProbe(ctx.credential.mode).length;
    return outcome(
      'failed',
      'unauthorized_client',
      all
        ? `Domain-wide delegation is not authorised for client ID ${clientId ?? '(see the key file)'}: Google refused every scope. In the Admin console → Security → API controls → Domain-wide delegation, add the client ID with the scopes Keydesk needs.`
        : `Domain-wide delegation for client ID ${clientId ?? '(see the key file)'} lacks ${needed.join(', ')}, which validation needs. Add ${needed.length === 1 ? 'it' : 'them'} in the Admin console → Security → API controls → Domain-wide delegation.`,
      observed()
    );
  }

  const base = ctx.credential.fields.api_base_url ?? DIRECTORY_BASE;
  // 2. users.list, one user, with the read-only user scope.
  const usersUrl = joinUrl(base, `/admin/directory/v1/users?customer=${encodeURIComponent(customer)}&maxResults=1`);
  const users = await googleGet(ctx.http, usersUrl, tokens.get(WORKSPACE_SCOPES.userRead)!);
  if (users.status === null) return { ...users.outcome, observed: observed() };
  if (users.status !== 200 || !Array.isArray((users.json as { users?: unknown } | undefined)?.users)) {
    return { ...directoryFailure(users.status, users.json, 'users', customer, admin, usersUrl), observed: observed() };
  }

  // 3. domains.list with the read-only domain scope: the binding suggestions.
  const domainsUrl = joinUrl(base, `/admin/directory/v1/customer/${encodeURIComponent(customer)}/domains`);
  const domains = await googleGet(ctx.http, domainsUrl, tokens.get(WORKSPACE_SCOPES.domainRead)!);
  if (domains.status === null) return { ...domains.outcome, observed: observed() };
  const suggestions = domains.status === 200 ? verifiedDomains(domains.json) : null;
  if (!suggestions)
    return { ...directoryFailure(domains.status, domains.json, 'domains', customer, admin, domainsUrl), observed: observed() };
  const primary = ((domains.json as { domains?: { domainName?: unknown; isPrimary?: unknown }[] }).domains ?? []).find(
    (d) => d.isPrimary === true
  )?.domainName;
  return ok({
    ...observed(),
    identity: { ...identity, ...(typeof primary === 'string' ? { primary_domain: primary.toLowerCase() } : {}) },
    suggestions
  });
}

export const plugin: ValidationPlugin = {
  validates: ['service_account_dwd'],
  validate(ctx) {
    if (ctx.credential.mode === 'service_account_dwd') return validateDwd(ctx);
    // oauth_user is validated by a token refresh (the OAuth work); until then this plugin does not judge it.
    return Promise.resolve(
      outcome(
        'unknown',
        'UNSUPPORTED_MODE',
        `Keydesk cannot validate Google Workspace ${ctx.credential.mode} credentials here yet; the credential was not judged.`
      )
    );
  }
};
