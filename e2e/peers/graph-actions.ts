import { randomUUID } from 'node:crypto';
import type { GraphPeer, GraphTenant, GraphUser } from './graph.ts';

/**
 * The Microsoft Graph calls Keydesk's Microsoft 365 actions make, installed on the Graph peer through its route table
 * (test support only). State lives here, so a revert is checked against what the action did:
 * - `GET /v1.0/users/{id|upn}`, `PATCH /v1.0/users/{id|upn}` (`accountEnabled`), `POST …/revokeSignInSessions`;
 * - inbox rules: `GET|POST /v1.0/users/{id|upn}/mailFolders/inbox/messageRules`, `DELETE …/messageRules/{id}`.
 * Authorization is Graph's: the token verified by the Entra peer, app-only `roles` per call (User.ReadWrite.All to
 * disable a user and revoke its sessions, MailboxSettings.ReadWrite for rules). Unknown users answer 404
 * `Request_ResourceNotFound`, malformed bodies 400 — in Graph's error JSON.
 */

export const USER_READ_ROLES = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
export const USER_WRITE_ROLES = ['User.ReadWrite.All', 'Directory.ReadWrite.All', 'User.EnableDisableAccount.All'];
export const REVOKE_ROLES = ['User.ReadWrite.All', 'Directory.ReadWrite.All', 'User.RevokeSessions.All'];
export const RULE_READ_ROLES = ['MailboxSettings.Read', 'MailboxSettings.ReadWrite'];
export const RULE_WRITE_ROLES = ['MailboxSettings.ReadWrite'];

export interface MessageRule {
  id: string;
  displayName: string;
  sequence: number;
  isEnabled: boolean;
  conditions: Record<string, unknown>;
  actions: Record<string, unknown>;
}

export interface GraphActions {
  /** Inbox rules per user id. */
  rules: Map<string, MessageRule[]>;
  /** Sign-in session revocations per user id. */
  revocations: Map<string, number>;
  /** Every state-changing call: method, user, what. */
  calls: { method: string; user: string; what: string }[];
  uninstall(): void;
}

function findUser(t: GraphTenant, ref: string): GraphUser | undefined {
  const r = decodeURIComponent(ref).toLowerCase();
  for (const u of t.users.values()) if (u.id.toLowerCase() === r || u.userPrincipalName.toLowerCase() === r) return u;
  return undefined;
}

