import {
  bearerGet,
  defaultScope,
  entraClientCredentialsToken,
  entraCredential,
  microsoftErrorCode,
  tokenRoles,
  type EntraCredential
} from '../azure/entra.ts';
import { malformed, ok, outcome, unavailable } from '../outcome.ts';
import { joinUrl } from '../answers.ts';
import type { CapabilityReadiness, Observed, ValidationPlugin, ValidateContext, ValidationOutcome } from '../plugin.ts';
import { microsoft365Spec } from './spec.ts';

/**
 * Microsoft 365, Entra app with a client secret or certificate: an MSAL client-credentials token for Graph
 * (`{graph_endpoint}/.default`), then `GET {graph_endpoint}/v1.0/organization` — the tenant and its verified
 * domains, which come back as binding suggestions.
 *
 * Readiness is read from the `roles` claim of the tokens Entra issued (decoded, not verified: it is Entra's own
 * statement of the application permissions it granted us): Graph roles for block_sender and disable_user, and the
 * roles of an Exchange Online token (`{exchange_endpoint}/.default`) for Exchange.ManageAsApp. The Exchange admin
 * role that block_email_domain also needs is assigned to the app's service principal in Exchange and appears in no
 * token: that capability reports `ready: null` with a note until an action proves it.
 */

export const GRAPH_BASE = 'https://graph.microsoft.com';
export const EXCHANGE_BASE = 'https://outlook.office365.com';
const GRAPH = 'Microsoft Graph';
export const EXCHANGE_APP_ROLE = 'Exchange.ManageAsApp';

/** What the Exchange Online token told us: its roles, or why there is no answer. */
export type ExchangeRoles = { roles: readonly string[] } | { unavailable: string };

/** Readiness of each capability of `mode` from the granted Graph roles and the Exchange token's roles. Pure. */
export function m365Readiness(mode: string, graphRoles: readonly string[], exchange: ExchangeRoles): CapabilityReadiness[] {
  return microsoft365Spec.capabilities
    .filter((c) => !c.modes || c.modes.includes(mode))
    .map((c): CapabilityReadiness => {
      if (c.id === 'block_email_domain') {
        if ('unavailable' in exchange) return { capability: c.id, ready: null, missing: [], note: exchange.unavailable };
        if (!exchange.roles.includes(EXCHANGE_APP_ROLE)) return { capability: c.id, ready: false, missing: [EXCHANGE_APP_ROLE] };
        const invisible = c.permissions.filter((p) => p !== EXCHANGE_APP_ROLE);
        return {
          capability: c.id,
          ready: null,
          missing: [],
          note: `${EXCHANGE_APP_ROLE} is granted; the ${invisible.join(', ')} assigned to the app in Exchange Online cannot be seen in a token, so Keydesk learns it on the first block.`
        };
      }
      const missing = c.permissions.filter((p) => !graphRoles.includes(p));
      return { capability: c.id, ready: missing.length === 0, missing };
    });
}

/** Verified domain names from an /organization answer, lower case, default domain first. Pure. */
export function organizationDomains(
  json: unknown
): { tenantId?: string; displayName?: string; domains: string[]; defaultDomain?: string } | null {
  const org = (json as { value?: unknown } | undefined)?.value;
  if (!Array.isArray(org) || org.length === 0) return null;
  const o = org[0] as { id?: unknown; displayName?: unknown; verifiedDomains?: unknown };
  if (!Array.isArray(o.verifiedDomains)) return null;
  const list = (o.verifiedDomains as { name?: unknown; isDefault?: unknown }[]).filter(
    (d): d is { name: string; isDefault?: unknown } => typeof d?.name === 'string'
  );
  const def = list.find((d) => d.isDefault === true)?.name.toLowerCase();
  const domains = [...new Set([...(def ? [def] : []), ...list.map((d) => d.name.toLowerCase().replace(/\.$/, ''))])];
  return {
    domains,
    ...(typeof o.id === 'string' ? { tenantId: o.id } : {}),
    ...(typeof o.displayName === 'string' ? { displayName: o.displayName } : {}),
    ...(def ? { defaultDomain: def } : {})
  };
}

