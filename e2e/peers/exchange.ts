import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { EntraPeer } from './entra.ts';
import { bearer, startPeer, type Peer, type PeerContext, type PeerOptions } from './harness.ts';

/**
 * A loopback Exchange Online admin REST endpoint (test support only): `POST /adminapi/beta/{tenant}/InvokeCommand`
 * with `{"CmdletInput":{"CmdletName","Parameters"}}`, the endpoint Microsoft's ExchangeOnlineManagement module (and
 * Keydesk's block_email_domain) uses for the Tenant Allow/Block List, which has no Graph API. It knows
 * Get-, New- and Remove-TenantAllowBlockListItems for `ListType: Sender`.
 *
 * Authorization is checked for real: a bearer token the Entra peer issued for this endpoint (audience = its origin),
 * for the tenant in the path, carrying the `Exchange.ManageAsApp` application role; the app must also hold an
 * Exchange admin role here (`grantAdminRole`), which no token shows (403 otherwise, as Exchange answers). An
 * `X-AnchorMailbox` header is required. Errors in the admin API's OData error JSON.
 */

export interface TablEntry {
  Identity: string;
  Value: string;
  Action: 'Block' | 'Allow';
  ListType: 'Sender';
  Notes: string;
  ExpirationDate: string | null;
  LastModifiedDateTime: string;
}

export interface ExchangePeer extends Peer {
  /** Tenant Allow/Block List sender entries, per tenant id. */
  entries: Map<string, TablEntry[]>;
  /** App ids (per tenant) with an Exchange admin role assigned to their service principal. */
  grantAdminRole(tenantId: string, appId: string): void;
  /** Every cmdlet invoked with a valid token: name and parameters. */
  invocations: { cmdlet: string; parameters: Record<string, unknown> }[];
}

export const EXCHANGE_MANAGE_AS_APP = 'Exchange.ManageAsApp';

