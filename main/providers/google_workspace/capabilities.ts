import { answer, bearerJson, failure, malformedAnswer, str, type Answer, joinUrl } from '../answers.ts';
import { serviceAccountToken, type ServiceAccountKey } from '../gcp/google-auth.ts';
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
import { jsonField } from '../spec.ts';
import { DIRECTORY_BASE } from './plugin.ts';
import { WORKSPACE_SCOPES } from './spec.ts';

/**
 * Google Workspace response actions.
 * - block_sender / block_email_domain: a Gmail filter that sends the sender's (or domain's) mail to Trash, in the
 *   protected mailbox — domain-wide delegation impersonating that mailbox. With a protected *domain*, a filter goes
 *   into each mailbox of that domain that exists at the time (the result says how many; mailboxes created later are
 *   not covered). Revert deletes the filters this run created.
 * - disable_user: Directory API `suspended=true` as the delegated admin; revert restores the prior state.
 * Reads use the read-only scopes even where the read-write one is delegated. An `oauth_user` credential acts as its
 * own account: it can filter only its own mailbox.
 */

const GMAIL_BASE = 'https://gmail.googleapis.com';
const TRASH_ACTION = { addLabelIds: ['TRASH'], removeLabelIds: ['INBOX'] };

interface FilterRecord {
  mailbox: string;
  id: string;
  created: boolean;
}

function tokenFailure(o: ValidationOutcome, scope: string, subject: string): ActionError {
  const code = o.error?.code ?? 'TOKEN_FAILED';
  if (code === 'unauthorized_client') {
    return new ActionError(
      'credential_invalid',
      code,
      `Domain-wide delegation does not allow ${scope} for this service account (asked as ${subject}). Add it in the Admin console → Security → API controls → Domain-wide delegation.`
    );
  }
  const message = `Google's token service, acting as ${subject}: ${o.error?.message ?? 'no token'}`;
  if (o.status === 'expired') return new ActionError('reauth', code, message, { credentialStatus: 'expired' });
  if (o.status === 'failed') return new ActionError('reauth', code, message, { credentialStatus: 'failed' });
  return new ActionError('cloud_api_error', code, message);
}

/** A token for `scope` acting as `subject` (domain-wide delegation), or the OAuth user's own token. */
async function tokenAs(ctx: ActionContext, scope: string, subject: string): Promise<string> {
  if (ctx.credential.mode === 'oauth_user') return (await ctx.accessToken()).reveal();
  const key = jsonField(ctx.credential.secrets.service_account_json?.reveal()) as (ServiceAccountKey & Record<string, unknown>) | null;
  if (!key || typeof key.client_email !== 'string' || typeof key.private_key !== 'string') {
    throw new ActionError(
      'credential_invalid',
      'INVALID_KEY_FILE',
      'The stored service account JSON is missing client_email or private_key.'
    );
  }
  ctx.step(`Token for ${scope.replace('https://www.googleapis.com/auth/', '')} as ${subject}`);
  const t = await serviceAccountToken(ctx.http, key, [scope], { subject, tokenUrl: ctx.credential.fields.token_url });
  if (!t.ok) throw tokenFailure(t.outcome, scope, subject);
  return t.accessToken;
}

function admin(ctx: ActionContext): string {
  const a = ctx.credential.fields.delegated_admin_email;
  if (ctx.credential.mode !== 'oauth_user' && !a)
    throw new ActionError('credential_invalid', 'MISSING_FIELD', 'The credential has no delegated admin email.');
  return a ?? 'the signed-in user';
}

async function call(ctx: ActionContext, base: string, token: string, method: string, path: string, body?: unknown): Promise<Answer> {
  ctx.step(`${method} ${path.replace(/\?.*$/, '')}`);
  const res = await ctx.http(joinUrl(base, path), bearerJson(token, method, body));
  const a = await answer(res);
  ctx.step(`→ ${a.status}`);
  return a;
}

const directory = (ctx: ActionContext) => ctx.credential.fields.api_base_url ?? DIRECTORY_BASE;
const gmail = (ctx: ActionContext) => ctx.credential.fields.api_base_url ?? GMAIL_BASE;

interface DirectoryUser {
  primaryEmail: string;
  suspended: boolean;
}

