import { malformed, ok, outcome, serverError, throttled } from '../outcome.ts';
import { joinUrl, parseJson, providerCode, providerMessage, readText, withProviderWords } from '../answers.ts';
import type { ValidationPlugin, ValidateContext, ValidationOutcome } from '../plugin.ts';

/** The read Keydesk validates with (docs/blocklist-api.md): one entry is enough to prove the token reads the list. */
export const VALIDATE_PATH = '/v1/entries?limit=1';

const NAME = 'The blocklist service';

/**
 * Validates the blocklist bearer token with an authenticated read (docs/blocklist-api.md, Keydesk's stated contract):
 * 200 {"entries":[…]} → ok; 401/403 → failed (or expired when the service says "token_expired").
 */
async function validate(ctx: ValidateContext): Promise<ValidationOutcome> {
  const token = ctx.credential.secrets.token;
  const base = ctx.credential.fields.blocklist_url;
  if (!token || !base)
    return outcome(
      'failed',
      'MISSING_FIELD',
      'The credential needs both a bearer token and the blocklist service URL; add them with keydesk update.'
    );
  const url = joinUrl(base, VALIDATE_PATH);
  const host = new URL(base).host;
  const res = await ctx.http(url, { headers: { authorization: `Bearer ${token.reveal()}`, accept: 'application/json' } });
  if (res.status === 200) {
    const body = parseJson(await readText(res));
    const entries = body && typeof body === 'object' ? (body as { entries?: unknown }).entries : undefined;
    if (!Array.isArray(entries)) return malformed(NAME, 'a JSON object with an "entries" list', url);
    return ok({
      identity: { blocklist_host: host },
      readiness: [
        {
          capability: 'block_email_domain',
          ready: true,
          missing: [],
          note: 'The token reads the blocklist. Write access cannot be checked without writing; the first block proves it.'
        }
      ]
    });
  }
  const body = parseJson(await readText(res));
  const words = providerMessage(body);
  if (res.status === 401 || res.status === 403) {
    const code = providerCode(body);
    if (code === 'token_expired') {
      return outcome(
        'expired',
        'token_expired',
        withProviderWords(
          `The blocklist service says the token has expired (${res.status}). Ask the service for a new token and update the credential.`,
          'the service',
          words
        )
      );
    }
    return outcome(
      'failed',
      `HTTP_${res.status}`,
      withProviderWords(
        `The blocklist service rejected the token (${res.status}): it is wrong, revoked or not allowed to read the list. Check the token and blocklist_url.`,
        'the service',
        words
      ),
      { readiness: [{ capability: 'block_email_domain', ready: false, missing: ['a valid blocklist token'] }] }
    );
  }
  if (res.status === 429) return throttled(res, NAME);
  if (res.status >= 500) return serverError(res, NAME);
  return outcome(
    'unknown',
    `HTTP_${res.status}`,
    withProviderWords(
      `${NAME} answered ${res.status} to GET /v1/entries; check that blocklist_url points at the service, then validate again.`,
      'the service',
      words
    )
  );
}

export const plugin: ValidationPlugin = { validate };
