import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEntraPeer, type EntraApp, type EntraPeer, type EntraTenant } from '../../../e2e/peers/entra.ts';
import { startExchangePeer, type ExchangePeer } from '../../../e2e/peers/exchange.ts';
import { installGraphActions, type GraphActions } from '../../../e2e/peers/graph-actions.ts';
import { startGraphPeer, type GraphPeer, type GraphTenant } from '../../../e2e/peers/graph.ts';
import { trustTestCa } from '../../../e2e/peers/tls.ts';
import type { KeydeskApp } from '../../app.ts';
import { containsAnyEncoding, keychainVault, type TempVault } from '../../testing/fixtures.ts';

const GRAPH_ROLES = ['Directory.Read.All', 'MailboxSettings.ReadWrite', 'User.ReadWrite.All'];

let entra: EntraPeer;
let graph: GraphPeer;
let actions: GraphActions;
let exchange: ExchangePeer;
let restoreTrust: () => void;
let tenant: EntraTenant;
let gtenant: GraphTenant;
let entraApp: EntraApp;
let secret: string;

beforeAll(async () => {
  entra = await startEntraPeer();
  restoreTrust = trustTestCa(entra.ca.certPem);
  graph = await startGraphPeer(entra);
  actions = installGraphActions(graph);
  exchange = await startExchangePeer(entra);
  entra.resources.add(graph.url);
  entra.resources.add(exchange.url);
  tenant = entra.addTenant({ domains: ['corp.onmicrosoft.com', 'corp.example'] });
  gtenant = graph.addTenant({ id: tenant.id, domains: ['corp.example', 'corp.onmicrosoft.com'] });
  entraApp = entra.addApp(tenant.id, { displayName: 'Keydesk SOC' });
  secret = entra.addSecret(entraApp).value;
});
afterAll(async () => {
  restoreTrust();
  await Promise.all([entra.close(), graph.close(), exchange.close()]);
});

let tv: TempVault;
let app: KeydeskApp;
beforeEach(async () => {
  entraApp.roles.set(new URL(graph.url).origin, GRAPH_ROLES);
  entraApp.roles.set(new URL(exchange.url).origin, ['Exchange.ManageAsApp']);
  exchange.grantAdminRole(tenant.id, entraApp.appId);
  gtenant.users.clear();
  actions.rules.clear();
  actions.calls.length = 0;
  exchange.entries.clear();
  exchange.invocations.length = 0;
  graph.addUser(tenant.id, { userPrincipalName: 'alice@corp.example' });
  graph.addUser(tenant.id, { userPrincipalName: 'ceo@corp.example' });
  graph.addUser(tenant.id, { userPrincipalName: 'gone@corp.example', accountEnabled: false });
  tv = await keychainVault();
  app = tv.app;
  app.credentials.add({
    name: 'Corp M365',
    provider: 'microsoft_365',
    mode: 'client_secret',
    values: {
      tenant_id: 'corp.onmicrosoft.com',
      client_id: entraApp.appId,
      client_secret: secret,
      authority_host: entra.url,
      graph_endpoint: graph.url,
      exchange_endpoint: exchange.url
    }
  });
  app.routing.bind('Corp M365', 'corp.example');
});
afterEach(async () => {
  entra.reset();
  graph.reset();
  exchange.reset();
  await tv.cleanup();
});

const user = (upn: string) => [...gtenant.users.values()].find((u) => u.userPrincipalName === upn)!;
const run = (capability: string, target: string, host: Record<string, string> = {}) =>
  app.executions.run({ capability, target, reason: 'BEC attempt INC-88', ...host });

