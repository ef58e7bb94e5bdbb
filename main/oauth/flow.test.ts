// The generic OAuth credential (openid-client) against a real OpenID Provider (oidc-provider) on loopback, with the
// browser side driven for real: Chromium for the full flow, an HTTP client that submits the login and consent pages
// for the rest. Real vault, real OS keychain (private session).
// Nothing here waits for real time to pass: a sign-in's timeout runs on the vault's manual clock and the refresh
// lease on a manual wall clock, which the tests move; a race is forced by holding token requests at the provider
// (`holdTokenRequests`) and checked before the provider is let go.
import { request } from 'node:http';
import type { Browser } from '@playwright/test';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { KeydeskEvents } from '../../preload/contract.ts';
import { chromiumSignIn, launchChromium } from '../../e2e/peers/oidc-chromium.ts';
import { signIn } from '../../e2e/peers/oidc-browser.ts';
import { NATIVE_CLIENT_ID, startOidcPeer, type OidcPeer, type TokenRequestHold } from '../../e2e/peers/oidc.ts';
import type { KeydeskApp } from '../app.ts';
import { keychainVault, manualClock, watchedSleep, type ManualClock, type TempVault } from '../testing/fixtures.ts';
import { LEASE_POLL_MS, type LeaseOptions } from './lease.ts';
import { DEFAULT_FLOW_TIMEOUT_MS } from './flow/loopback.ts';
import { OAuthService } from './service.ts';

let peer: OidcPeer;
let browser: Browser;
const vaults: TempVault[] = [];

beforeAll(async () => {
  peer = await startOidcPeer();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await peer?.close();
});
afterEach(async () => {
  for (const v of vaults.splice(0)) await v.cleanup();
});

const SCOPES = 'openid email offline_access api.read';

async function vaultWith(names: string[], values: Record<string, string> = {}) {
  const clock = manualClock(new Date().toISOString());
  const v = await keychainVault({ clock });
  vaults.push(v);
  for (const name of names) {
    v.app.credentials.add({
      name,
      provider: 'oauth',
      mode: 'authorization_code',
      values: { discovery_url: peer.discoveryUrl, client_id: NATIVE_CLIENT_ID, scopes: SCOPES, ...values }
    });
  }
  const events: KeydeskEvents['oauth.flow'][] = [];
  v.app.vault.events.on('oauth.flow', (e) => events.push(e));
  return { v, app: v.app, clock, events };
}

/** The HTTP-client browser: signs in (or refuses) in the background, as a browser opened by the OS would. */
function httpBrowser(opts: { decision?: 'approve' | 'deny'; before?: (redirectUri: string) => Promise<void> } = {}) {
  const results: Promise<Awaited<ReturnType<typeof signIn>>>[] = [];
  return {
    results,
    openExternal: async (url: string) => {
      const redirectUri = new URL(url).searchParams.get('redirect_uri') ?? '';
      const run = (async () => {
        await opts.before?.(redirectUri);
        return signIn(url, { decision: opts.decision ?? 'approve' });
      })();
      run.catch(() => undefined);
      results.push(run);
    }
  };
}

