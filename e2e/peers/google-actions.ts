import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { PeerContext } from './harness.ts';
import { DIRECTORY_SCOPES, type GooglePeer, type WorkspaceCustomer, type WorkspaceUser } from './google.ts';

/**
 * The Google calls Keydesk's Google Workspace actions make, installed on the Google peer through its route table
 * (test support only). State lives here or on the peer's users, so a revert is checked against what the action did:
 * - Directory API: `GET /admin/directory/v1/users/{userKey}` and `PATCH|PUT …/users/{userKey}` (`suspended`), by a
 *   token whose subject is an administrator of the user's customer (the read with either user scope, the change only
 *   with `admin.directory.user`);
 * - Gmail API: `GET|POST /gmail/v1/users/{userId}/settings/filters`, `DELETE …/filters/{id}`, `GET …/profile`, with
 *   `gmail.settings.basic`, where `userId` must be `me` or the token's own (impersonated) user — as Gmail answers
 *   "Delegation denied" otherwise.
 * Errors in Google's API error JSON.
 */

export const GMAIL_SETTINGS_BASIC = 'https://www.googleapis.com/auth/gmail.settings.basic';

export interface GmailFilter {
  id: string;
  criteria: Record<string, unknown>;
  action: Record<string, unknown>;
}

export interface GoogleActions {
  /** Gmail filters per mailbox (lower-case address). */
  filters: Map<string, GmailFilter[]>;
  /** Every state-changing call: method, mailbox or user, what. */
  calls: { method: string; who: string; what: string }[];
  uninstall(): void;
}

function apiError(
  g: GooglePeer,
  ctx: PeerContext,
  res: ServerResponse,
  code: number,
  status: string,
  message: string,
  reason: string
): void {
  g.answers.push(message);
  ctx.json(res, code, { error: { code, message, errors: [{ message, domain: 'global', reason }], status } });
}