describe('microsoft_365 disable_user (Graph accountEnabled=false, then revokeSignInSessions)', () => {
  it('disables the user and revokes their sessions; the revert re-enables them', async () => {
    const r = await run('disable_user', 'alice@corp.example');
    expect(r).toMatchObject({
      status: 'succeeded',
      boundDomain: 'corp.example',
      revertContext: { upn: 'alice@corp.example', prior_account_enabled: true }
    });
    expect(user('alice@corp.example').accountEnabled).toBe(false);
    expect(actions.revocations.get(user('alice@corp.example').id)).toBe(1);
    expect((await app.executions.revert(r.id)).status).toBe('reverted');
    expect(user('alice@corp.example').accountEnabled).toBe(true);
    expect(actions.calls.map((c) => c.what)).toEqual(['accountEnabled=false', 'revokeSignInSessions', 'accountEnabled=true']);
  });

  it('a user already disabled stays disabled after the revert', async () => {
    const r = await run('disable_user', 'gone@corp.example');
    expect(r.result?.summary).toMatch(/already disabled/);
    expect((await app.executions.revert(r.id)).status).toBe('reverted');
    expect(user('gone@corp.example').accountEnabled).toBe(false);
  });

  it('an unknown user fails inventory_not_found; a user outside the bound domain is refused before any call', async () => {
    expect(await run('disable_user', 'nobody@corp.example')).toMatchObject({
      status: 'failed',
      failureReason: 'inventory_not_found',
      error: { code: 'Request_ResourceNotFound' }
    });
    const before = graph.control.requests.length;
    await expect(run('disable_user', 'alice@other.example', { hostDomain: 'corp.example' })).rejects.toMatchObject({
      code: 'INPUT_INVALID'
    });
    await expect(run('disable_user', 'not-an-email')).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    expect(graph.control.requests.length).toBe(before);
  });

  it('without User.ReadWrite.All the run fails credential_invalid (re-authenticating would not help)', async () => {
    entraApp.roles.set(new URL(graph.url).origin, ['Directory.Read.All']);
    expect(await run('disable_user', 'alice@corp.example')).toMatchObject({
      status: 'failed',
      failureReason: 'credential_invalid',
      error: { code: 'Authorization_RequestDenied' }
    });
    expect(user('alice@corp.example').accountEnabled).toBe(true);
  });

  it('an expired client secret: no Graph call, the run waits; a new secret that validates resumes it, and Graph sees one disable', async () => {
    entra.setFault('expired');
    const r = await run('disable_user', 'alice@corp.example');
    expect(r).toMatchObject({ status: 'awaiting_reauth', error: { code: 'AADSTS7000222' } });
    expect(app.credentials.get('Corp M365').status).toBe('expired');
    expect(actions.calls).toEqual([]);
    entra.setFault('none');
    const fresh = entra.addSecret(entraApp).value;
    const report = await app.executions.reauthWithSecrets('Corp M365', { client_secret: fresh });
    expect(report.resumed.map((v) => [v.id, v.status])).toEqual([[r.id, 'succeeded']]);
    expect(actions.calls.filter((c) => c.what === 'accountEnabled=false')).toHaveLength(1);
  });

  it('rejected between the disable and the session revocation: the resumed run keeps the true prior state, so the revert re-enables', async () => {
    let once = true;
    const remove = graph.route('POST', /^\/v1\.0\/users\/[^/]+\/revokeSignInSessions$/, (_req, res, ctx) => {
      if (!once) return graph.graphError(res, ctx, 500, 'unreachable', 'route should have been removed');
      once = false;
      graph.graphError(res, ctx, 401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.');
    });
    const r = await run('disable_user', 'alice@corp.example');
    remove();
    expect(r.status).toBe('awaiting_reauth');
    expect(user('alice@corp.example').accountEnabled).toBe(false); // the first call had already disabled her
    const report = await app.executions.reauthWithSecrets('Corp M365', { client_secret: secret });
    expect(report.resumed[0]).toMatchObject({ id: r.id, status: 'succeeded', revertContext: { prior_account_enabled: true } });
    await app.executions.revert(r.id);
    expect(user('alice@corp.example').accountEnabled).toBe(true);
  });
});

describe('microsoft_365 block_sender (inbox rule on the protected mailbox)', () => {
  it('creates a rule moving the sender to Deleted Items in that mailbox only; the revert deletes it', async () => {
    const r = await run('block_sender', 'Evil@Phish.Example', { hostEmail: 'ceo@corp.example' });
    expect(r.status).toBe('succeeded');
    const rules = actions.rules.get(user('ceo@corp.example').id) ?? [];
    expect(rules).toEqual([
      expect.objectContaining({ displayName: 'Keydesk: block evil@phish.example', actions: { delete: true, stopProcessingRules: true } })
    ]);
    expect(rules[0]!.conditions).toEqual({ fromAddresses: [{ emailAddress: { address: 'evil@phish.example' } }] });
    expect(actions.rules.get(user('alice@corp.example').id)).toBeUndefined();
    expect((await app.executions.revert(r.id)).status).toBe('reverted');
    expect(actions.rules.get(user('ceo@corp.example').id)).toEqual([]);
  });

  it('needs a protected mailbox, and a mailbox that exists', async () => {
    await expect(run('block_sender', 'evil@phish.example', { hostDomain: 'corp.example' })).rejects.toMatchObject({
      code: 'INPUT_INVALID'
    });
    expect(await run('block_sender', 'evil@phish.example', { hostEmail: 'nobody@corp.example' })).toMatchObject({
      status: 'failed',
      failureReason: 'inventory_not_found'
    });
  });
});

describe('microsoft_365 block_email_domain (Tenant Allow/Block List through Exchange Online InvokeCommand)', () => {
  it('adds a sender block entry without expiry; the revert removes it', async () => {
    const r = await run('block_email_domain', 'phish.example', { hostDomain: 'corp.example' });
    expect(r).toMatchObject({ status: 'succeeded', revertContext: { value: 'phish.example', created: true } });
    expect(exchange.entries.get(tenant.id)).toEqual([
      expect.objectContaining({
        Value: 'phish.example',
        Action: 'Block',
        ListType: 'Sender',
        ExpirationDate: null,
        Notes: 'Keydesk: BEC attempt INC-88'
      })
    ]);
    expect(exchange.invocations.map((i) => i.cmdlet)).toEqual(['Get-TenantAllowBlockListItems', 'New-TenantAllowBlockListItems']);
    expect((await app.executions.revert(r.id)).status).toBe('reverted');
    expect(exchange.entries.get(tenant.id)).toEqual([]);
  });

  it('an entry someone else put on the list is reported as already in effect, and the revert leaves it', async () => {
    exchange.entries.set(tenant.id, [
      {
        Identity: 'RgAAAAAexisting',
        Value: 'phish.example',
        Action: 'Block',
        ListType: 'Sender',
        Notes: 'added by hand',
        ExpirationDate: null,
        LastModifiedDateTime: new Date().toISOString()
      }
    ]);
    const r = await run('block_email_domain', 'phish.example', { hostDomain: 'corp.example' });
    expect(r).toMatchObject({ status: 'succeeded', revertContext: { identity: 'RgAAAAAexisting', created: false } });
    expect(r.result?.summary).toMatch(/already blocked/);
    expect((await app.executions.revert(r.id)).status).toBe('reverted');
    expect(exchange.entries.get(tenant.id)?.map((e) => e.Identity)).toEqual(['RgAAAAAexisting']);
    expect(exchange.invocations.map((i) => i.cmdlet)).toEqual(['Get-TenantAllowBlockListItems']);
  });

  it('without an Exchange admin role on the app: credential_invalid, nothing added', async () => {
    const stranger = entra.addApp(tenant.id, { roles: { [graph.url]: GRAPH_ROLES, [exchange.url]: ['Exchange.ManageAsApp'] } });
    app.credentials.update('Corp M365', { values: { client_id: stranger.appId, client_secret: entra.addSecret(stranger).value } });
    expect(await run('block_email_domain', 'phish.example', { hostDomain: 'corp.example' })).toMatchObject({
      status: 'failed',
      failureReason: 'credential_invalid',
      error: { code: 'Forbidden' }
    });
    expect(exchange.entries.get(tenant.id) ?? []).toEqual([]);
  });

  it('an OAuth-delegated credential cannot use the Tenant Allow/Block List: refused as input, no call', async () => {
    app.routing.unbind('Corp M365', 'corp.example');
    app.credentials.add({
      name: 'Delegated',
      provider: 'microsoft_365',
      mode: 'oauth_delegated',
      values: { tenant_id: tenant.id, client_id: '11111111-2222-3333-4444-555555555555', graph_endpoint: graph.url }
    });
    app.routing.bind('Delegated', 'corp.example');
    const before = exchange.control.requests.length;
    await expect(run('block_email_domain', 'phish.example', { hostDomain: 'corp.example' })).rejects.toMatchObject({
      code: 'INPUT_INVALID'
    });
    expect(exchange.control.requests.length).toBe(before);
  });
});

describe('security: the client secret never reaches executions, events or the audit log', () => {
  it('canary secret through an Entra refusal that echoes it, a success and a revert', async () => {
    const canary = `CANARY~${Date.now()}abcdefghijklmnop`;
    entra.addSecret(entraApp, { value: canary });
    app.credentials.update('Corp M365', { values: { client_secret: canary } });
    const seen: unknown[] = [];
    for (const name of ['execution.changed', 'reauth.prompt', 'vault.changed'] as const) app.vault.events.on(name, (p) => seen.push(p));
    entra.echo.text = canary;
    entra.setFault('wrong_secret');
    const waiting = await run('disable_user', 'alice@corp.example');
    expect(waiting.status).toBe('awaiting_reauth');
    entra.setFault('none');
    entra.echo.text = null;
    const { resumed } = await app.executions.reauthWithSecrets('Corp M365', { client_secret: canary });
    await app.executions.revert(resumed[0]!.id);
    const everything = JSON.stringify([app.executions.list(), app.executions.prompts(), app.audit.list(), seen, app.credentials.list()]);
    expect(containsAnyEncoding(everything, canary)).toBeNull();
  });
});
