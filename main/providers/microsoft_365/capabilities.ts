import { answer, bearerJson, failure, malformedAnswer, str, type Answer, joinUrl } from '../answers.ts';
import { defaultScope, entraClientCredentialsToken, entraCredential } from '../azure/entra.ts';
import {
  ActionError,
  type ActionContext,
  type ActionInput,
  type ActionResult,
  type JsonObject,
  type ProviderCapabilities,
  type RevertResult,
  type ValidationOutcome
} from '../plugin.ts';
import { EXCHANGE_BASE, GRAPH_BASE } from './plugin.ts';

/**
 * Microsoft 365 response actions.
 * - disable_user: Graph `PATCH /users/{upn}` `accountEnabled=false`, then `POST …/revokeSignInSessions`; revert sets
 *   `accountEnabled` back to what it was (revoked sessions stay revoked: the user signs in again).
 * - block_sender: a Graph inbox rule on the protected mailbox (`/users/{mailbox}/mailFolders/inbox/messageRules`)
 *   that moves the sender's mail to Deleted Items; revert deletes the rule.
 * - block_email_domain: the Defender Tenant Allow/Block List. It has no documented Graph API, so it goes through
 *   Exchange Online's admin REST endpoint (`InvokeCommand`, the one the ExchangeOnlineManagement module uses) — see
 *   `invokeExchangeCommand`, the one function that knows it. Revert removes the entry.
 * Entra apps get tokens by client credentials (MSAL); OAuth-delegated credentials through app.oauth (refreshed when
 * needed). A token request Entra refuses (wrong or expired secret, unknown app) makes the run wait for re-auth.
 */

const RULE_PREFIX = 'Keydesk: block ';

function tokenFailure(o: ValidationOutcome, what: string): ActionError {
  const code = o.error?.code ?? 'TOKEN_FAILED';
  const message = `${what}: ${o.error?.message ?? 'Entra ID issued no token.'}`;
  if (o.status === 'expired') return new ActionError('reauth', code, message, { credentialStatus: 'expired' });
  if (o.status === 'failed') return new ActionError('reauth', code, message, { credentialStatus: 'failed' });
  return new ActionError('cloud_api_error', code, message);
}

/** An access token for `resource`: client credentials for Entra apps, the OAuth token for delegated credentials. */
async function tokenFor(ctx: ActionContext, resource: string, what: string): Promise<string> {
  if (ctx.credential.mode === 'oauth_delegated') return (await ctx.accessToken()).reveal();
  const cred = entraCredential(ctx);
  if (!cred)
    throw new ActionError(
      'credential_invalid',
      'MISSING_FIELD',
      'The credential is missing its tenant, client ID, or secret or certificate.'
    );
  const t = await entraClientCredentialsToken(ctx.http, cred, defaultScope(resource));
  if (!t.ok) throw tokenFailure(t.outcome, what);
  return t.accessToken;
}

function graphBase(ctx: ActionContext): string {
  return ctx.credential.fields.graph_endpoint ?? GRAPH_BASE;
}

async function graph(ctx: ActionContext, token: string, method: string, path: string, body?: unknown): Promise<Answer> {
  ctx.step(`Graph ${method} ${path.replace(/\?.*$/, '')}`);
  const res = await ctx.http(joinUrl(graphBase(ctx), path), bearerJson(token, method, body));
  const a = await answer(res);
  ctx.step(`→ ${a.status}`);
  return a;
}

// ------------------------------------------------------------------------------------------------ disable_user