function parse(body: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(body);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function installGoogleActions(g: GooglePeer): GoogleActions {
  const state: GoogleActions = { filters: new Map(), calls: [], uninstall: () => undefined };
  const find = (email: string): { customer: WorkspaceCustomer; user: WorkspaceUser } | null => {
    for (const customer of g.customers.values()) {
      const user = customer.users.get(email.toLowerCase());
      if (user) return { customer, user };
    }
    return null;
  };

  /** The target user, when the token's subject administers its customer; answers the error itself otherwise. */
  const administered = (subject: string | null, key: string, ctx: PeerContext, res: ServerResponse): WorkspaceUser | null => {
    const target = find(decodeURIComponent(key));
    const admin = subject ? find(subject) : null;
    if (!admin || !admin.user.isAdmin) {
      apiError(g, ctx, res, 403, 'PERMISSION_DENIED', 'Not Authorized to access this resource/api', 'forbidden');
      return null;
    }
    if (!target || target.customer.id !== admin.customer.id) {
      apiError(g, ctx, res, 404, 'NOT_FOUND', 'Resource Not Found: userKey', 'notFound');
      return null;
    }
    return target.user;
  };

  const directoryUser = (u: WorkspaceUser, customerId: string) => ({ kind: 'admin#directory#user', ...u, customerId });

  const changeUser = (req: Parameters<GooglePeer['authorize']>[0], res: ServerResponse, ctx: PeerContext, key: string) => {
    const issued = g.authorize(req, res, ctx, [DIRECTORY_SCOPES.user]);
    if (!issued) return;
    const u = administered(issued.subject, key, ctx, res);
    if (!u) return;
    const body = parse(ctx.body);
    if (!body || typeof body.suspended !== 'boolean')
      return apiError(g, ctx, res, 400, 'INVALID_ARGUMENT', 'Invalid Input: suspended', 'invalid');
    u.suspended = body.suspended;
    state.calls.push({ method: req.method ?? 'PATCH', who: u.primaryEmail, what: `suspended=${String(body.suspended)}` });
    ctx.json(res, 200, directoryUser(u, find(u.primaryEmail)!.customer.id));
  };

  /** The mailbox a Gmail call may touch: `me` or the impersonated user itself. */
  const mailbox = (subject: string | null, userId: string, ctx: PeerContext, res: ServerResponse): string | null => {
    const id = decodeURIComponent(userId).toLowerCase();
    const who = id === 'me' ? subject : id;
    if (!subject || !who || who !== subject.toLowerCase()) {
      apiError(g, ctx, res, 403, 'PERMISSION_DENIED', `Delegation denied for ${subject ?? 'this token'}`, 'forbidden');
      return null;
    }
    if (!find(who)) {
      apiError(g, ctx, res, 400, 'FAILED_PRECONDITION', 'Mail service not enabled', 'failedPrecondition');
      return null;
    }
    return who;
  };

  const removers = [
    g.route('GET', /^\/admin\/directory\/v1\/users\/([^/]+)$/, (req, res, ctx, [key]) => {
      const issued = g.authorize(req, res, ctx, [DIRECTORY_SCOPES.userRead, DIRECTORY_SCOPES.user]);
      if (!issued) return;
      const u = administered(issued.subject, key!, ctx, res);
      if (u) ctx.json(res, 200, directoryUser(u, find(u.primaryEmail)!.customer.id));
    }),
    g.route('PATCH', /^\/admin\/directory\/v1\/users\/([^/]+)$/, (req, res, ctx, [key]) => changeUser(req, res, ctx, key!)),
    g.route('PUT', /^\/admin\/directory\/v1\/users\/([^/]+)$/, (req, res, ctx, [key]) => changeUser(req, res, ctx, key!)),
    g.route('GET', /^\/gmail\/v1\/users\/([^/]+)\/profile$/, (req, res, ctx, [userId]) => {
      const issued = g.authorize(req, res, ctx, [
        GMAIL_SETTINGS_BASIC,
        'https://mail.google.com/',
        'https://www.googleapis.com/auth/gmail.readonly'
      ]);
      if (!issued) return;
      const who = mailbox(issued.subject, userId!, ctx, res);
      if (who) ctx.json(res, 200, { emailAddress: who, messagesTotal: 0, threadsTotal: 0, historyId: '1' });
    }),
    g.route('GET', /^\/gmail\/v1\/users\/([^/]+)\/settings\/filters$/, (req, res, ctx, [userId]) => {
      const issued = g.authorize(req, res, ctx, [GMAIL_SETTINGS_BASIC]);
      if (!issued) return;
      const who = mailbox(issued.subject, userId!, ctx, res);
      if (!who) return;
      const list = state.filters.get(who) ?? [];
      ctx.json(res, 200, list.length ? { filter: list } : {});
    }),
    g.route('POST', /^\/gmail\/v1\/users\/([^/]+)\/settings\/filters$/, (req, res, ctx, [userId]) => {
      const issued = g.authorize(req, res, ctx, [GMAIL_SETTINGS_BASIC]);
      if (!issued) return;
      const who = mailbox(issued.subject, userId!, ctx, res);
      if (!who) return;
      const body = parse(ctx.body);
      const criteria = body?.criteria;
      const action = body?.action;
      if (!criteria || typeof criteria !== 'object' || !action || typeof action !== 'object' || Object.keys(criteria).length === 0) {
        return apiError(g, ctx, res, 400, 'INVALID_ARGUMENT', "Filter doesn't have any criteria", 'invalidArgument');
      }
      const list = state.filters.get(who) ?? [];
      if (
        list.some((f) => JSON.stringify(f.criteria) === JSON.stringify(criteria) && JSON.stringify(f.action) === JSON.stringify(action))
      ) {
        return apiError(g, ctx, res, 400, 'FAILED_PRECONDITION', 'Filter already exists', 'failedPrecondition');
      }
      const filter: GmailFilter = {
        id: `ANe1Bm${randomBytes(12).toString('hex')}`,
        criteria: criteria as Record<string, unknown>,
        action: action as Record<string, unknown>
      };
      state.filters.set(who, [...list, filter]);
      state.calls.push({ method: 'POST', who, what: `filter ${JSON.stringify(criteria)}` });
      ctx.json(res, 200, filter);
    }),
    g.route('DELETE', /^\/gmail\/v1\/users\/([^/]+)\/settings\/filters\/([^/]+)$/, (req, res, ctx, [userId, id]) => {
      const issued = g.authorize(req, res, ctx, [GMAIL_SETTINGS_BASIC]);
      if (!issued) return;
      const who = mailbox(issued.subject, userId!, ctx, res);
      if (!who) return;
      const list = state.filters.get(who) ?? [];
      const fid = decodeURIComponent(id!);
      if (!list.some((f) => f.id === fid)) return apiError(g, ctx, res, 404, 'NOT_FOUND', 'Requested entity was not found.', 'notFound');
      state.filters.set(
        who,
        list.filter((f) => f.id !== fid)
      );
      state.calls.push({ method: 'DELETE', who, what: `filter ${fid}` });
      res.writeHead(204);
      res.end();
    })
  ];
  state.uninstall = () => removers.forEach((r) => r());
  return state;
}
