import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEntraPeer, type EntraApp, type EntraPeer } from './entra.ts';
import { startExchangePeer, type ExchangePeer } from './exchange.ts';
import { installGoogleActions, GMAIL_SETTINGS_BASIC } from './google-actions.ts';
import { DIRECTORY_SCOPES, startGooglePeer, type GooglePeer, type ServiceAccountKeyFile } from './google.ts';
import { installGraphActions } from './graph-actions.ts';
import { startGraphPeer, type GraphPeer } from './graph.ts';
import { signJwt } from './jwt.ts';
import { createPrivateKey } from 'node:crypto';
import { trustTestCa } from './tls.ts';

/** The action endpoints the peers learned for issue 5 check authentication and authorization for real. */

describe('Graph and Exchange action endpoints', () => {
  let entra: EntraPeer;
  let graph: GraphPeer;
  let exchange: ExchangePeer;
  let app: EntraApp;
  let secret: string;
  let tenantId: string;
  let restore: () => void;

  beforeAll(async () => {
    entra = await startEntraPeer();
    restore = trustTestCa(entra.ca.certPem);
    graph = await startGraphPeer(entra);
    installGraphActions(graph);
    exchange = await startExchangePeer(entra);
    entra.resources.add(graph.url);
    entra.resources.add(exchange.url);
    tenantId = entra.addTenant({ domains: ['corp.example'] }).id;
    graph.addTenant({ id: tenantId, domains: ['corp.example'], users: [{ userPrincipalName: 'alice@corp.example' }] });
    app = entra.addApp(tenantId, { roles: { [graph.url]: ['User.Read.All'], [exchange.url]: ['Exchange.ManageAsApp'] } });
    secret = entra.addSecret(app).value;
  });
  afterAll(async () => {
    restore();
    await Promise.all([entra.close(), graph.close(), exchange.close()]);
  });

  const token = async (resource: string) => {
    const res = await fetch(entra.tokenEndpoint(tenantId), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: app.appId,
        client_secret: secret,
        scope: `${resource}/.default`
      })
    });
    return ((await res.json()) as { access_token: string }).access_token;
  };

  it('Graph: no token 401, a token for another resource 401, a role that may only read 403 on PATCH; nothing changes', async () => {
    const patch = (t: string | null) =>
      fetch(`${graph.url}/v1.0/users/alice@corp.example`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', ...(t ? { authorization: `Bearer ${t}` } : {}) },
        body: '{"accountEnabled":false}'
      });
    expect((await patch(null)).status).toBe(401);
    expect((await patch(await token(exchange.url))).status).toBe(401);
    const readOnly = await token(graph.url);
    expect((await patch(readOnly)).status).toBe(403);
    const alice = await fetch(`${graph.url}/v1.0/users/alice@corp.example`, { headers: { authorization: `Bearer ${readOnly}` } });
    expect(((await alice.json()) as { accountEnabled: boolean }).accountEnabled).toBe(true);
  });

  it('Exchange InvokeCommand: a Graph token 401, no anchor mailbox 400, no Exchange admin role 403', async () => {
    const invoke = (
      t: string,
      headers: Record<string, string> = { 'x-anchormailbox': `APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@${tenantId}` }
    ) =>
      fetch(`${exchange.url}/adminapi/beta/${tenantId}/InvokeCommand`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({
          CmdletInput: {
            CmdletName: 'New-TenantAllowBlockListItems',
            Parameters: { ListType: 'Sender', Block: true, Entries: ['evil.example'] }
          }
        })
      });
    expect((await invoke(await token(graph.url))).status).toBe(401);
    const t = await token(exchange.url);
    expect((await invoke(t, {})).status).toBe(400);
    expect((await invoke(t)).status).toBe(403);
    exchange.grantAdminRole(tenantId, app.appId);
    expect((await invoke(t)).status).toBe(200);
    expect(exchange.entries.get(tenantId)?.map((e) => e.Value)).toEqual(['evil.example']);
  });
});

describe('Gmail and Directory action endpoints', () => {
  let g: GooglePeer;
  let key: ServiceAccountKeyFile;
  let clientId: string;

  beforeAll(async () => {
    g = await startGooglePeer();
    installGoogleActions(g);
    const made = g.createServiceAccount({ projectId: 'p' });
    key = made.keyFile;
    clientId = made.sa.clientId;
    g.addCustomer({
      id: 'C0x',
      domains: [{ domainName: 'corp.example', isPrimary: true, verified: true }],
      users: [
        { primaryEmail: 'admin@corp.example', isAdmin: true },
        { primaryEmail: 'ceo@corp.example' },
        { primaryEmail: 'alice@corp.example' }
      ]
    });
    g.delegate('C0x', clientId, [GMAIL_SETTINGS_BASIC, DIRECTORY_SCOPES.user, DIRECTORY_SCOPES.userRead]);
  });
  afterAll(async () => {
    await g.close();
  });

  const tokenAs = async (subject: string, scope: string) => {
    const now = Math.floor(Date.now() / 1000);
    const assertion = signJwt(
      { alg: 'RS256', kid: key.private_key_id },
      { iss: key.client_email, sub: subject, scope, aud: 'https://oauth2.googleapis.com/token', iat: now, exp: now + 600 },
      createPrivateKey(key.private_key)
    );
    const res = await fetch(`${g.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion })
    });
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const createFilter = (t: string, user: string) =>
    fetch(`${g.url}/gmail/v1/users/${encodeURIComponent(user)}/settings/filters`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
      body: JSON.stringify({ criteria: { from: 'evil@phish.example' }, action: { addLabelIds: ['TRASH'] } })
    });

  it('Gmail: a token acting as one mailbox cannot filter another (403); with the wrong scope 403; as itself 200', async () => {
    const asAlice = await tokenAs('alice@corp.example', GMAIL_SETTINGS_BASIC);
    expect((await createFilter(asAlice, 'ceo@corp.example')).status).toBe(403);
    expect((await createFilter(await tokenAs('alice@corp.example', DIRECTORY_SCOPES.userRead), 'alice@corp.example')).status).toBe(403);
    expect((await createFilter('ya29.not-issued', 'alice@corp.example')).status).toBe(401);
    expect((await createFilter(asAlice, 'me')).status).toBe(200);
  });

  it('Directory: suspending needs an administrator and the read-write scope', async () => {
    const suspend = (t: string) =>
      fetch(`${g.url}/admin/directory/v1/users/ceo%40corp.example`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
        body: '{"suspended":true}'
      });
    expect((await suspend(await tokenAs('alice@corp.example', DIRECTORY_SCOPES.user))).status).toBe(403);
    expect((await suspend(await tokenAs('admin@corp.example', DIRECTORY_SCOPES.userRead))).status).toBe(403);
    expect(g.customers.get('C0x')?.users.get('ceo@corp.example')?.suspended).toBe(false);
    expect((await suspend(await tokenAs('admin@corp.example', DIRECTORY_SCOPES.user))).status).toBe(200);
    expect(g.customers.get('C0x')?.users.get('ceo@corp.example')?.suspended).toBe(true);
  });
});