function rawGet(url: string, method = 'GET'): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request({ host: '127.0.0.1', port: u.port, path: `${u.pathname}${u.search}`, method, headers: { host: u.host } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * An OAuth service on one vault handle, built as `app.oauth` is, but on the test's clocks: the sign-in timeout runs
 * on the vault's manual clock, the refresh lease on `wall` (the wall clock the "processes" share). `waits` reports
 * each time this handle found the lease held by another and waited for it.
 */
function serviceOn(handle: KeydeskApp, clock: ManualClock, wall: ManualClock = manualClock(), lease: LeaseOptions = {}) {
  const waits = watchedSleep(wall);
  const oauth = new OAuthService({
    vault: handle.vault,
    credentials: handle.credentials,
    drivers: handle.providers,
    calls: handle.calls,
    events: handle.vault.events,
    clock,
    timers: clock,
    lease: { clock: wall, timers: wall, sleep: waits.sleep, ...lease }
  });
  return { oauth, waits };
}

/**
 * Resolves when `waiting` does (a handle found the lease held and waits). Fails instead, without waiting out the test's
 * timeout, when the race did not happen: a second token request reached the provider (the lease did not hold), or
 * one of `calls` settled first (it never waited).
 */
function leaseWaitedFor(hold: TokenRequestHold, waiting: Promise<void>, calls: readonly Promise<unknown>[]): Promise<void> {
  const fail = (why: string) => () => {
    throw new Error(why);
  };
  return Promise.race([
    waiting,
    hold.arrived(2).then(fail('A second token request reached the provider while the first was held there: the lease did not hold.')),
    ...calls.map((c) => c.then(fail('A refresh finished before the other one waited for the lease: the race did not happen.')))
  ]);
}

/** An `openExternal` that only notes the URL, and says when it was called (the flow is then waiting for the browser). */
function browserThatNeverComesBack() {
  const urls: string[] = [];
  let seen!: () => void;
  const opened = new Promise<void>((r) => (seen = r));
  return {
    urls,
    opened,
    openExternal: async (u: string) => {
      urls.push(u);
      seen();
    }
  };
}

function tokensOf(app: TempVault['app'], name: string) {
  const m = app.credentials.material(name);
  return { access: m.secrets.access_token?.reveal() ?? null, refresh: m.secrets.refresh_token?.reveal() ?? null };
}

describe('generic OAuth credential against oidc-provider', () => {
  it('full flow in Chromium: sign-in, consent, loopback redirect; tokens stored encrypted, expiry and scopes readable', async () => {
    const { app, events } = await vaultWith(['Peer SSO']);
    const chrome = chromiumSignIn(browser);
    try {
      const c = await app.oauth.connect('Peer SSO', { openExternal: chrome.openExternal });
      const page = await chrome.finished();
      expect(page.text).toContain('Keydesk received the sign-in');
      expect(page.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
      expect(c.status).toBe('ok');
      expect(c.expirySource).toBe('provider');
      expect(Date.parse(c.expiresAt ?? '') - app.vault.clock.now().getTime()).toBe(3600_000);
      expect(c.observed).toMatchObject({
        granted: ['api.read', 'email', 'offline_access', 'openid'],
        identity: { account: 'alice@peer.example' },
        oauth: { has_refresh_token: true }
      });
      const t = tokensOf(app, 'Peer SSO');
      expect(peer.issuedTokens()).toEqual(expect.arrayContaining([t.access, t.refresh]));
      expect(events.map((e) => e.stage)).toEqual(['started', 'waiting_for_browser', 'completed']);
      expect(new Set(events.map((e) => e.flowId)).size).toBe(1);
      expect(app.audit.list().map((a) => a.action)).toEqual(expect.arrayContaining(['oauth.connect', 'oauth.status']));
    } finally {
      await chrome.close();
    }
  });

  it('refresh rotates the refresh token and stores the new pair; the old refresh token is spent at the provider', async () => {
    const { app } = await vaultWith(['Rotating']);
    await app.oauth.connect('Rotating', httpBrowser());
    const before = tokensOf(app, 'Rotating');
    const count = peer.refreshCount();
    const c = await app.oauth.refresh('Rotating');
    const after = tokensOf(app, 'Rotating');
    expect(peer.refreshCount()).toBe(count + 1);
    expect(after.access).not.toBe(before.access);
    expect(after.refresh).not.toBe(before.refresh);
    expect(peer.liveRefreshTokens()).toContain(after.refresh);
    expect(peer.liveRefreshTokens()).not.toContain(before.refresh);
    expect(c).toMatchObject({ status: 'ok', observed: { oauth: { refreshed_at: expect.any(String) } } });
  });

  it('accessToken() refreshes only within 5 minutes of expiry; concurrent callers share one refresh', async () => {
    const { app, clock } = await vaultWith(['Lazy']);
    await app.oauth.connect('Lazy', httpBrowser());
    const { oauth, waits } = serviceOn(app, clock);
    const first = tokensOf(app, 'Lazy').access;
    const count = peer.refreshCount();
    expect((await oauth.accessToken('Lazy')).reveal()).toBe(first);
    clock.advance(54 * 60_000); // 6 minutes left: still used as is
    expect((await oauth.accessToken('Lazy')).reveal()).toBe(first);
    expect(peer.refreshCount()).toBe(count);
    clock.advance(2 * 60_000); // 4 minutes left: refreshed before use
    // The interleaving: every call is made while the first one's token request is held at the provider, and joins
    // that refresh in this process (none of them queues on the lease, which would hide a broken collapse).
    const hold = peer.holdTokenRequests();
    const calls = Promise.all([oauth.accessToken('Lazy'), oauth.accessToken('Lazy'), oauth.refresh('Lazy'), oauth.accessToken('Lazy')]);
    try {
      await hold.arrived();
      expect(waits.count()).toBe(0);
      expect(hold.count()).toBe(1);
    } finally {
      hold.release();
    }
    const got = await calls;
    expect(peer.refreshCount()).toBe(count + 1);
    const fresh = tokensOf(app, 'Lazy').access;
    expect(fresh).not.toBe(first);
    for (const s of [got[0], got[1], got[3]]) expect(s.reveal()).toBe(fresh);
  });

  it('two handles on one vault (as the app and the CLI) refreshing at once spend the refresh token once', async () => {
    const { v, app, clock } = await vaultWith(['Shared']);
    await app.oauth.connect('Shared', httpBrowser());
    const other = v.reopen();
    await other.vault.unlock();
    clock.advance(58 * 60_000);
    const count = peer.refreshCount();
    const wall = manualClock();
    const [x, y] = [serviceOn(app, clock, wall), serviceOn(other, clock, wall)];
    // The interleaving: one handle's token request is held at the provider while the other finds the lease held and
    // waits for it; only then does the provider answer.
    const hold = peer.holdTokenRequests();
    const both = [x.oauth.accessToken('Shared'), y.oauth.accessToken('Shared')] as const;
    try {
      await hold.arrived();
      await leaseWaitedFor(hold, Promise.race([x.waits.started(), y.waits.started()]), both);
      expect(hold.count()).toBe(1);
    } finally {
      hold.release();
    }
    await Promise.race(both); // the holder is done; the waiter sleeps until its next poll
    wall.advance(LEASE_POLL_MS);
    const [a, b] = await Promise.all(both);
    expect(a.reveal()).toBe(b.reveal());
    expect(peer.refreshCount()).toBe(count + 1);
    expect(app.credentials.get('Shared').status).toBe('ok');
  });

  it('a token endpoint slower than the refresh lease: the other process waits for the holder instead of taking over and spending the refresh token again', async () => {
    const { v, app, clock } = await vaultWith(['Slow IdP']);
    await app.oauth.connect('Slow IdP', httpBrowser());
    const other = v.reopen();
    await other.vault.unlock();
    // Both handles with a 300 ms lease; the token endpoint takes 1.2 s, four lease lifetimes.
    const lease = { ttlMs: 300, pollMs: 20, maxWaitMs: 10_000 };
    const wall = manualClock();
    const a = serviceOn(app, clock, wall, lease);
    const b = serviceOn(other, clock, wall, lease);
    const count = peer.refreshCount();
    // The interleaving: the first handle's token request is held at the provider while the shared clock moves past
    // the lease's lifetime twice; the second handle then asks, finds the lease held (renewed by the heartbeat), and
    // is still waiting when the provider answers at 1.2 s.
    const hold = peer.holdTokenRequests();
    const first = a.oauth.refresh('Slow IdP');
    let second: typeof first | undefined;
    try {
      await hold.arrived();
      wall.advance(700); // the first lease would have lapsed twice by now
      second = b.oauth.refresh('Slow IdP');
      const calls = [first, second];
      await leaseWaitedFor(hold, b.waits.started(), calls);
      wall.advance(500);
      await leaseWaitedFor(hold, b.waits.started(2), calls); // asked again at 1.2 s: still held, so it goes on waiting
      expect(hold.count()).toBe(1);
    } finally {
      hold.release();
    }
    const ra = await first;
    wall.advance(lease.pollMs);
    const rb = await second!;
    expect(ra.status).toBe('ok');
    expect(rb.status).toBe('ok');
    expect(peer.refreshCount()).toBe(count + 1);
    // Had the refresh token been spent twice, the provider would have revoked the grant: it still refreshes.
    await expect(app.oauth.refresh('Slow IdP')).resolves.toMatchObject({ status: 'ok' });
  });

  it('a refresh that loses the race to a revocation stores nothing: the revoked credential does not come back', async () => {
    const { v, app } = await vaultWith(['Revoked meanwhile']);
    await app.oauth.connect('Revoked meanwhile', httpBrowser());
    const other = v.reopen();
    await other.vault.unlock();
    const count = peer.refreshCount();
    // The interleaving: the refresh request is at the provider (held there, unanswered) when the other handle's
    // revocation commits; only then does the provider answer it, with a new token pair.
    const hold = peer.holdTokenRequests();
    const refreshing = app.oauth.refresh('Revoked meanwhile');
    try {
      await hold.arrived(); // the refresh request is at the provider
      await other.oauth.revoke('Revoked meanwhile', { localOnly: true });
      // Committed: the refreshing handle sees it.
      expect(app.credentials.get('Revoked meanwhile')).toMatchObject({ status: 'expired', lastError: { code: 'revoked' } });
      expect(peer.refreshCount()).toBe(count); // still unanswered
    } finally {
      hold.release();
    }
    await refreshing.catch(() => undefined);
    // The provider did answer the refresh, after the revocation…
    expect(peer.refreshCount()).toBe(count + 1);
    expect(peer.tokenRequests.at(-1)).toMatchObject({ grantType: 'refresh_token', status: 200 });
    // …and what it answered was not stored.
    expect(tokensOf(app, 'Revoked meanwhile')).toEqual({ access: null, refresh: null });
    expect(app.credentials.get('Revoked meanwhile')).toMatchObject({ status: 'expired', lastError: { code: 'revoked' } });
  });

  it('refresh after the grant was revoked marks the credential expired (invalid_grant), and it then makes no provider call', async () => {
    const { app } = await vaultWith(['Revoked by admin']);
    await app.oauth.connect('Revoked by admin', httpBrowser());
    await peer.revokeAllGrants();
    await expect(app.oauth.refresh('Revoked by admin')).rejects.toMatchObject({
      code: 'PROVIDER_EXPIRED',
      message: expect.stringContaining('invalid_grant')
    });
    const c = app.credentials.get('Revoked by admin');
    expect(c.status).toBe('expired');
    expect(c.lastError).toMatchObject({ code: 'invalid_grant' });
    // No "expires in 59 min" beside "expired": the dead grant's access token is not shown as having a future.
    expect(c.expiresAt).toBeNull();
    const count = peer.tokenRequests.length;
    await expect(app.oauth.accessToken('Revoked by admin')).rejects.toMatchObject({
      code: 'CREDENTIAL_NOT_READY',
      message: expect.stringContaining('keydesk reauth')
    });
    expect(peer.tokenRequests.length).toBe(count);
  });

  it('invalid_rapt (Google: re-authentication required) also marks the credential expired, with that reason', async () => {
    const { app, clock } = await vaultWith(['Rapt']);
    await app.oauth.connect('Rapt', httpBrowser());
    peer.control.refreshError = {
      status: 400,
      count: 1,
      body: { error: 'invalid_grant', error_description: 'reauth related error (invalid_rapt)', error_subtype: 'invalid_rapt' }
    };
    clock.advance(58 * 60_000);
    await expect(app.oauth.accessToken('Rapt')).rejects.toMatchObject({ code: 'PROVIDER_EXPIRED' });
    expect(app.credentials.get('Rapt')).toMatchObject({ status: 'expired', lastError: { code: 'invalid_rapt' } });
  });

  it('a token endpoint that is down, or answers nonsense, leaves the credential unknown (not expired), with the reason', async () => {
    const { app } = await vaultWith(['Flaky']);
    await app.oauth.connect('Flaky', httpBrowser());
    const stored = tokensOf(app, 'Flaky');
    peer.control.refreshError = { status: 503, count: 1, body: { error: 'temporarily_unavailable', error_description: 'maintenance' } };
    await expect(app.oauth.refresh('Flaky')).rejects.toMatchObject({
      code: 'PROVIDER_UNREACHABLE',
      message: expect.stringContaining('HTTP 503')
    });
    expect(app.credentials.get('Flaky')).toMatchObject({ status: 'unknown', lastError: { code: 'PROVIDER_UNREACHABLE' } });
    peer.control.refreshError = { status: 200, count: 1, body: { unexpected: 'answer' } };
    await expect(app.oauth.refresh('Flaky')).rejects.toMatchObject({ code: 'OAUTH_FAILED' });
    expect(app.credentials.get('Flaky')).toMatchObject({ status: 'unknown', lastError: { code: 'OAUTH_FAILED' } });
    expect(tokensOf(app, 'Flaky')).toEqual(stored);
  });

  it('401 invalid_client with a WWW-Authenticate challenge (RFC 6749 §5.2) is the provider refusing the client: failed, with its code', async () => {
    const { app } = await vaultWith(['Challenged']);
    await app.oauth.connect('Challenged', httpBrowser());
    peer.control.refreshError = {
      status: 401,
      count: 1,
      body: { error: 'invalid_client', error_description: 'client authentication failed' },
      headers: {
        'www-authenticate': `Basic realm="${peer.issuer}", error="invalid_client", error_description="client authentication failed"`
      }
    };
    await expect(app.oauth.refresh('Challenged')).rejects.toMatchObject({
      code: 'PROVIDER_REJECTED',
      message: expect.stringContaining('invalid_client')
    });
    expect(app.credentials.get('Challenged')).toMatchObject({ status: 'failed', lastError: { code: 'invalid_client' } });
  });

  it('a callback with the wrong state is refused and a correct callback after it still succeeds', async () => {
    const { app } = await vaultWith(['State']);
    let forged = 0;
    const b = httpBrowser({
      before: async (redirectUri) => void (forged = await rawGet(`${redirectUri}?code=attacker-code&state=not-ours`))
    });
    const c = await app.oauth.connect('State', b);
    expect(forged).toBe(400);
    expect(c.status).toBe('ok');
    expect(peer.issuedTokens()).toContain(tokensOf(app, 'State').access);
  });

  it('callbacks on the wrong path or with the wrong method are refused without ending the flow', async () => {
    const { app } = await vaultWith(['Paths']);
    const statuses: number[] = [];
    const b = httpBrowser({
      before: async (redirectUri) => {
        const u = new URL(redirectUri);
        statuses.push(
          await rawGet(`${u.origin}/elsewhere?code=x&state=y`),
          await rawGet(`${redirectUri}?code=x`, 'POST'),
          await rawGet(`${u.origin}/favicon.ico`)
        );
      }
    });
    await expect(app.oauth.connect('Paths', b)).resolves.toMatchObject({ status: 'ok' });
    expect(statuses).toEqual([404, 405, 404]);
  });

  it('a second callback after the flow ended finds the listener closed, and changes nothing', async () => {
    const { app } = await vaultWith(['Once']);
    const b = httpBrowser();
    await app.oauth.connect('Once', b);
    const first = await b.results[0]!;
    const stored = tokensOf(app, 'Once');
    await expect(rawGet(`${first.deliveredTo}?${first.params.toString()}`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(tokensOf(app, 'Once')).toEqual(stored);
  });

  it('access_denied: the flow fails with OAUTH_DENIED, clearly, and nothing is stored', async () => {
    const { app, events } = await vaultWith(['Denied']);
    const b = httpBrowser({ decision: 'deny' });
    await expect(app.oauth.connect('Denied', b)).rejects.toMatchObject({
      code: 'OAUTH_DENIED',
      message: expect.stringContaining('access_denied')
    });
    expect((await b.results[0]!).body).toContain('Sign-in refused');
    expect(tokensOf(app, 'Denied')).toEqual({ access: null, refresh: null });
    expect(app.credentials.get('Denied').status).toBe('unknown');
    expect(events.at(-1)).toMatchObject({ stage: 'failed', error: { code: 'OAUTH_DENIED' } });
    expect(app.audit.list().find((a) => a.action === 'oauth.connect')).toMatchObject({ outcome: 'denied' });
  });

  it('times out with OAUTH_TIMEOUT when the browser never comes back, and closes the listener', async () => {
    const { app, clock } = await vaultWith(['Slow']);
    const { oauth } = serviceOn(app, clock);
    const browser = browserThatNeverComesBack();
    // The default wait for the browser (5 minutes), on the vault's clock: real time never gets there in this test.
    const connecting = oauth.connect('Slow', { openExternal: browser.openExternal });
    await Promise.race([browser.opened, connecting.catch(() => undefined)]);
    clock.advance(DEFAULT_FLOW_TIMEOUT_MS);
    await expect(connecting).rejects.toMatchObject({
      code: 'OAUTH_TIMEOUT'
    });
    const redirect = new URL(browser.urls[0] ?? '').searchParams.get('redirect_uri') ?? '';
    await expect(rawGet(`${redirect}?code=x`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(tokensOf(app, 'Slow').access).toBeNull();
  });

  it('two flows at once for different credentials each get their own listener and tokens', async () => {
    const { app } = await vaultWith(['First', 'Second']);
    const redirects: string[] = [];
    const open = (b: ReturnType<typeof httpBrowser>) => async (u: string) => {
      redirects.push(new URL(u).searchParams.get('redirect_uri') ?? '');
      await b.openExternal(u);
    };
    const [a, b] = await Promise.all([
      app.oauth.connect('First', { openExternal: open(httpBrowser()) }),
      app.oauth.connect('Second', { openExternal: open(httpBrowser()) })
    ]);
    expect([a.status, b.status]).toEqual(['ok', 'ok']);
    expect(new Set(redirects).size).toBe(2);
    expect(tokensOf(app, 'First').access).not.toBe(tokensOf(app, 'Second').access);
  });

  it('explicit authorization and token URLs (no discovery) work the same', async () => {
    const { app } = await vaultWith([]);
    app.credentials.add({
      name: 'Explicit',
      provider: 'oauth',
      mode: 'authorization_code',
      values: {
        authorization_url: peer.authorizationUrl,
        token_url: peer.tokenUrl,
        client_id: NATIVE_CLIENT_ID,
        scopes: 'openid api.read offline_access'
      }
    });
    await expect(app.oauth.connect('Explicit', httpBrowser())).resolves.toMatchObject({
      status: 'ok',
      observed: { granted: ['api.read', 'offline_access', 'openid'] }
    });
    await expect(app.oauth.refresh('Explicit')).resolves.toMatchObject({ status: 'ok' });
  });

  it('connectNew stores a new credential only after a successful sign-in', async () => {
    const { app } = await vaultWith([]);
    const values = { discovery_url: peer.discoveryUrl, client_id: NATIVE_CLIENT_ID, scopes: SCOPES };
    await expect(
      app.oauth.connectNew({ name: 'Brand new', provider: 'oauth', mode: 'authorization_code', values }, httpBrowser({ decision: 'deny' }))
    ).rejects.toMatchObject({ code: 'OAUTH_DENIED' });
    expect(app.credentials.list()).toHaveLength(0);
    const c = await app.oauth.connectNew({ name: 'Brand new', provider: 'oauth', mode: 'authorization_code', values }, httpBrowser());
    expect(c).toMatchObject({ name: 'Brand new', status: 'ok' });
    expect(tokensOf(app, 'Brand new').refresh).not.toBeNull();
    await expect(
      app.oauth.connectNew(
        { name: 'Bad', provider: 'oauth', mode: 'authorization_code', values: { client_id: NATIVE_CLIENT_ID, scopes: SCOPES } },
        httpBrowser()
      )
    ).rejects.toMatchObject({
      code: 'INPUT_INVALID'
    });
    await expect(
      app.oauth.connectNew(
        { name: 'Static', provider: 'hostinger', mode: 'api_token', values: { api_token: 'hst_0123456789abcdef' } },
        httpBrowser()
      )
    ).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });
});

describe('pasted tokens', () => {
  it('are stored only after a successful refresh against the token endpoint (which rotates them)', async () => {
    const { app } = await vaultWith(['Source', 'Pasted']);
    await app.oauth.connect('Source', httpBrowser());
    const pair = tokensOf(app, 'Source');
    const c = await app.oauth.pasteTokens('Pasted', { access_token: pair.access, refresh_token: pair.refresh });
    expect(c.status).toBe('ok');
    const stored = tokensOf(app, 'Pasted');
    expect(stored.refresh).not.toBe(pair.refresh); // rotated by the proving refresh
    expect(peer.liveRefreshTokens()).toContain(stored.refresh);
    expect(peer.issuedTokens()).toContain(stored.access);
    expect(app.audit.list().map((a) => a.action)).toContain('oauth.paste_tokens');
  });

  it('are rejected with the provider’s error, nothing stored and the status unchanged', async () => {
    const { app } = await vaultWith(['Target']);
    const auditBefore = app.audit.list().length;
    await expect(
      app.oauth.pasteTokens('Target', { access_token: 'pasted-access-canary-8d1f', refresh_token: 'pasted-refresh-canary-51ab' })
    ).rejects.toMatchObject({
      code: 'PROVIDER_REJECTED',
      message: expect.stringMatching(/invalid_grant.*Nothing was stored/)
    });
    expect(tokensOf(app, 'Target')).toEqual({ access: null, refresh: null });
    expect(app.credentials.get('Target').status).toBe('unknown');
    expect(app.audit.list()).toHaveLength(auditBefore);
    await expect(app.oauth.pasteTokens('Target', { access_token: 'a' })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(app.oauth.pasteTokens('Target', { refresh_token: 'has spaces' })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
  });

  it('a new credential from pasted tokens exists only if the refresh succeeded', async () => {
    const { app } = await vaultWith(['Source']);
    await app.oauth.connect('Source', httpBrowser());
    const values = { discovery_url: peer.discoveryUrl, client_id: NATIVE_CLIENT_ID, scopes: SCOPES };
    await expect(
      app.oauth.addWithPastedTokens(
        { name: 'From paste', provider: 'oauth', mode: 'authorization_code', values },
        { refresh_token: 'not-a-real-refresh-token' }
      )
    ).rejects.toMatchObject({
      code: 'PROVIDER_REJECTED'
    });
    expect(app.credentials.list().map((c) => c.name)).toEqual(['Source']);
    const c = await app.oauth.addWithPastedTokens(
      { name: 'From paste', provider: 'oauth', mode: 'authorization_code', values },
      { refresh_token: tokensOf(app, 'Source').refresh }
    );
    expect(c).toMatchObject({ name: 'From paste', status: 'ok' });
  });
});

describe('revocation', () => {
  it('RFC 7009 at the provider, then Keydesk forgets its copy; the credential is expired until someone signs in again', async () => {
    const { app } = await vaultWith(['Revocable']);
    await app.oauth.connect('Revocable', httpBrowser());
    const { refresh } = tokensOf(app, 'Revocable');
    const r = await app.oauth.revoke('Revocable');
    expect(r.revokedAtProvider).toBe(true);
    expect(peer.liveRefreshTokens()).not.toContain(refresh);
    expect(tokensOf(app, 'Revocable')).toEqual({ access: null, refresh: null });
    expect(r.credential).toMatchObject({ status: 'expired', lastError: { code: 'revoked' }, expiresAt: null });
    await expect(app.oauth.revoke('Revocable')).rejects.toMatchObject({ code: 'CREDENTIAL_NOT_READY' });
    await expect(app.oauth.connect('Revocable', httpBrowser())).resolves.toMatchObject({ status: 'ok' });
  });

  it('the refresh token revoked but the access token not (a 503): the tokens are forgotten anyway, and the note says what was not confirmed', async () => {
    const { app } = await vaultWith(['Half revoked']);
    await app.oauth.connect('Half revoked', httpBrowser());
    const { refresh } = tokensOf(app, 'Half revoked');
    // Keydesk revokes the refresh token first, then the access token: the second request fails.
    peer.control.revocationError = {
      status: 503,
      count: 1,
      skip: 1,
      body: { error: 'temporarily_unavailable', error_description: 'try later' }
    };
    try {
      const r = await app.oauth.revoke('Half revoked');
      expect(r).toMatchObject({
        revokedAtProvider: true,
        note: expect.stringContaining('revoking the access token failed'),
        credential: { status: 'expired', lastError: { code: 'revoked' } }
      });
    } finally {
      peer.control.revocationError = null;
    }
    expect(peer.liveRefreshTokens()).not.toContain(refresh);
    expect(tokensOf(app, 'Half revoked')).toEqual({ access: null, refresh: null });
  });

  it('a refused refresh-token revocation changes nothing: the tokens stay and the error says why', async () => {
    const { app } = await vaultWith(['Not revoked']);
    await app.oauth.connect('Not revoked', httpBrowser());
    const before = tokensOf(app, 'Not revoked');
    peer.control.revocationError = { status: 503, count: 1, body: { error: 'temporarily_unavailable', error_description: 'try later' } };
    try {
      await expect(app.oauth.revoke('Not revoked')).rejects.toMatchObject({
        code: 'PROVIDER_UNREACHABLE',
        message: expect.stringContaining('try again later')
      });
    } finally {
      peer.control.revocationError = null;
    }
    expect(tokensOf(app, 'Not revoked')).toEqual(before);
    expect(app.credentials.get('Not revoked').status).toBe('ok');
  });

  it('says plainly when the provider has no revocation endpoint, changing nothing unless asked to forget locally', async () => {
    const { app } = await vaultWith(['No endpoint'], {
      discovery_url: '',
      authorization_url: peer.authorizationUrl,
      token_url: peer.tokenUrl
    });
    await app.oauth.connect('No endpoint', httpBrowser());
    await expect(app.oauth.revoke('No endpoint')).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringContaining('--local-only')
    });
    expect(tokensOf(app, 'No endpoint').access).not.toBeNull();
    const r = await app.oauth.revoke('No endpoint', { localOnly: true });
    expect(r).toMatchObject({ revokedAtProvider: false, credential: { status: 'expired' } });
    expect(tokensOf(app, 'No endpoint').access).toBeNull();
  });
});

describe('input and state checks', () => {
  it('refuses non-OAuth credentials, unknown names and a locked vault, changing nothing', async () => {
    const { app } = await vaultWith(['Locked later']);
    app.credentials.add({ name: 'Static', provider: 'hostinger', mode: 'api_token', values: { api_token: 'hst_0123456789abcdef' } });
    await expect(app.oauth.connect('Static', httpBrowser())).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(app.oauth.refresh('Nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(app.oauth.accessToken('Locked later')).rejects.toMatchObject({
      code: 'CREDENTIAL_NOT_READY',
      message: expect.stringContaining('keydesk connect')
    });
    app.vault.lock();
    await expect(app.oauth.connect('Locked later', httpBrowser())).rejects.toMatchObject({ code: 'VAULT_LOCKED' });
  });

  it('a local discovery document that names a remote plain-http token endpoint is refused before the browser opens', async () => {
    const { createServer } = await import('node:http');
    const doc = (base: string) => ({
      issuer: base,
      authorization_endpoint: `${base}/auth`,
      token_endpoint: 'http://idp.example.test/token',
      code_challenge_methods_supported: ['S256'],
      response_types_supported: ['code']
    });
    const server = createServer((req, res) => {
      const base = `http://${req.headers.host ?? ''}`;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(doc(base)));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (server.address() as { port: number }).port;
      const { app } = await vaultWith(['Rogue discovery'], { discovery_url: `http://127.0.0.1:${port}/.well-known/openid-configuration` });
      const opened: string[] = [];
      await expect(app.oauth.connect('Rogue discovery', { openExternal: async (u) => void opened.push(u) })).rejects.toMatchObject({
        code: 'OAUTH_FAILED',
        message: expect.stringContaining('token_endpoint')
      });
      expect(opened).toEqual([]);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('endpoints reach the browser only as https or loopback http: the spec refuses anything else before a flow can start', async () => {
    const { app, clock } = await vaultWith([]);
    app.credentials.add({
      name: 'Plain http',
      provider: 'oauth',
      mode: 'authorization_code',
      values: { authorization_url: 'http://127.0.0.1:9/auth', token_url: peer.tokenUrl, client_id: NATIVE_CLIENT_ID, scopes: 'openid' }
    });
    const { oauth } = serviceOn(app, clock);
    const browser = browserThatNeverComesBack();
    const connecting = oauth.connect('Plain http', { openExternal: browser.openExternal, timeoutMs: 200 });
    await Promise.race([browser.opened, connecting.catch(() => undefined)]);
    clock.advance(200);
    await expect(connecting).rejects.toMatchObject({ code: 'OAUTH_TIMEOUT' });
    const opened = browser.urls;
    // http to 127.0.0.1 is allowed; the spec's own checks refuse anything else before a flow can start.
    expect(opened).toHaveLength(1);
    expect(() =>
      app.credentials.add({
        name: 'Remote http',
        provider: 'oauth',
        mode: 'authorization_code',
        values: { authorization_url: 'http://idp.example/auth', token_url: peer.tokenUrl, client_id: 'x', scopes: 'openid' }
      })
    ).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
  });
});