function parse(body: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(body);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function installGraphActions(graph: GraphPeer): GraphActions {
  const state: GraphActions = { rules: new Map(), revocations: new Map(), calls: [], uninstall: () => undefined };
  const removers: (() => void)[] = [];
  const notFound = (res: Parameters<GraphPeer['graphError']>[0], ctx: Parameters<GraphPeer['graphError']>[1], ref: string) =>
    graph.graphError(
      res,
      ctx,
      404,
      'Request_ResourceNotFound',
      `Resource '${decodeURIComponent(ref)}' does not exist or one of its queried reference-property objects are not present.`
    );

  removers.push(
    graph.route('GET', /^\/v1\.0\/users\/([^/]+)$/, (req, res, ctx, [ref]) => {
      const who = graph.authorize(req, res, ctx, USER_READ_ROLES);
      if (!who) return;
      const u = findUser(who.tenant, ref!);
      if (!u) return notFound(res, ctx, ref!);
      ctx.json(res, 200, { '@odata.context': `${graph.url}/v1.0/$metadata#users/$entity`, ...u });
    }),
    graph.route('PATCH', /^\/v1\.0\/users\/([^/]+)$/, (req, res, ctx, [ref]) => {
      const who = graph.authorize(req, res, ctx, USER_WRITE_ROLES);
      if (!who) return;
      const u = findUser(who.tenant, ref!);
      if (!u) return notFound(res, ctx, ref!);
      const body = parse(ctx.body);
      if (!body || typeof body.accountEnabled !== 'boolean' || Object.keys(body).length !== 1) {
        return graph.graphError(
          res,
          ctx,
          400,
          'Request_BadRequest',
          'Invalid value specified for property accountEnabled of resource User.'
        );
      }
      u.accountEnabled = body.accountEnabled;
      state.calls.push({ method: 'PATCH', user: u.userPrincipalName, what: `accountEnabled=${String(body.accountEnabled)}` });
      res.writeHead(204);
      res.end();
    }),
    graph.route('POST', /^\/v1\.0\/users\/([^/]+)\/revokeSignInSessions$/, (req, res, ctx, [ref]) => {
      const who = graph.authorize(req, res, ctx, REVOKE_ROLES);
      if (!who) return;
      const u = findUser(who.tenant, ref!);
      if (!u) return notFound(res, ctx, ref!);
      state.revocations.set(u.id, (state.revocations.get(u.id) ?? 0) + 1);
      state.calls.push({ method: 'POST', user: u.userPrincipalName, what: 'revokeSignInSessions' });
      ctx.json(res, 200, { '@odata.context': `${graph.url}/v1.0/$metadata#Edm.Boolean`, value: true });
    }),
    graph.route('GET', /^\/v1\.0\/users\/([^/]+)\/mailFolders\/inbox\/messageRules$/, (req, res, ctx, [ref]) => {
      const who = graph.authorize(req, res, ctx, RULE_READ_ROLES);
      if (!who) return;
      const u = findUser(who.tenant, ref!);
      if (!u) return notFound(res, ctx, ref!);
      ctx.json(res, 200, {
        '@odata.context': `${graph.url}/v1.0/$metadata#users('${u.id}')/mailFolders('inbox')/messageRules`,
        value: state.rules.get(u.id) ?? []
      });
    }),
    graph.route('POST', /^\/v1\.0\/users\/([^/]+)\/mailFolders\/inbox\/messageRules$/, (req, res, ctx, [ref]) => {
      const who = graph.authorize(req, res, ctx, RULE_WRITE_ROLES);
      if (!who) return;
      const u = findUser(who.tenant, ref!);
      if (!u) return notFound(res, ctx, ref!);
      const body = parse(ctx.body);
      if (
        !body ||
        typeof body.displayName !== 'string' ||
        !body.displayName ||
        typeof body.conditions !== 'object' ||
        typeof body.actions !== 'object'
      ) {
        return graph.graphError(res, ctx, 400, 'ErrorInvalidRequest', 'The rule needs a displayName, conditions and actions.');
      }
      const rule: MessageRule = {
        id: `AQAAA${randomUUID().replace(/-/g, '')}=`,
        displayName: body.displayName,
        sequence: typeof body.sequence === 'number' ? body.sequence : 1,
        isEnabled: body.isEnabled !== false,
        conditions: body.conditions as Record<string, unknown>,
        actions: body.actions as Record<string, unknown>
      };
      state.rules.set(u.id, [...(state.rules.get(u.id) ?? []), rule]);
      state.calls.push({ method: 'POST', user: u.userPrincipalName, what: `messageRule ${rule.displayName}` });
      ctx.json(res, 201, {
        '@odata.context': `${graph.url}/v1.0/$metadata#users('${u.id}')/mailFolders('inbox')/messageRules/$entity`,
        ...rule
      });
    }),
    graph.route('DELETE', /^\/v1\.0\/users\/([^/]+)\/mailFolders\/inbox\/messageRules\/([^/]+)$/, (req, res, ctx, [ref, ruleId]) => {
      const who = graph.authorize(req, res, ctx, RULE_WRITE_ROLES);
      if (!who) return;
      const u = findUser(who.tenant, ref!);
      if (!u) return notFound(res, ctx, ref!);
      const list = state.rules.get(u.id) ?? [];
      const id = decodeURIComponent(ruleId!);
      if (!list.some((r) => r.id === id))
        return graph.graphError(res, ctx, 404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      state.rules.set(
        u.id,
        list.filter((r) => r.id !== id)
      );
      state.calls.push({ method: 'DELETE', user: u.userPrincipalName, what: `messageRule ${id}` });
      res.writeHead(204);
      res.end();
    })
  );
  state.uninstall = () => removers.forEach((r) => r());
  return state;
}