async function directoryUser(ctx: ActionContext, email: string): Promise<DirectoryUser> {
  const token = await tokenAs(ctx, WORKSPACE_SCOPES.userRead, admin(ctx));
  const a = await call(ctx, directory(ctx), token, 'GET', `/admin/directory/v1/users/${encodeURIComponent(email)}`);
  if (a.status !== 200) throw failure(a, `The Directory API (read user ${email})`);
  const u = (a.body ?? {}) as { primaryEmail?: unknown; suspended?: unknown };
  if (typeof u.primaryEmail !== 'string' || typeof u.suspended !== 'boolean') throw malformedAnswer('The Directory API');
  return { primaryEmail: u.primaryEmail.toLowerCase(), suspended: u.suspended };
}

/** Every mailbox of `domain` that exists now (users.list by domain, every page). */
async function mailboxesOf(ctx: ActionContext, domain: string): Promise<DirectoryUser[]> {
  const token = await tokenAs(ctx, WORKSPACE_SCOPES.userRead, admin(ctx));
  const out: DirectoryUser[] = [];
  let page: string | null = null;
  for (let i = 0; i < 200; i++) {
    const a = await call(
      ctx,
      directory(ctx),
      token,
      'GET',
      `/admin/directory/v1/users?domain=${encodeURIComponent(domain)}&maxResults=500${page ? `&pageToken=${encodeURIComponent(page)}` : ''}`
    );
    if (a.status !== 200) throw failure(a, `The Directory API (list the users of ${domain})`);
    const body = (a.body ?? {}) as { users?: unknown; nextPageToken?: unknown };
    if (body.users !== undefined && !Array.isArray(body.users)) throw malformedAnswer('The Directory API');
    for (const u of (body.users ?? []) as { primaryEmail?: unknown; suspended?: unknown }[]) {
      const email = typeof u.primaryEmail === 'string' ? u.primaryEmail.toLowerCase() : '';
      if (email.endsWith(`@${domain}`)) out.push({ primaryEmail: email, suspended: u.suspended === true });
    }
    page = str(body.nextPageToken);
    if (!page) break;
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ Gmail filters

function sameFilter(f: { criteria?: unknown; action?: unknown }, from: string): boolean {
  const c = (f.criteria ?? {}) as { from?: unknown };
  const labels = ((f.action ?? {}) as { addLabelIds?: unknown }).addLabelIds;
  return typeof c.from === 'string' && c.from.toLowerCase() === from && Array.isArray(labels) && labels.includes('TRASH');
}

/** Puts the filter into one mailbox (or finds it there), as that mailbox. */
async function filterIn(ctx: ActionContext, mailbox: string, from: string, earlier: readonly FilterRecord[]): Promise<FilterRecord> {
  const token = await tokenAs(ctx, WORKSPACE_SCOPES.gmailSettings, mailbox);
  const me = ctx.credential.mode === 'oauth_user' ? 'me' : encodeURIComponent(mailbox);
  const list = await call(ctx, gmail(ctx), token, 'GET', `/gmail/v1/users/${me}/settings/filters`);
  if (list.status !== 200) throw failure(list, `Gmail (read the filters of ${mailbox})`);
  const filters = ((list.body ?? {}) as { filter?: unknown }).filter ?? [];
  if (!Array.isArray(filters)) throw malformedAnswer('Gmail');
  const existing = (filters as { id?: unknown; criteria?: unknown; action?: unknown }[]).find(
    (f) => typeof f.id === 'string' && sameFilter(f, from)
  );
  if (existing) {
    const ours = earlier.some((e) => e.mailbox === mailbox && e.id === existing.id && e.created);
    return { mailbox, id: existing.id as string, created: ours };
  }
  const made = await call(ctx, gmail(ctx), token, 'POST', `/gmail/v1/users/${me}/settings/filters`, {
    criteria: { from },
    action: TRASH_ACTION
  });
  if (made.status !== 200) throw failure(made, `Gmail (create a filter in ${mailbox})`);
  const id = str((made.body as { id?: unknown } | undefined)?.id);
  if (!id) throw malformedAnswer('Gmail');
  return { mailbox, id, created: true };
}

async function removeFilter(ctx: ActionContext, f: FilterRecord): Promise<'removed' | 'gone'> {
  const token = await tokenAs(ctx, WORKSPACE_SCOPES.gmailSettings, f.mailbox);
  const me = ctx.credential.mode === 'oauth_user' ? 'me' : encodeURIComponent(f.mailbox);
  const a = await call(ctx, gmail(ctx), token, 'DELETE', `/gmail/v1/users/${me}/settings/filters/${encodeURIComponent(f.id)}`);
  if (a.status === 204 || a.status === 200) return 'removed';
  if (a.status === 404) return 'gone';
  throw failure(a, `Gmail (delete filter ${f.id} in ${f.mailbox})`);
}

function recordsOf(rc: JsonObject | null): FilterRecord[] {
  const list = rc?.filters;
  if (!Array.isArray(list)) return [];
  return list.flatMap((x) => {
    const r = (x ?? {}) as { mailbox?: unknown; id?: unknown; created?: unknown };
    return typeof r.mailbox === 'string' && typeof r.id === 'string' ? [{ mailbox: r.mailbox, id: r.id, created: r.created === true }] : [];
  });
}

/**
 * The filter in each of `mailboxes`, recorded in the revert context as it goes. A failure that is not about the
 * credential removes the filters this run created (the run fails whole, not half-applied); a rejected credential
 * keeps them on record so the resumed run carries on from there.
 */
async function applyFilters(ctx: ActionContext, mailboxes: readonly string[], from: string, scope: JsonObject): Promise<FilterRecord[]> {
  const earlier = recordsOf(ctx.previousRevertContext);
  const done: FilterRecord[] = [];
  const save = () => ctx.captureRevert({ ...scope, from, filters: done.map((d) => ({ ...d })) });
  save();
  try {
    for (const m of mailboxes) {
      done.push(await filterIn(ctx, m, from, earlier));
      save();
    }
    return done;
  } catch (e) {
    if (e instanceof ActionError && e.kind === 'reauth') {
      const made = done.filter((d) => d.created).length;
      if (made > 0)
        ctx.step(
          `${made} filter(s) were created before the credential was rejected; they are kept for the resumed run (and listed in the revert context).`
        );
      throw e;
    }
    const undo = done.filter((d) => d.created);
    const left: FilterRecord[] = [];
    for (const f of undo) {
      try {
        await removeFilter(ctx, f);
      } catch {
        left.push(f);
      }
    }
    if (undo.length > 0) {
      ctx.step(
        left.length
          ? `Could not remove ${left.length} filter(s) created before the failure: ${left.map((f) => `${f.mailbox} (${f.id})`).join(', ')}. Remove them by hand.`
          : `Removed the ${undo.length} filter(s) created before the failure.`
      );
      ctx.captureRevert({ ...scope, from, filters: left.map((d) => ({ ...d })) });
    }
    throw e;
  }
}

async function ownMailbox(ctx: ActionContext, mailbox: string): Promise<void> {
  if (ctx.credential.mode !== 'oauth_user') return;
  const token = await tokenAs(ctx, WORKSPACE_SCOPES.gmailSettings, mailbox);
  const a = await call(ctx, gmail(ctx), token, 'GET', '/gmail/v1/users/me/profile');
  if (a.status !== 200) throw failure(a, 'Gmail (read the signed-in mailbox)');
  const own = String((a.body as { emailAddress?: unknown } | undefined)?.emailAddress ?? '').toLowerCase();
  if (own !== mailbox)
    throw new ActionError(
      'input_invalid',
      'NOT_OWN_MAILBOX',
      `This OAuth credential is signed in as ${own || 'another account'} and can filter only its own mailbox, not ${mailbox}. Use a domain-wide delegation credential.`
    );
}

async function blockFrom(ctx: ActionContext, input: ActionInput, from: string, what: string): Promise<ActionResult> {
  const host = input.host;
  if (!host) throw new ActionError('input_invalid', 'NO_HOST', `${input.capability} needs the protected mailbox or domain.`);
  if (host.kind === 'email') {
    await ownMailbox(ctx, host.value);
    if (ctx.credential.mode !== 'oauth_user') {
      const u = await directoryUser(ctx, host.value);
      if (u.suspended)
        throw new ActionError('input_invalid', 'MAILBOX_SUSPENDED', `${host.value} is suspended: Gmail filters cannot be added to it.`);
    }
    const [f] = await applyFilters(ctx, [host.value], from, { mailboxes: [host.value] });
    return {
      summary: f!.created
        ? `Blocked ${what} in ${host.value}: a Gmail filter sends their mail to Trash (filter ${f!.id}).`
        : `${host.value} already had a filter sending ${what} to Trash; nothing was created, and a revert will leave it.`,
      details: { filters: [{ ...f! }] },
      revertContext: { from, mailboxes: [host.value], filters: [{ ...f! }] }
    };
  }
  const all = await mailboxesOf(ctx, host.domain);
  const active = all.filter((u) => !u.suspended).map((u) => u.primaryEmail);
  const skipped = all.length - active.length;
  if (active.length === 0)
    throw new ActionError(
      'inventory_not_found',
      'NO_MAILBOXES',
      `The Directory lists no active mailbox in ${host.domain}; nothing was filtered.`
    );
  const done = await applyFilters(ctx, active, from, { mailboxes: active });
  const created = done.filter((d) => d.created).length;
  return {
    summary:
      `Blocked ${what} in the ${active.length} mailbox(es) of ${host.domain} that exist now` +
      `${created < active.length ? ` (${active.length - created} already had such a filter)` : ''}${skipped ? `; ${skipped} suspended mailbox(es) skipped` : ''}.` +
      ' Mailboxes created later are not covered.',
    details: { mailboxes: active.length, created, skipped_suspended: skipped, filters: done.map((d) => ({ ...d })) },
    revertContext: { from, mailboxes: active, filters: done.map((d) => ({ ...d })) }
  };
}

async function unfilter(ctx: ActionContext, rc: JsonObject): Promise<RevertResult> {
  const mine = recordsOf(rc).filter((f) => f.created);
  if (mine.length === 0) return { summary: 'Nothing to remove: this run created no filter (any that matched were there before it).' };
  let removed = 0;
  let gone = 0;
  for (const f of mine) {
    if ((await removeFilter(ctx, f)) === 'removed') removed++;
    else gone++;
  }
  return {
    summary: `Removed ${removed} Gmail filter(s)${gone ? `; ${gone} were already gone` : ''}.`,
    details: { removed, already_gone: gone }
  };
}

// ------------------------------------------------------------------------------------------------ disable_user

async function suspend(ctx: ActionContext, input: ActionInput): Promise<ActionResult> {
  const u = await directoryUser(ctx, input.target);
  const earlier = ctx.previousRevertContext;
  const priorSuspended =
    typeof earlier?.prior_suspended === 'boolean' && earlier.user === u.primaryEmail ? earlier.prior_suspended : u.suspended;
  const revert = { user: u.primaryEmail, prior_suspended: priorSuspended };
  ctx.captureRevert(revert);
  if (!u.suspended) {
    const token = await tokenAs(ctx, WORKSPACE_SCOPES.userWrite, admin(ctx));
    const a = await call(ctx, directory(ctx), token, 'PATCH', `/admin/directory/v1/users/${encodeURIComponent(u.primaryEmail)}`, {
      suspended: true
    });
    if (a.status !== 200) throw failure(a, `The Directory API (suspend ${u.primaryEmail})`);
  }
  return {
    summary: priorSuspended
      ? `${u.primaryEmail} was already suspended; it stays so, and a revert leaves it suspended.`
      : `Suspended ${u.primaryEmail} (Directory API).`,
    details: { user: u.primaryEmail, prior_suspended: priorSuspended },
    revertContext: revert
  };
}

async function unsuspend(ctx: ActionContext, rc: JsonObject): Promise<RevertResult> {
  const user = str(rc.user);
  if (!user) throw new ActionError('input_invalid', 'NO_REVERT_CONTEXT', 'The revert context names no user; restore it by hand.');
  if (rc.prior_suspended !== false) return { summary: `Nothing to undo: ${user} was suspended before this run, so it stays suspended.` };
  const token = await tokenAs(ctx, WORKSPACE_SCOPES.userWrite, admin(ctx));
  const a = await call(ctx, directory(ctx), token, 'PATCH', `/admin/directory/v1/users/${encodeURIComponent(user)}`, { suspended: false });
  if (a.status !== 200) throw failure(a, `The Directory API (unsuspend ${user})`);
  return { summary: `Unsuspended ${user}.` };
}

export const capabilities: ProviderCapabilities = {
  block_sender: { execute: (ctx, input) => blockFrom(ctx, input, input.target, input.target), revert: (ctx, rc) => unfilter(ctx, rc) },
  block_email_domain: {
    execute: (ctx, input) => blockFrom(ctx, input, `@${input.target}`, `mail from ${input.target}`),
    revert: (ctx, rc) => unfilter(ctx, rc)
  },
  disable_user: { execute: suspend, revert: (ctx, rc) => unsuspend(ctx, rc) }
};
