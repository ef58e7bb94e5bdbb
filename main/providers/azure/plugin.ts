import { malformed, ok, outcome, unavailable } from '../outcome.ts';
import { joinUrl } from '../answers.ts';
import type { CapabilityReadiness, ValidationPlugin, ValidateContext, ValidationOutcome } from '../plugin.ts';
import { AUTHORIZATION_API, permissionEntries, permitted } from './arm.ts';
import { parseNsgId } from './ids.ts';
import { azureSpec } from './spec.ts';
import { bearerGet, defaultScope, entraClientCredentialsToken, entraCredential, microsoftErrorCode } from './entra.ts';

/**
 * Azure: an MSAL client-credentials token for Resource Manager (client secret or certificate), then
 * `GET {arm_endpoint}/subscriptions/{subscription_id}?api-version=2022-12-01` — which needs only Reader on the
 * subscription. The token's resource is the ARM endpoint's origin (`…/.default`), which for sovereign clouds is
 * that cloud's Resource Manager.
 */

export const ARM_BASE = 'https://management.azure.com';
export const SUBSCRIPTIONS_API_VERSION = '2022-12-01';
const ARM = 'Azure Resource Manager';

/** ARM's answer to the subscription lookup, as an outcome (ok carries nothing: the caller adds identity). Pure. */
export function subscriptionOutcome(
  status: number,
  json: unknown,
  subscriptionId: string,
  url: string
): ValidationOutcome | { subscription: { displayName?: string; state?: string; tenantId?: string } } {
  const code = microsoftErrorCode(json);
  const down = unavailable(status, ARM);
  if (down) return down;
  if (status === 401)
    return outcome(
      'failed',
      code ?? 'HTTP_401',
      `${ARM} did not accept the token Entra issued (${code ?? 'HTTP 401'}): check the tenant and the ARM endpoint.`
    );
  if (status === 403)
    return outcome(
      'failed',
      code ?? 'HTTP_403',
      `The service principal may not read subscription ${subscriptionId}: assign it the Reader role (Microsoft.Resources/subscriptions/read) on the subscription.`
    );
  if (status === 404) return outcome('failed', code ?? 'HTTP_404', `Subscription ${subscriptionId} was not found in this tenant.`);
  if (status !== 200) return outcome('failed', code ?? `HTTP_${status}`, `${ARM} refused the subscription lookup (HTTP ${status}).`);
  const s = json as { subscriptionId?: unknown; displayName?: unknown; state?: unknown; tenantId?: unknown } | undefined;
  if (!s || typeof s.subscriptionId !== 'string') return malformed(ARM, 'a subscription', url);
  return {
    subscription: {
      ...(typeof s.displayName === 'string' ? { displayName: s.displayName } : {}),
      ...(typeof s.state === 'string' ? { state: s.state } : {}),
      ...(typeof s.tenantId === 'string' ? { tenantId: s.tenantId } : {})
    }
  };
}

/**
 * Readiness from Azure's own answer: `GET {scope}/providers/Microsoft.Authorization/permissions` lists the actions
 * and notActions of every role the service principal holds at the scope (inherited ones included); each capability's
 * permissions are checked against them. The scope is the resource group of the credential's default block_ip NSG
 * when it has one (roles are usually granted on a resource group), else the subscription. Any failure → ready: null,
 * saying why.
 */
export async function readiness(ctx: ValidateContext, arm: string, subscriptionId: string, token: string): Promise<CapabilityReadiness[]> {
  const nsg = ctx.credential.fields.block_scope ? parseNsgId(ctx.credential.fields.block_scope) : null;
  const scope =
    nsg && nsg.subscriptionId === subscriptionId.toLowerCase()
      ? `/subscriptions/${nsg.subscriptionId}/resourceGroups/${nsg.resourceGroup}`
      : `/subscriptions/${subscriptionId.toLowerCase()}`;
  const where = nsg && scope.includes('/resourceGroups/') ? `resource group ${nsg.resourceGroup}` : `subscription ${subscriptionId}`;
  const caps = azureSpec.capabilities;
  const unknown = (note: string): CapabilityReadiness[] => caps.map((c) => ({ capability: c.id, ready: null, missing: [], note }));
  const r = await bearerGet(
    ctx.http,
    joinUrl(arm, `${scope}/providers/Microsoft.Authorization/permissions?api-version=${AUTHORIZATION_API}`),
    token
  );
  if (r.status === null) return unknown(`Microsoft.Authorization/permissions on ${where} did not answer; readiness is unknown.`);
  const entries = r.status === 200 ? permissionEntries(r.json) : null;
  if (!entries) return unknown(`Microsoft.Authorization/permissions on ${where} answered HTTP ${r.status}; readiness is unknown.`);
  return caps.map((c) => {
    const missing = c.permissions.filter((p) => !permitted(entries, p));
    return { capability: c.id, ready: missing.length === 0, missing, note: `From Microsoft.Authorization/permissions on ${where}.` };
  });
}

async function validate(ctx: ValidateContext): Promise<ValidationOutcome> {
  const cred = entraCredential(ctx);
  const subscriptionId = ctx.credential.fields.subscription_id;
  if (!cred || !subscriptionId)
    return outcome(
      'failed',
      'INPUT_INVALID',
      'The credential is missing its tenant, client ID, secret or certificate, or subscription ID.'
    );
  const identity: Record<string, string> = {
    tenant_id: cred.tenantId,
    subscription_id: subscriptionId,
    client_id_last4: cred.clientId.slice(-4)
  };
  const arm = ctx.credential.fields.arm_endpoint ?? ARM_BASE;
  const token = await entraClientCredentialsToken(ctx.http, cred, defaultScope(arm));
  if (!token.ok) return { ...token.outcome, observed: { identity } };
  if (typeof token.claims.oid === 'string') identity.service_principal_id = token.claims.oid;

  const url = joinUrl(arm, `/subscriptions/${encodeURIComponent(subscriptionId)}?api-version=${SUBSCRIPTIONS_API_VERSION}`);
  const r = await bearerGet(ctx.http, url, token.accessToken);
  if (r.status === null) return { ...r.outcome, observed: { identity } };
  const o = subscriptionOutcome(r.status, r.json, subscriptionId, url);
  if ('status' in o) return { ...o, observed: { identity } };
  const s = o.subscription;
  return ok({
    identity: {
      ...identity,
      ...(s.displayName ? { subscription_name: s.displayName } : {}),
      ...(s.state ? { subscription_state: s.state } : {})
    },
    readiness: await readiness(ctx, arm, subscriptionId, token.accessToken)
  });
}

export const plugin: ValidationPlugin = {
  validate(ctx) {
    if (ctx.credential.mode === 'client_secret' || ctx.credential.mode === 'certificate') return validate(ctx);
    return Promise.resolve(
      outcome(
        'unknown',
        'UNSUPPORTED_MODE',
        `Keydesk cannot validate Azure ${ctx.credential.mode} credentials; the credential was not judged.`
      )
    );
  }
};