export async function startExchangePeer(entra: EntraPeer, opts: PeerOptions = {}): Promise<ExchangePeer> {
  const entries = new Map<string, TablEntry[]>();
  const admins = new Set<string>();
  const invocations: ExchangePeer['invocations'] = [];
  let self = '';

  const odataError = (res: ServerResponse, ctx: PeerContext, status: number, code: string, message: string) =>
    ctx.json(res, status, {
      error: {
        code,
        message,
        details: [{ code, target: '', message }],
        innererror: { message, type: 'Microsoft.Exchange.Admin.OData.Core.ODataServiceException', stacktrace: '', internalexception: null }
      }
    });

  const peer = await startPeer((req, res, ctx) => {
    const m = /^\/adminapi\/beta\/([^/]+)\/InvokeCommand$/.exec(ctx.url.pathname);
    if (!m || req.method !== 'POST') return odataError(res, ctx, 404, 'NotFound', 'The requested resource was not found.');
    const token = bearer(req);
    if (!token || ctx.control.fault === 'expired' || ctx.control.fault === 'wrong_secret' || ctx.control.fault === 'revoked') {
      res.setHeader(
        'www-authenticate',
        'Bearer client_id="00000002-0000-0ff1-ce00-000000000000", token_types="app_asserted_user_v1 service_asserted_app_v1", error="invalid_token"'
      );
      return odataError(res, ctx, 401, 'Unauthorized', 'The token is missing, expired or not valid for this endpoint.');
    }
    const claims = entra.verifyAccessToken(token, self);
    const tenant = decodeURIComponent(m[1]!).toLowerCase();
    if (!claims) return odataError(res, ctx, 401, 'Unauthorized', 'The token is not valid for this endpoint.');
    const tenantKnown = claims.tid === tenant || [...entra.tenants.values()].some((t) => t.id === claims.tid && t.domains.includes(tenant));
    if (!tenantKnown) return odataError(res, ctx, 401, 'Unauthorized', 'The token was issued for another tenant.');
    if (!(claims.roles ?? []).includes(EXCHANGE_MANAGE_AS_APP))
      return odataError(res, ctx, 403, 'Forbidden', `The application is not granted the ${EXCHANGE_MANAGE_AS_APP} permission.`);
    if (
      typeof req.headers['x-anchormailbox'] !== 'string' ||
      !/^(APP|UPN):SystemMailbox\{[0-9a-f-]{36}\}@\S+$/i.test(req.headers['x-anchormailbox'])
    ) {
      return odataError(res, ctx, 400, 'BadRequest', 'The X-AnchorMailbox header is missing or malformed.');
    }
    if (!admins.has(`${claims.tid}|${claims.appid}`)) {
      return odataError(
        res,
        ctx,
        403,
        'Forbidden',
        "The user isn't assigned to any management roles. Assign the app an Exchange admin role (e.g. Security Administrator)."
      );
    }
    let input: { CmdletName?: unknown; Parameters?: unknown };
    try {
      input = ((JSON.parse(ctx.body) as { CmdletInput?: unknown }).CmdletInput ?? {}) as typeof input;
    } catch {
      return odataError(res, ctx, 400, 'BadRequest', 'The request body is not valid JSON.');
    }
    const cmdlet = typeof input.CmdletName === 'string' ? input.CmdletName : '';
    const p = (input.Parameters && typeof input.Parameters === 'object' ? input.Parameters : {}) as Record<string, unknown>;
    invocations.push({ cmdlet, parameters: p });
    const list = entries.get(claims.tid) ?? [];
    entries.set(claims.tid, list);
    const ok = (value: unknown[]) =>
      ctx.json(res, 200, {
        '@odata.context': `${self}/adminapi/beta/${claims.tid}/$metadata#Collection(Exchange.GenericHashTable)`,
        value
      });
    if (p.ListType !== 'Sender')
      return odataError(
        res,
        ctx,
        400,
        'BadRequest',
        '|Microsoft.Exchange.Management.Tasks.ValidationException|ListType must be Sender for this endpoint.'
      );
    const values = Array.isArray(p.Entries)
      ? (p.Entries as unknown[]).filter((v): v is string => typeof v === 'string').map((v) => v.toLowerCase())
      : [];
    switch (cmdlet) {
      case 'Get-TenantAllowBlockListItems': {
        const entry = typeof p.Entry === 'string' ? p.Entry.toLowerCase() : null;
        return ok(list.filter((e) => (entry === null || e.Value === entry) && (p.Block !== true || e.Action === 'Block')));
      }
      case 'New-TenantAllowBlockListItems': {
        if (p.Block !== true || values.length === 0)
          return odataError(
            res,
            ctx,
            400,
            'BadRequest',
            '|Microsoft.Exchange.Management.Tasks.ValidationException|Give Entries and -Block.'
          );
        if (values.some((v) => list.some((e) => e.Value === v))) {
          return odataError(
            res,
            ctx,
            400,
            'BadRequest',
            '|Microsoft.Exchange.Management.Tasks.ValidationException|Entry already exists in the Tenant Allow/Block List.'
          );
        }
        const now = new Date().toISOString();
        const added = values.map((v): TablEntry => ({
          Identity: `RgAAAAA${randomUUID().replace(/-/g, '')}`,
          Value: v,
          Action: 'Block',
          ListType: 'Sender',
          Notes: typeof p.Notes === 'string' ? p.Notes : '',
          ExpirationDate: p.NoExpiration === true ? null : new Date(Date.now() + 30 * 86_400_000).toISOString(),
          LastModifiedDateTime: now
        }));
        list.push(...added);
        return ok(added);
      }
      case 'Remove-TenantAllowBlockListItems': {
        const ids = Array.isArray(p.Ids) ? (p.Ids as unknown[]).filter((v): v is string => typeof v === 'string') : [];
        const gone = list.filter((e) => ids.includes(e.Identity) || values.includes(e.Value));
        if (gone.length === 0)
          return odataError(
            res,
            ctx,
            404,
            'NotFound',
            '|Microsoft.Exchange.Management.Tasks.ManagementObjectNotFoundException|The entry was not found.'
          );
        entries.set(
          claims.tid,
          list.filter((e) => !gone.includes(e))
        );
        return ok([]);
      }
      default:
        return odataError(
          res,
          ctx,
          400,
          'BadRequest',
          `The term '${cmdlet.slice(0, 60)}' is not recognized as a cmdlet this endpoint runs.`
        );
    }
  }, opts);
  self = peer.url;
  return Object.assign(peer, {
    entries,
    invocations,
    grantAdminRole(tenantId: string, appId: string) {
      admins.add(`${tenantId.toLowerCase()}|${appId}`);
    }
  });
}