async function disableUser(ctx: ActionContext, input: ActionInput): Promise<ActionResult> {
  const token = await tokenFor(ctx, graphBase(ctx), 'Entra ID (token for Microsoft Graph)');
  const ref = encodeURIComponent(input.target);
  const got = await graph(ctx, token, 'GET', `/v1.0/users/${ref}?$select=id,userPrincipalName,accountEnabled`);
  if (got.status !== 200) throw failure(got, `Graph (read user ${input.target})`);
  const u = (got.body ?? {}) as { id?: unknown; userPrincipalName?: unknown; accountEnabled?: unknown };
  if (typeof u.id !== 'string' || typeof u.accountEnabled !== 'boolean') throw malformedAnswer('Microsoft Graph');
  // A resumed run may have disabled the user already: the first attempt's record of the prior state is the true one.
  const earlier = ctx.previousRevertContext;
  const priorEnabled =
    typeof earlier?.prior_account_enabled === 'boolean' && earlier.user_id === u.id ? earlier.prior_account_enabled : u.accountEnabled;
  const revert = { user_id: u.id, upn: str(u.userPrincipalName) ?? input.target, prior_account_enabled: priorEnabled };
  ctx.captureRevert(revert);
  if (u.accountEnabled) {
    const patched = await graph(ctx, token, 'PATCH', `/v1.0/users/${encodeURIComponent(u.id)}`, { accountEnabled: false });
    if (patched.status !== 204 && patched.status !== 200) throw failure(patched, `Graph (disable ${input.target})`);
  }
  const revoked = await graph(ctx, token, 'POST', `/v1.0/users/${encodeURIComponent(u.id)}/revokeSignInSessions`);
  if (revoked.status !== 200 && revoked.status !== 204) throw failure(revoked, `Graph (revoke the sign-in sessions of ${input.target})`);
  return {
    summary: priorEnabled
      ? `Disabled ${input.target} (accountEnabled=false) and revoked their sign-in sessions.`
      : `${input.target} was already disabled (it stays so, and a revert leaves it disabled); revoked their sign-in sessions.`,
    details: { user_id: u.id, prior_account_enabled: priorEnabled, sessions_revoked: true },
    revertContext: revert
  };
}

async function enableUser(ctx: ActionContext, rc: JsonObject): Promise<RevertResult> {
  const id = str(rc.user_id);
  const upn = str(rc.upn) ?? id ?? 'the user';
  if (!id) throw new ActionError('input_invalid', 'NO_REVERT_CONTEXT', 'The revert context names no user; re-enable the account by hand.');
  if (rc.prior_account_enabled !== true)
    return { summary: `Nothing to undo: ${upn} was already disabled before this run, so it stays disabled.` };
  const token = await tokenFor(ctx, graphBase(ctx), 'Entra ID (token for Microsoft Graph)');
  const a = await graph(ctx, token, 'PATCH', `/v1.0/users/${encodeURIComponent(id)}`, { accountEnabled: true });
  if (a.status !== 204 && a.status !== 200) throw failure(a, `Graph (re-enable ${upn})`);
  return { summary: `Re-enabled ${upn} (accountEnabled=true). Sessions revoked by the action stay revoked: the user signs in again.` };
}

// ------------------------------------------------------------------------------------------------ block_sender

interface Rule {
  id: string;
  displayName?: unknown;
  conditions?: { fromAddresses?: { emailAddress?: { address?: unknown } }[] };
}

function isOurRule(r: Rule, sender: string): boolean {
  return (
    r.displayName === `${RULE_PREFIX}${sender}` &&
    (r.conditions?.fromAddresses ?? []).some((f) => String(f.emailAddress?.address ?? '').toLowerCase() === sender)
  );
}

