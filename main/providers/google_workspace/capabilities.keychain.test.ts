import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { installGoogleActions, type GoogleActions } from '../../../e2e/peers/google-actions.ts';
import {
  startGooglePeer,
  type GooglePeer,
  type ServiceAccount,
  type ServiceAccountKeyFile,
  type WorkspaceCustomer
} from '../../../e2e/peers/google.ts';
import type { KeydeskApp } from '../../app.ts';
import { containsAnyEncoding, keychainVault, type TempVault } from '../../testing/fixtures.ts';
import { WORKSPACE_SCOPES } from './spec.ts';

const ALL_SCOPES = Object.values(WORKSPACE_SCOPES);
const CUSTOMER = 'C0corp123';

let g: GooglePeer;
let actions: GoogleActions;
let sa: ServiceAccount;
let key: ServiceAccountKeyFile;
let customer: WorkspaceCustomer;

beforeAll(async () => {
  g = await startGooglePeer();
  actions = installGoogleActions(g);
  ({ sa, keyFile: key } = g.createServiceAccount({ projectId: 'soc-prod', name: 'keydesk-dwd' }));
  customer = g.addCustomer({ id: CUSTOMER, domains: [{ domainName: 'corp.example', isPrimary: true, verified: true }] });
});
afterAll(async () => {
  await g.close();
});

let tv: TempVault;
let app: KeydeskApp;
beforeEach(async () => {
  customer.users.clear();
  for (const u of [
    { primaryEmail: 'admin@corp.example', isAdmin: true },
    { primaryEmail: 'ceo@corp.example' },
    { primaryEmail: 'alice@corp.example' },
    { primaryEmail: 'left@corp.example', suspended: true },
    { primaryEmail: 'bob@labs.corp.example' }
  ]) {
    g.addUser(CUSTOMER, u);
  }
  g.delegate(CUSTOMER, sa.clientId, ALL_SCOPES);
  actions.filters.clear();
  actions.calls.length = 0;
  tv = await keychainVault();
  app = tv.app;
  app.credentials.add({
    name: 'Corp Workspace',
    provider: 'google_workspace',
    mode: 'service_account_dwd',
    values: {
      service_account_json: JSON.stringify(key),
      delegated_admin_email: 'admin@corp.example',
      customer_id: CUSTOMER,
      token_url: `${g.url}/token`,
      api_base_url: g.url
    }
  });
  app.routing.bind('Corp Workspace', 'corp.example');
});
afterEach(async () => {
  g.reset();
  await tv.cleanup();
});

const run = (capability: string, target: string, host: Record<string, string> = {}) =>
  app.executions.run({ capability, target, reason: 'phishing INC-31', ...host });
const filtersOf = (mailbox: string) => actions.filters.get(mailbox) ?? [];

describe('google_workspace block_sender (Gmail filter in the protected mailbox, as that mailbox)', () => {
  it('creates a Trash filter in that mailbox only, through delegation impersonating it; the revert deletes it', async () => {
    const r = await run('block_sender', 'Evil@Phish.Example', { hostEmail: 'ceo@corp.example' });
    expect(r.status).toBe('succeeded');
    expect(filtersOf('ceo@corp.example')).toEqual([
      expect.objectContaining({ criteria: { from: 'evil@phish.example' }, action: { addLabelIds: ['TRASH'], removeLabelIds: ['INBOX'] } })
    ]);
    expect(filtersOf('alice@corp.example')).toEqual([]);
    // The filter was made by a token acting as the mailbox, with only the Gmail settings scope; reads used read-only scopes.
    const post = g.apiCalls.find((c) => c.method === 'POST' && c.path.endsWith('/settings/filters'));
    expect(post).toMatchObject({ subject: 'ceo@corp.example', scopes: [WORKSPACE_SCOPES.gmailSettings] });
    expect(g.apiCalls.find((c) => c.path === '/admin/directory/v1/users/ceo%40corp.example')).toMatchObject({
      subject: 'admin@corp.example',
      scopes: [WORKSPACE_SCOPES.userRead]
    });
    expect((await app.executions.revert(r.id)).status).toBe('reverted');
    expect(filtersOf('ceo@corp.example')).toEqual([]);
  });

  it('an unknown mailbox fails inventory_not_found; a missing delegated scope fails credential_invalid', async () => {
    expect(await run('block_sender', 'evil@phish.example', { hostEmail: 'nobody@corp.example' })).toMatchObject({
      status: 'failed',
      failureReason: 'inventory_not_found'
    });
    g.delegate(
      CUSTOMER,
      sa.clientId,
      ALL_SCOPES.filter((s) => s !== WORKSPACE_SCOPES.gmailSettings)
    );
    expect(await run('block_sender', 'evil@phish.example', { hostEmail: 'ceo@corp.example' })).toMatchObject({
      status: 'failed',
      failureReason: 'credential_invalid',
      error: { code: 'unauthorized_client' }
    });
    expect(filtersOf('ceo@corp.example')).toEqual([]);
  });
});

