import { answer, failure, malformedAnswer, str, joinUrl } from '../answers.ts';
import {
  ActionError,
  type ActionContext,
  type ActionInput,
  type ActionResult,
  type JsonObject,
  type ProviderCapabilities,
  type RevertResult
} from '../plugin.ts';

/**
 * block_email_domain on the AgentSOC mail blocklist (docs/blocklist-api.md, the contract Keydesk states): POST an
 * entry, DELETE it to revert. A 409 says the block is already in effect (someone else's entry): the run succeeds
 * without creating anything, and its revert leaves that entry alone.
 */

const EXPIRED = ['token_expired'];

function endpoint(ctx: ActionContext): { base: string; headers: Record<string, string> } {
  const token = ctx.credential.secrets.token;
  const base = ctx.credential.fields.blocklist_url;
  if (!token || !base)
    throw new ActionError('credential_invalid', 'MISSING_FIELD', 'The credential needs both a bearer token and the blocklist service URL.');
  return { base, headers: { authorization: `Bearer ${token.reveal()}`, accept: 'application/json' } };
}

async function block(ctx: ActionContext, input: ActionInput): Promise<ActionResult> {
  const { base, headers } = endpoint(ctx);
  ctx.captureRevert({ value: input.target, entry_id: null, created: false });
  ctx.step(`POST /v1/entries {type: domain, value: ${input.target}}`);
  const res = await ctx.http(joinUrl(base, '/v1/entries'), {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'domain', value: input.target, reason: input.reason.slice(0, 1000) })
  });
  const a = await answer(res);
  if (a.status === 201) {
    const id = str((a.body as { id?: unknown } | undefined)?.id);
    if (!id) throw malformedAnswer('The blocklist service');
    ctx.step(`201 Created: entry ${id}.`);
    return {
      summary: `Blocked ${input.target} on the blocklist (entry ${id}).`,
      details: { entry_id: id, created: true },
      revertContext: { value: input.target, entry_id: id, created: true }
    };
  }
  if (a.status === 409) {
    const id = str((a.body as { id?: unknown } | undefined)?.id);
    ctx.step(`409 Conflict: ${input.target} is already on the blocklist${id ? ` (entry ${id})` : ''}.`);
    return {
      summary: `${input.target} was already blocked on the blocklist${id ? ` (entry ${id})` : ''}; nothing was created, and a revert will leave that entry in place.`,
      details: { entry_id: id, created: false, already_in_effect: true },
      revertContext: { value: input.target, entry_id: id, created: false }
    };
  }
  throw failure(a, 'The blocklist service (POST /v1/entries)', { expiredCodes: EXPIRED });
}

async function unblock(ctx: ActionContext, rc: JsonObject): Promise<RevertResult> {
  const value = str(rc.value) ?? 'the domain';
  if (rc.created !== true)
    return { summary: `Nothing to remove: ${value} was already on the blocklist before this run, so its entry stays.` };
  const id = str(rc.entry_id);
  if (!id || !/^[A-Za-z0-9-]{1,64}$/.test(id))
    throw new ActionError('input_invalid', 'NO_REVERT_CONTEXT', 'The revert context has no blocklist entry id; remove the entry by hand.');
  const { base, headers } = endpoint(ctx);
  ctx.step(`DELETE /v1/entries/${id}`);
  const a = await answer(await ctx.http(joinUrl(base, `/v1/entries/${encodeURIComponent(id)}`), { method: 'DELETE', headers }));
  if (a.status === 204) return { summary: `Removed ${value} from the blocklist (entry ${id}).` };
  if (a.status === 404) return { summary: `${value} was no longer on the blocklist (entry ${id} already gone).` };
  throw failure(a, `The blocklist service (DELETE /v1/entries/${id})`, { expiredCodes: EXPIRED });
}

export const capabilities: ProviderCapabilities = {
  block_email_domain: { execute: block, revert: (ctx, rc) => unblock(ctx, rc) }
};