async function blockSender(ctx: ActionContext, input: ActionInput): Promise<ActionResult> {
  const mailbox = input.host?.value;
  if (!mailbox || input.host?.kind !== 'email')
    throw new ActionError('input_invalid', 'NO_MAILBOX', 'block_sender acts on one protected mailbox (host_email).');
  const token = await tokenFor(ctx, graphBase(ctx), 'Entra ID (token for Microsoft Graph)');
  const rulesPath = `/v1.0/users/${encodeURIComponent(mailbox)}/mailFolders/inbox/messageRules`;
  const list = await graph(ctx, token, 'GET', rulesPath);
  if (list.status !== 200) throw failure(list, `Graph (read the inbox rules of ${mailbox})`);
  const rules = (list.body as { value?: unknown } | undefined)?.value;
  if (!Array.isArray(rules)) throw malformedAnswer('Microsoft Graph');
  const earlier = ctx.previousRevertContext;
  const existing = (rules as Rule[]).find((r) => typeof r.id === 'string' && isOurRule(r, input.target));
  if (existing) {
    // Ours from an earlier attempt of this run (the answer to the create was lost), or someone else's.
    const ours = earlier?.rule_id === existing.id && earlier.created === true;
    const revert = { mailbox, rule_id: existing.id, sender: input.target, created: ours };
    ctx.captureRevert(revert);
    return {
      summary: ours
        ? `Blocked ${input.target} in ${mailbox} (inbox rule ${existing.id}).`
        : `${mailbox} already has a rule blocking ${input.target}; nothing was created, and a revert will leave that rule.`,
      details: { mailbox, rule_id: existing.id, created: ours },
      revertContext: revert
    };
  }
  ctx.captureRevert({ mailbox, rule_id: null, sender: input.target, created: false });
  const made = await graph(ctx, token, 'POST', rulesPath, {
    displayName: `${RULE_PREFIX}${input.target}`,
    sequence: 1,
    isEnabled: true,
    conditions: { fromAddresses: [{ emailAddress: { address: input.target } }] },
    actions: { delete: true, stopProcessingRules: true }
  });
  if (made.status !== 201 && made.status !== 200) throw failure(made, `Graph (create an inbox rule in ${mailbox})`);
  const id = str((made.body as { id?: unknown } | undefined)?.id);
  if (!id) throw malformedAnswer('Microsoft Graph');
  const revert = { mailbox, rule_id: id, sender: input.target, created: true };
  return {
    summary: `Blocked ${input.target} in ${mailbox}: an inbox rule moves their mail to Deleted Items (rule ${id}).`,
    details: { mailbox, rule_id: id, created: true },
    revertContext: revert
  };
}

async function deleteRule(ctx: ActionContext, rc: JsonObject): Promise<RevertResult> {
  const mailbox = str(rc.mailbox);
  const id = str(rc.rule_id);
  if (rc.created !== true) return { summary: `Nothing to remove: the rule ${id ? `${id} ` : ''}was not created by this run, so it stays.` };
  if (!mailbox || !id)
    throw new ActionError('input_invalid', 'NO_REVERT_CONTEXT', 'The revert context names no inbox rule; remove it by hand.');
  const token = await tokenFor(ctx, graphBase(ctx), 'Entra ID (token for Microsoft Graph)');
  const a = await graph(
    ctx,
    token,
    'DELETE',
    `/v1.0/users/${encodeURIComponent(mailbox)}/mailFolders/inbox/messageRules/${encodeURIComponent(id)}`
  );
  if (a.status === 204 || a.status === 200)
    return { summary: `Removed the inbox rule blocking ${str(rc.sender) ?? 'the sender'} from ${mailbox}.` };
  if (a.status === 404) return { summary: `The inbox rule ${id} was already gone from ${mailbox}.` };
  throw failure(a, `Graph (delete inbox rule ${id} of ${mailbox})`);
}

// ------------------------------------------------------------------------------------------------ block_email_domain

/** Exchange Online's system mailbox that app-only admin API calls are anchored to. */
const EXCHANGE_APP_ANCHOR = 'SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}';

/**
 * The one place Keydesk talks to Exchange Online's admin REST endpoint: `POST {exchange}/adminapi/beta/{tenant}/
 * InvokeCommand` with `{"CmdletInput":{"CmdletName","Parameters"}}`, an app-only token for the Exchange resource
 * (`Exchange.ManageAsApp`, plus an Exchange admin role on the app) and an `X-AnchorMailbox` header — the endpoint
 * Microsoft's ExchangeOnlineManagement PowerShell module uses. It is not a documented public API: the Tenant
 * Allow/Block List has no Graph API, and this endpoint may change without notice (docs/ says so).
 */
export async function invokeExchangeCommand(ctx: ActionContext, token: string, cmdlet: string, parameters: JsonObject): Promise<Answer> {
  const tenant = ctx.credential.fields.tenant_id;
  if (!tenant) throw new ActionError('credential_invalid', 'MISSING_FIELD', 'The credential has no tenant ID.');
  const base = ctx.credential.fields.exchange_endpoint ?? EXCHANGE_BASE;
  ctx.step(`Exchange Online InvokeCommand ${cmdlet}`);
  const res = await ctx.http(joinUrl(base, `/adminapi/beta/${encodeURIComponent(tenant)}/InvokeCommand`), {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      'content-type': 'application/json',
      'x-anchormailbox': `APP:${EXCHANGE_APP_ANCHOR}@${tenant}`
    },
    body: JSON.stringify({ CmdletInput: { CmdletName: cmdlet, Parameters: parameters } })
  });
  const a = await answer(res);
  ctx.step(`→ ${a.status}`);
  return a;
}