describe('google_workspace block_email_domain', () => {
  it('with a protected domain: a filter in each mailbox of that domain that exists now (suspended ones skipped, and said so); revert removes them all', async () => {
    const r = await run('block_email_domain', 'phish.example', { hostDomain: 'corp.example' });
    expect(r.status).toBe('succeeded');
    expect(r.result?.summary).toMatch(
      /3 mailbox\(es\) of corp\.example that exist now; 1 suspended mailbox\(es\) skipped\. Mailboxes created later are not covered\./
    );
    for (const m of ['admin@corp.example', 'ceo@corp.example', 'alice@corp.example'])
      expect(filtersOf(m)).toEqual([expect.objectContaining({ criteria: { from: '@phish.example' } })]);
    expect(filtersOf('left@corp.example')).toEqual([]);
    expect(filtersOf('bob@labs.corp.example')).toEqual([]); // another domain of the customer
    expect((await app.executions.revert(r.id)).status).toBe('reverted');
    expect([...actions.filters.values()].flat()).toEqual([]);
  });

  it('with a protected mailbox: only that mailbox', async () => {
    const r = await run('block_email_domain', 'phish.example', { hostEmail: 'alice@corp.example' });
    expect(r.status).toBe('succeeded');
    expect([...actions.filters.entries()].filter(([, f]) => f.length).map(([m]) => m)).toEqual(['alice@corp.example']);
  });

  it('a filter already in a mailbox is kept by the revert; a failure midway removes what the run created', async () => {
    await run('block_email_domain', 'phish.example', { hostEmail: 'alice@corp.example' }); // someone's, in effect
    const r = await run('block_email_domain', 'phish.example', { hostDomain: 'corp.example' });
    expect(r.result?.summary).toMatch(/1 already had such a filter/);
    await app.executions.revert(r.id);
    expect(filtersOf('alice@corp.example')).toHaveLength(1);
    expect(filtersOf('ceo@corp.example')).toEqual([]);

    // Gmail fails for one mailbox: the run fails whole, and the filters it had created are removed again.
    const remove = g.route('POST', /^\/gmail\/v1\/users\/ceo%40corp\.example\/settings\/filters$/, (_req, res, ctx) =>
      ctx.json(res, 500, { error: { code: 500, message: 'Backend Error', status: 'INTERNAL' } })
    );
    const failed = await run('block_email_domain', 'evil.example', { hostDomain: 'corp.example' });
    remove();
    expect(failed).toMatchObject({ status: 'failed', failureReason: 'cloud_api_error' });
    expect([...actions.filters.values()].flat().filter((f) => f.criteria.from === '@evil.example')).toEqual([]);
    expect(failed.steps.map((s) => s.message).join('\n')).toMatch(/Removed the 2 filter\(s\) created before the failure/);
  });

  // Gmail rejects the credential for the second mailbox of a domain-wide block: the first filter is already made.
  const rejectCeo = () =>
    g.route('POST', /^\/gmail\/v1\/users\/ceo%40corp\.example\/settings\/filters$/, (_req, res, ctx) =>
      ctx.json(res, 401, { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } })
    );
  const ours = () =>
    [...actions.filters.entries()].flatMap(([m, fs]) => fs.filter((f) => f.criteria.from === '@phish.example').map(() => m)).sort();

  it('rejected part-way: the run waits keeping what it made; the resumed run finishes without duplicates, and its revert removes every filter', async () => {
    const allow = rejectCeo();
    const waiting = await run('block_email_domain', 'phish.example', { hostDomain: 'corp.example' });
    allow();
    expect(waiting.status).toBe('awaiting_reauth');
    const made = ours();
    expect(made.length).toBeGreaterThan(0); // the mailboxes before ceo got their filter
    expect(made).not.toContain('ceo@corp.example');
    app.credentials.recordHealth('Corp Workspace', { status: 'ok', lastError: null, checkedAt: new Date().toISOString() });
    const { resumed } = await app.executions.resumeWaiting('Corp Workspace');
    expect(resumed.map((v) => [v.id, v.status])).toEqual([[waiting.id, 'succeeded']]);
    expect(ours()).toEqual(['admin@corp.example', 'alice@corp.example', 'ceo@corp.example']); // one each
    expect((await app.executions.revert(waiting.id)).status).toBe('reverted');
    expect(ours()).toEqual([]); // including those the first attempt created
  });

  it('rejected part-way and left past the cutoff: it does not claim "not taken"; it names the filters that stay', async () => {
    const allow = rejectCeo();
    const waiting = await app.executions.run(
      { capability: 'block_email_domain', target: 'phish.example', hostDomain: 'corp.example', reason: 'phishing INC-31' },
      { cutoffMs: 1 }
    );
    allow();
    const made = ours();
    await new Promise((r) => setTimeout(r, 5));
    expect(app.executions.expireDue()).toEqual([waiting.id]);
    const expired = app.executions.get(waiting.id);
    expect(expired.status).toBe('expired_awaiting_reauth');
    const last = expired.steps.at(-1)!.message;
    expect(last).not.toMatch(/not taken/);
    expect(last).toMatch(new RegExp(`already created ${made.length} item\\(s\\)`));
    for (const m of made) expect(last).toContain(m);
    expect(ours()).toEqual(made); // they are still there, as it says
  });
});

