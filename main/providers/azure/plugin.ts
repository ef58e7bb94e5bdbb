import { malformed, ok, outcome, unavailable } from '../outcome.ts';
import { joinUrl } from '../answers.ts';
import type { ValidationPlugin, ValidateContext, ValidationOutcome } from '../plugin.ts';
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
    }
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