function entriesOf(a: Answer): { Identity?: unknown; Value?: unknown; Action?: unknown }[] | null {
  const v = (a.body as { value?: unknown } | undefined)?.value;
  return Array.isArray(v) ? (v as { Identity?: unknown; Value?: unknown; Action?: unknown }[]) : null;
}

async function blockDomain(ctx: ActionContext, input: ActionInput): Promise<ActionResult> {
  const token = await tokenFor(ctx, ctx.credential.fields.exchange_endpoint ?? EXCHANGE_BASE, 'Entra ID (token for Exchange Online)');
  const got = await invokeExchangeCommand(ctx, token, 'Get-TenantAllowBlockListItems', {
    ListType: 'Sender',
    Entry: input.target,
    Block: true
  });
  // Exchange answers 404 for an entry it does not have.
  if (got.status !== 200 && got.status !== 404) throw failure(got, 'Exchange Online (Get-TenantAllowBlockListItems)');
  const existing =
    got.status === 200 ? (entriesOf(got) ?? []).find((e) => String(e.Value ?? '').toLowerCase() === input.target) : undefined;
  const earlier = ctx.previousRevertContext;
  if (existing && typeof existing.Identity === 'string') {
    const ours = earlier?.identity === existing.Identity && earlier.created === true;
    const revert = { value: input.target, identity: existing.Identity, created: ours };
    ctx.captureRevert(revert);
    return {
      summary: ours
        ? `Blocked ${input.target} tenant-wide on the Tenant Allow/Block List (entry ${existing.Identity}).`
        : `${input.target} is already blocked on the Tenant Allow/Block List; nothing was created, and a revert will leave that entry.`,
      details: { identity: existing.Identity, created: ours },
      revertContext: revert
    };
  }
  ctx.captureRevert({ value: input.target, identity: null, created: false });
  const made = await invokeExchangeCommand(ctx, token, 'New-TenantAllowBlockListItems', {
    ListType: 'Sender',
    Block: true,
    Entries: [input.target],
    NoExpiration: true,
    Notes: `Keydesk: ${input.reason}`.slice(0, 255)
  });
  if (made.status !== 200) throw failure(made, 'Exchange Online (New-TenantAllowBlockListItems)');
  const identity = str(entriesOf(made)?.[0]?.Identity);
  if (!identity) throw malformedAnswer('Exchange Online');
  const revert = { value: input.target, identity, created: true };
  return {
    summary: `Blocked ${input.target} tenant-wide on the Tenant Allow/Block List (entry ${identity}, no expiry).`,
    details: { identity, created: true },
    revertContext: revert
  };
}

async function unblockDomain(ctx: ActionContext, rc: JsonObject): Promise<RevertResult> {
  const value = str(rc.value) ?? 'the domain';
  if (rc.created !== true)
    return { summary: `Nothing to remove: ${value} was on the Tenant Allow/Block List before this run, so its entry stays.` };
  const identity = str(rc.identity);
  if (!identity)
    throw new ActionError(
      'input_invalid',
      'NO_REVERT_CONTEXT',
      'The revert context has no Tenant Allow/Block List entry; remove it by hand.'
    );
  const token = await tokenFor(ctx, ctx.credential.fields.exchange_endpoint ?? EXCHANGE_BASE, 'Entra ID (token for Exchange Online)');
  const a = await invokeExchangeCommand(ctx, token, 'Remove-TenantAllowBlockListItems', { ListType: 'Sender', Ids: [identity] });
  if (a.status === 200 || a.status === 204) return { summary: `Removed ${value} from the Tenant Allow/Block List.` };
  if (a.status === 404) return { summary: `${value} was no longer on the Tenant Allow/Block List.` };
  throw failure(a, 'Exchange Online (Remove-TenantAllowBlockListItems)');
}

export const capabilities: ProviderCapabilities = {
  disable_user: { execute: disableUser, revert: (ctx, rc) => enableUser(ctx, rc) },
  block_sender: { execute: blockSender, revert: (ctx, rc) => deleteRule(ctx, rc) },
  block_email_domain: { execute: blockDomain, revert: (ctx, rc) => unblockDomain(ctx, rc) }
};