function organizationFailure(status: number, json: unknown, url: string): ValidationOutcome {
  const code = microsoftErrorCode(json);
  const down = unavailable(status, GRAPH);
  if (down) return down;
  if (status === 401)
    return outcome(
      'failed',
      code ?? 'HTTP_401',
      `${GRAPH} did not accept the token Entra issued (${code ?? 'HTTP 401'}): check the tenant and the Graph endpoint.`
    );
  if (status === 403) {
    return outcome(
      'failed',
      code ?? 'HTTP_403',
      `The app may not read the organization: grant it the Organization.Read.All (or Directory.Read.All) application permission with admin consent.`
    );
  }
  // GET /v1.0/organization is always a valid request to Graph: 400 or 404 means graph_endpoint is not Graph (a wrong
  // override or proxy prefix), which says nothing about the credential.
  if (status === 400 || status === 404) {
    return outcome(
      'unknown',
      code ?? `HTTP_${status}`,
      `${new URL(url).host} answered ${status} to GET /v1.0/organization: graph_endpoint does not point at Microsoft Graph. Check it, then validate again.`
    );
  }
  if (status !== 200) return outcome('failed', code ?? `HTTP_${status}`, `${GRAPH} refused the organization lookup (HTTP ${status}).`);
  return malformed(GRAPH, 'the organization and its verified domains', url);
}

async function exchangeRoles(ctx: ValidateContext, cred: EntraCredential): Promise<ExchangeRoles> {
  const t = await entraClientCredentialsToken(ctx.http, cred, defaultScope(ctx.credential.fields.exchange_endpoint ?? EXCHANGE_BASE));
  if (t.ok) return { roles: tokenRoles(t.claims) };
  if (t.outcome.error?.code === 'AADSTS500011')
    return { unavailable: 'Exchange Online has no service principal in this tenant, so the Tenant Allow/Block List cannot be reached.' };
  return {
    unavailable: `Keydesk could not ask Entra for an Exchange Online token (${t.outcome.error?.code ?? 'no answer'}), so Exchange.ManageAsApp could not be checked.`
  };
}

async function validate(ctx: ValidateContext): Promise<ValidationOutcome> {
  const cred = entraCredential(ctx);
  if (!cred) return outcome('failed', 'INPUT_INVALID', 'The credential is missing its tenant, client ID, or secret or certificate.');
  const identity: Record<string, string> = { tenant_id: cred.tenantId, client_id_last4: cred.clientId.slice(-4) };
  const graph = ctx.credential.fields.graph_endpoint ?? GRAPH_BASE;
  const token = await entraClientCredentialsToken(ctx.http, cred, defaultScope(graph));
  if (!token.ok) return { ...token.outcome, observed: { identity } };
  const roles = tokenRoles(token.claims);
  const readiness = m365Readiness(ctx.credential.mode, roles, await exchangeRoles(ctx, cred));
  const observed = (extra: Partial<Observed> = {}): Observed => ({ identity, readiness, granted: [...roles].sort(), ...extra });

  const url = joinUrl(graph, '/v1.0/organization');
  const r = await bearerGet(ctx.http, url, token.accessToken);
  if (r.status === null) return { ...r.outcome, observed: observed() };
  const org = r.status === 200 ? organizationDomains(r.json) : null;
  if (!org) return { ...organizationFailure(r.status, r.json, url), observed: observed() };
  return ok(
    observed({
      identity: {
        ...identity,
        ...(org.tenantId && org.tenantId !== cred.tenantId ? { tenant_guid: org.tenantId } : {}),
        ...(org.displayName ? { tenant_name: org.displayName } : {}),
        ...(org.defaultDomain ? { default_domain: org.defaultDomain } : {})
      },
      suggestions: org.domains
    })
  );
}

export const plugin: ValidationPlugin = {
  validates: ['client_secret', 'certificate'],
  validate(ctx) {
    if (ctx.credential.mode === 'client_secret' || ctx.credential.mode === 'certificate') return validate(ctx);
    // oauth_delegated is validated by a token refresh (the OAuth work); until then this plugin does not judge it.
    return Promise.resolve(
      outcome(
        'unknown',
        'UNSUPPORTED_MODE',
        `Keydesk cannot validate Microsoft 365 ${ctx.credential.mode} credentials here yet; the credential was not judged.`
      )
    );
  }
};