describe('google_workspace disable_user (Directory API suspend)', () => {
  it('suspends the user as the delegated admin; the revert restores the prior state', async () => {
    const r = await run('disable_user', 'alice@corp.example');
    expect(r).toMatchObject({ status: 'succeeded', revertContext: { user: 'alice@corp.example', prior_suspended: false } });
    expect(customer.users.get('alice@corp.example')?.suspended).toBe(true);
    expect(g.apiCalls.find((c) => c.method === 'PATCH')).toMatchObject({
      subject: 'admin@corp.example',
      scopes: [WORKSPACE_SCOPES.userWrite]
    });
    expect((await app.executions.revert(r.id)).status).toBe('reverted');
    expect(customer.users.get('alice@corp.example')?.suspended).toBe(false);

    const already = await run('disable_user', 'left@corp.example');
    await app.executions.revert(already.id);
    expect(customer.users.get('left@corp.example')?.suspended).toBe(true);
  });

  it('a deleted service account key: the run waits for re-authentication, and no user is touched', async () => {
    g.setFault('wrong_secret');
    const r = await run('disable_user', 'alice@corp.example');
    expect(r).toMatchObject({ status: 'awaiting_reauth', error: { code: 'invalid_grant' } });
    expect(app.credentials.get('Corp Workspace').status).toBe('failed');
    expect(customer.users.get('alice@corp.example')?.suspended).toBe(false);
    expect(app.executions.prompts()).toHaveLength(1);
  });
});

