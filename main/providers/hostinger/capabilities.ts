import { answer, failure, malformedAnswer, joinUrl } from '../answers.ts';
import {
  ActionError,
  type ActionContext,
  type ActionInput,
  type ActionResult,
  type JsonObject,
  type ProviderCapabilities,
  type RevertResult
} from '../plugin.ts';
import { HOSTINGER_API, VM_LIST_PATH } from './plugin.ts';

/**
 * power on Hostinger's VPS API (developers.hostinger.com): read the VM's state (the revert context: was it running?),
 * then POST …/virtual-machines/{id}/stop. Revert starts it again — only if this run stopped it.
 */

const VM_ID_RE = /^\d{1,12}$/;

function api(ctx: ActionContext): { base: string; headers: Record<string, string> } {
  const token = ctx.credential.secrets.api_token;
  if (!token) throw new ActionError('credential_invalid', 'MISSING_FIELD', 'The credential has no API token.');
  return {
    base: joinUrl(ctx.credential.fields.api_base_url ?? HOSTINGER_API, VM_LIST_PATH),
    headers: { authorization: `Bearer ${token.reveal()}`, accept: 'application/json' }
  };
}

async function vmState(ctx: ActionContext, base: string, headers: Record<string, string>, id: string): Promise<string> {
  ctx.step(`GET ${VM_LIST_PATH}/${id}`);
  const a = await answer(await ctx.http(`${base}/${id}`, { headers }));
  if (a.status !== 200) throw failure(a, `Hostinger (GET virtual machine ${id})`);
  const state = (a.body as { state?: unknown } | undefined)?.state;
  if (typeof state !== 'string') throw malformedAnswer('Hostinger');
  return state;
}

async function power(ctx: ActionContext, id: string, action: 'stop' | 'start'): Promise<string> {
  const { base, headers } = api(ctx);
  ctx.step(`POST ${VM_LIST_PATH}/${id}/${action}`);
  const a = await answer(await ctx.http(`${base}/${id}/${action}`, { method: 'POST', headers }));
  if (a.status !== 200 && a.status !== 202) throw failure(a, `Hostinger (${action} virtual machine ${id})`);
  const b = (a.body ?? {}) as { id?: unknown; state?: unknown };
  return `action ${typeof b.id === 'number' ? b.id : '?'}${typeof b.state === 'string' ? `, ${b.state}` : ''}`;
}

async function stop(ctx: ActionContext, input: ActionInput): Promise<ActionResult> {
  const id = input.target;
  const { base, headers } = api(ctx);
  const prior = await vmState(ctx, base, headers, id);
  ctx.captureRevert({ vm_id: id, prior_state: prior, stopped_by_this_run: false });
  if (prior === 'stopped') {
    return {
      summary: `VPS ${id} was already stopped; nothing was done, and a revert will leave it stopped.`,
      details: { vm_id: id, prior_state: prior },
      revertContext: { vm_id: id, prior_state: prior, stopped_by_this_run: false }
    };
  }
  const what = await power(ctx, id, 'stop');
  return {
    summary: `Stopped VPS ${id} (it was ${prior}; ${what}).`,
    details: { vm_id: id, prior_state: prior },
    revertContext: { vm_id: id, prior_state: prior, stopped_by_this_run: true }
  };
}

async function start(ctx: ActionContext, rc: JsonObject): Promise<RevertResult> {
  const id = typeof rc.vm_id === 'string' && VM_ID_RE.test(rc.vm_id) ? rc.vm_id : null;
  if (!id) throw new ActionError('input_invalid', 'NO_REVERT_CONTEXT', 'The revert context names no VPS; start it by hand in hPanel.');
  if (rc.stopped_by_this_run !== true)
    return { summary: `Nothing to undo: VPS ${id} was already stopped before this run, so it stays stopped.` };
  const what = await power(ctx, id, 'start');
  return { summary: `Started VPS ${id} again (${what}).` };
}

export const capabilities: ProviderCapabilities = {
  power: {
    checkInput: (input) =>
      VM_ID_RE.test(input.target) ? null : 'A Hostinger VPS is named by its numeric id (hPanel → VPS, or keydesk validate lists them).',
    execute: stop,
    revert: (ctx, rc) => start(ctx, rc)
  }
};
