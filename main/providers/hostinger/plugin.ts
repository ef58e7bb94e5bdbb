import { malformed, ok, outcome, serverError, throttled } from '../outcome.ts';
import { joinUrl, parseJson, providerMessage, readText, withProviderWords } from '../answers.ts';
import type { CapabilityReadiness, ValidationPlugin, ValidateContext, ValidationOutcome } from '../plugin.ts';
import { hostingerSpec } from './spec.ts';

/** Hostinger's public API (developers.hostinger.com); `api_base_url` overrides it per credential. */
export const HOSTINGER_API = 'https://developers.hostinger.com';
export const VM_LIST_PATH = '/api/vps/v1/virtual-machines';

const NAME = 'Hostinger';

/**
 * Validates an hPanel API token the way PROVIDERS.md says: list the VPS instances (GET /api/vps/v1/virtual-machines,
 * bearer token). 200 with a JSON array → ok, and the power capability is ready; 401 → wrong or revoked token;
 * 403 → the token lacks VPS API access or the account has no VPS plan.
 */
async function validate(ctx: ValidateContext): Promise<ValidationOutcome> {
  const token = ctx.credential.secrets.api_token;
  if (!token) return outcome('failed', 'MISSING_FIELD', 'The credential has no API token; add one with keydesk update.');
  const url = joinUrl(ctx.credential.fields.api_base_url ?? HOSTINGER_API, VM_LIST_PATH);
  const res = await ctx.http(url, { headers: { authorization: `Bearer ${token.reveal()}`, accept: 'application/json' } });
  if (res.status === 200) {
    const text = await readText(res);
    const vms = parseJson(text);
    if (!Array.isArray(vms) || !vms.every((v) => v !== null && typeof v === 'object' && typeof (v as { id?: unknown }).id === 'number')) {
      return malformed(NAME, 'a list of virtual machines', url);
    }
    const power: CapabilityReadiness = {
      capability: 'power',
      ready: true,
      missing: [],
      ...(vms.length === 0 ? { note: 'The token works, but the account has no VPS instance to power off yet.' } : {})
    };
    return ok({ identity: { vps_instances: String(vms.length) }, readiness: [power] });
  }
  const words = providerMessage(parseJson(await readText(res)));
  switch (res.status) {
    case 401:
      return outcome(
        'failed',
        'HTTP_401',
        withProviderWords(
          'Hostinger rejected the API token (401): wrong or revoked token. Generate a new one in hPanel → Account → API and update the credential.',
          NAME,
          words
        ),
        { readiness: [{ capability: 'power', ready: false, missing: [], note: 'The token was rejected.' }] }
      );
    case 403:
      return outcome(
        'failed',
        'HTTP_403',
        withProviderWords(
          'Hostinger refused the VPS list (403): the token lacks VPS API access or the account has no VPS plan.',
          NAME,
          words
        ),
        { readiness: [{ capability: 'power', ready: false, missing: hostingerSpec.capabilities[0]?.permissions ?? [] }] }
      );
    case 429:
      return throttled(res, NAME);
    default:
      if (res.status >= 500) return serverError(res, NAME);
      return outcome(
        'unknown',
        `HTTP_${res.status}`,
        withProviderWords(
          `Hostinger answered ${res.status} to the VPS list; that says nothing clear about the token. Check api_base_url, then validate again.`,
          NAME,
          words
        )
      );
  }
}

export const plugin: ValidationPlugin = { validate };