describe('an OAuth credential whose refresh is refused', () => {
  it('a failed OAuth refresh marks the credential expired and the run waits; re-authenticating through the OAuth service resumes it', async () => {
    app.routing.unbind('Corp Workspace', 'corp.example');
    app.credentials.add({
      name: 'Admin via OAuth',
      provider: 'google_workspace',
      mode: 'oauth_user',
      values: { client_id: 'client-123.apps.googleusercontent.com', token_url: `${g.url}/token`, api_base_url: g.url },
      extra: { access_token: 'ya29.stale-access-token', refresh_token: '1//stale-refresh-token' },
      expiresAt: '2020-01-01T00:00:00Z'
    });
    app.routing.bind('Admin via OAuth', 'corp.example');
    const refused = g.route('POST', /^\/token$/, (_req, res, ctx) =>
      ctx.json(res, 400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' })
    );
    try {
      const r = await run('disable_user', 'alice@corp.example');
      expect(r).toMatchObject({ status: 'awaiting_reauth', error: { code: 'PROVIDER_EXPIRED' } });
      expect(app.credentials.get('Admin via OAuth').status).toBe('expired');
      expect(app.executions.prompts()).toEqual([expect.objectContaining({ credentialName: 'Admin via OAuth', method: 'oauth' })]);
      expect(g.apiCalls.filter((c) => c.path.startsWith('/admin/directory'))).toEqual([]);
      expect(customer.users.get('alice@corp.example')?.suspended).toBe(false);
      refused();

      // Re-authenticated through the OAuth service (a pasted refresh token it proves by refreshing): its
      // re-authentication hook resumes the waiting run — the same execution — with the new token.
      const works = g.route('POST', /^\/token$/, (_req, res, ctx) => {
        const form = new URLSearchParams(ctx.body);
        if (form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== '1//fresh-refresh-token')
          return ctx.json(res, 400, { error: 'invalid_grant', error_description: 'Bad Request' });
        const token = `ya29.fresh${Date.now()}`;
        g.tokens.set(token, {
          principal: 'client-123',
          subject: 'admin@corp.example',
          scopes: new Set(ALL_SCOPES),
          expiresAt: Math.floor(Date.now() / 1000) + 3600
        });
        ctx.json(res, 200, { access_token: token, expires_in: 3600, token_type: 'Bearer', scope: ALL_SCOPES.join(' ') });
      });
      try {
        await app.oauth.pasteTokens('Admin via OAuth', { refresh_token: '1//fresh-refresh-token' });
      } finally {
        works();
      }
      expect(app.executions.get(r.id)).toMatchObject({ status: 'succeeded', attempts: 2 });
      expect(customer.users.get('alice@corp.example')?.suspended).toBe(true);
      expect(app.executions.prompts()).toEqual([]);
    } finally {
      refused();
    }
  });
});

describe('security: the service account key never reaches executions, events or the audit log', () => {
  it('canary: the private key lines and the key file across a run, a refusal that echoes them and a revert', async () => {
    const seen: unknown[] = [];
    for (const name of ['execution.changed', 'reauth.prompt', 'vault.changed'] as const) app.vault.events.on(name, (p) => seen.push(p));
    const r = await run('block_sender', 'evil@phish.example', { hostEmail: 'ceo@corp.example' });
    await app.executions.revert(r.id);
    g.echo.text = key.private_key;
    g.setFault('wrong_secret');
    await run('disable_user', 'alice@corp.example');
    const everything = JSON.stringify([app.executions.list(), app.executions.prompts(), app.audit.list(), seen, app.credentials.list()]);
    const body = key.private_key.split('\n').filter((l) => l && !l.startsWith('-----'));
    for (const line of body) expect(everything).not.toContain(line);
    expect(containsAnyEncoding(everything, key.private_key_id)).toBeNull();
  });
});
