// google_workspace oauth_user (google-auth-library's OAuth2Client, endpoints pointed at the peer) and microsoft_365
// oauth_delegated (MSAL Node, over HTTPS with a test CA) against a real OpenID Provider (oidc-provider) on loopback.
import type { Browser } from '@playwright/test';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signIn } from '../../e2e/peers/oidc-browser.ts';
import { chromiumSignIn, launchChromium } from '../../e2e/peers/oidc-chromium.ts';
import {
  GOOGLE_CLIENT_ID,
  GOOGLE_CLIENT_SECRET,
  MICROSOFT_CLIENT_ID,
  MICROSOFT_TENANT_ID,
  startOidcPeer,
  type OidcPeer
} from '../../e2e/peers/oidc.ts';
import { createTestCa, trustTestCa } from '../../e2e/peers/tls.ts';
import { keychainVault, manualClock, type TempVault } from '../testing/fixtures.ts';
import { GOOGLE_DEFAULT_SCOPES } from '../providers/google_workspace/oauth.ts';
import { defaultMicrosoftScopes } from '../providers/microsoft_365/oauth.ts';

const vaults: TempVault[] = [];
afterEach(async () => {
  for (const v of vaults.splice(0)) await v.cleanup();
});

async function vault() {
  const clock = manualClock(new Date().toISOString());
  const v = await keychainVault({ clock });
  vaults.push(v);
  return { app: v.app, clock };
}

function tokensOf(app: TempVault['app'], name: string) {
  const m = app.credentials.material(name);
  return { access: m.secrets.access_token?.reveal() ?? null, refresh: m.secrets.refresh_token?.reveal() ?? null };
}

const approve = {
  openExternal: async (url: string) => {
    void signIn(url).catch(() => undefined);
  }
};

describe('google_workspace oauth_user (google-auth-library OAuth2Client)', () => {
  let peer: OidcPeer;
  beforeAll(async () => {
    peer = await startOidcPeer();
  });
  afterAll(async () => peer?.close());

  const values = () => ({
    client_id: GOOGLE_CLIENT_ID,
    client_secret: GOOGLE_CLIENT_SECRET,
    authorization_url: peer.authorizationUrl,
    token_url: peer.tokenUrl,
    revocation_url: peer.revocationUrl
  });

  it('signs in with PKCE, access_type=offline and the Workspace scopes; refreshes; revokes (RFC 7009, token in the body)', async () => {
    const { app, clock } = await vault();
    app.credentials.add({ name: 'Workspace admin', provider: 'google_workspace', mode: 'oauth_user', values: values() });
    let authUrl = '';
    const c = await app.oauth.connect('Workspace admin', { openExternal: async (u) => ((authUrl = u), approve.openExternal(u)) });
    const q = new URL(authUrl).searchParams;
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('access_type')).toBe('offline');
    expect(q.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(c).toMatchObject({
      status: 'ok',
      observed: {
        granted: [...GOOGLE_DEFAULT_SCOPES].sort(),
        identity: { account: 'alice@peer.example' },
        oauth: { library: 'google-auth-library' }
      }
    });
    expect(Date.parse(c.expiresAt ?? '') - clock.now().getTime()).toBeGreaterThan(3590_000);
    const first = tokensOf(app, 'Workspace admin');
    expect(peer.tokenRequests.at(-1)).toMatchObject({ grantType: 'authorization_code', clientId: GOOGLE_CLIENT_ID, status: 200 });

    clock.advance(57 * 60_000);
    const token = await app.oauth.accessToken('Workspace admin');
    const second = tokensOf(app, 'Workspace admin');
    expect(token.reveal()).toBe(second.access);
    expect(second.access).not.toBe(first.access);
    expect(peer.liveRefreshTokens()).toContain(second.refresh);

    const r = await app.oauth.revoke('Workspace admin');
    expect(r.revokedAtProvider).toBe(true);
    expect(peer.liveRefreshTokens()).not.toContain(second.refresh);
  });

  it('a refresh token the provider no longer accepts marks the credential expired', async () => {
    const { app } = await vault();
    app.credentials.add({ name: 'Workspace expiring', provider: 'google_workspace', mode: 'oauth_user', values: values() });
    await app.oauth.connect('Workspace expiring', approve);
    await peer.revokeAllGrants();
    await expect(app.oauth.refresh('Workspace expiring')).rejects.toMatchObject({ code: 'PROVIDER_EXPIRED' });
    expect(app.credentials.get('Workspace expiring')).toMatchObject({ status: 'expired', lastError: { code: 'invalid_grant' } });
  });

  it('a refresh the token endpoint fails (503) is sent once: the refresh token is never re-sent by the library’s own retries', async () => {
    const { app } = await vault();
    app.credentials.add({ name: 'Workspace flaky', provider: 'google_workspace', mode: 'oauth_user', values: values() });
    await app.oauth.connect('Workspace flaky', approve);
    const before = peer.refreshCount();
    // The server processes (and rotates) each refresh, then the answer is lost as a 503: a client that retried would
    // spend the same refresh token again, which makes a rotating provider revoke the whole grant.
    peer.control.refreshError = { status: 503, count: 5, body: { error: 'temporarily_unavailable', error_description: 'Backend Error' } };
    try {
      await expect(app.oauth.refresh('Workspace flaky')).rejects.toMatchObject({ code: 'PROVIDER_UNREACHABLE' });
    } finally {
      peer.control.refreshError = null;
    }
    expect(peer.refreshCount() - before).toBe(1);
    expect(app.credentials.get('Workspace flaky')).toMatchObject({ status: 'unknown' });
  });

  it('refuses an authorization response that names another authorization server (RFC 9207 mix-up defence)', async () => {
    const { app } = await vault();
    app.credentials.add({ name: 'Workspace mixup', provider: 'google_workspace', mode: 'oauth_user', values: values() });
    const forge = async (url: string) => {
      const u = new URL(url);
      const redirect = u.searchParams.get('redirect_uri') ?? '';
      await fetch(`${redirect}?code=stolen&state=${u.searchParams.get('state') ?? ''}&iss=${encodeURIComponent('https://evil.example')}`);
    };
    await expect(app.oauth.connect('Workspace mixup', { openExternal: forge })).rejects.toMatchObject({
      code: 'OAUTH_FAILED',
      message: expect.stringContaining('evil.example')
    });
    expect(tokensOf(app, 'Workspace mixup').access).toBeNull();
    expect(peer.tokenRequests.filter((t) => t.grantType === 'authorization_code' && t.status !== 200)).toHaveLength(0);
  });

  it('OpenID Connect: the sign-in sends a nonce, and an ID token without it (a replayed or substituted answer) stores nothing', async () => {
    const { app } = await vault();
    app.credentials.add({ name: 'Workspace nonce', provider: 'google_workspace', mode: 'oauth_user', values: values() });
    let authUrl = '';
    await app.oauth.connect('Workspace nonce', { openExternal: async (u) => ((authUrl = u), approve.openExternal(u)) });
    const nonce = new URL(authUrl).searchParams.get('nonce');
    expect(nonce).toMatch(/^[\w-]{43}$/);

    app.credentials.add({ name: 'Workspace replayed', provider: 'google_workspace', mode: 'oauth_user', values: values() });
    // The ID token of another sign-in (its payload re-encoded with a foreign nonce; the signature is not what is checked).
    peer.control.rewriteTokenAnswer = (grant, body) => {
      if (grant !== 'authorization_code' || typeof body.id_token !== 'string') return body;
      const [h, p, sig] = body.id_token.split('.');
      const claims = { ...(JSON.parse(Buffer.from(p ?? '', 'base64url').toString('utf8')) as object), nonce: 'nonce-of-another-sign-in' };
      return { ...body, id_token: `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}` };
    };
    try {
      await expect(app.oauth.connect('Workspace replayed', approve)).rejects.toMatchObject({
        code: 'OAUTH_FAILED',
        message: expect.stringContaining('nonce')
      });
    } finally {
      peer.control.rewriteTokenAnswer = null;
    }
    expect(tokensOf(app, 'Workspace replayed').access).toBeNull();
  });

  it('a wrong client secret is the provider’s error, clearly, and nothing is stored', async () => {
    const { app } = await vault();
    app.credentials.add({
      name: 'Workspace bad secret',
      provider: 'google_workspace',
      mode: 'oauth_user',
      values: { ...values(), client_secret: 'not-the-right-secret' }
    });
    await expect(app.oauth.connect('Workspace bad secret', approve)).rejects.toMatchObject({
      code: 'OAUTH_FAILED',
      message: expect.stringContaining('invalid_client')
    });
    expect(tokensOf(app, 'Workspace bad secret').access).toBeNull();
  });
});

describe('microsoft_365 oauth_delegated (MSAL Node over HTTPS)', () => {
  let peer: OidcPeer;
  let browser: Browser;
  let untrust: () => void;
  beforeAll(async () => {
    const ca = await createTestCa();
    const leaf = await ca.issueServer();
    untrust = trustTestCa(ca.certPem);
    peer = await startOidcPeer({ tls: { key: leaf.keyPem, cert: leaf.certPem } });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await peer?.close();
    untrust?.();
  });

  const values = () => ({ tenant_id: MICROSOFT_TENANT_ID, client_id: MICROSOFT_CLIENT_ID, authority_host: peer.issuer });

  it('signs in through MSAL (PKCE, form_post to http://localhost in Chromium), refreshes through MSAL, and says Entra has no revocation endpoint', async () => {
    const { app, clock } = await vault();
    app.credentials.add({ name: 'M365 delegated', provider: 'microsoft_365', mode: 'oauth_delegated', values: values() });
    const chrome = chromiumSignIn(browser, { ignoreHttpsErrors: true });
    let authUrl = '';
    try {
      const c = await app.oauth.connect('M365 delegated', { openExternal: async (u) => ((authUrl = u), chrome.openExternal(u)) });
      const page = await chrome.finished();
      expect(page.url).toMatch(/^http:\/\/localhost:\d+\/$/);
      expect(page.text).toContain('Keydesk received the sign-in');
      const q = new URL(authUrl).searchParams;
      expect(q.get('response_mode')).toBe('form_post');
      expect(q.get('code_challenge_method')).toBe('S256');
      expect(new URL(authUrl).pathname).toBe('/auth');
      expect(c).toMatchObject({
        status: 'ok',
        observed: { oauth: { library: 'msal-node', has_refresh_token: true }, identity: { account: 'alice@peer.example' } }
      });
      expect(c.observed.granted).toEqual(expect.arrayContaining(defaultMicrosoftScopes(undefined)));
    } finally {
      await chrome.close();
    }
    const first = tokensOf(app, 'M365 delegated');
    expect(peer.issuedTokens()).toEqual(expect.arrayContaining([first.access, first.refresh]));

    clock.advance(56 * 60_000);
    await app.oauth.accessToken('M365 delegated');
    const second = tokensOf(app, 'M365 delegated');
    expect(second.access).not.toBe(first.access);
    expect(second.refresh).not.toBe(first.refresh); // MSAL's cache gave up the rotated refresh token
    expect(peer.liveRefreshTokens()).toContain(second.refresh);

    await expect(app.oauth.revoke('M365 delegated')).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringContaining('revokeSignInSessions')
    });
    expect(tokensOf(app, 'M365 delegated')).toEqual(second);
  });

  it('invalid_grant through MSAL marks the credential expired; pasted tokens go through acquireTokenByRefreshToken', async () => {
    const { app } = await vault();
    app.credentials.add({ name: 'M365 a', provider: 'microsoft_365', mode: 'oauth_delegated', values: values() });
    app.credentials.add({ name: 'M365 b', provider: 'microsoft_365', mode: 'oauth_delegated', values: values() });
    const chrome = chromiumSignIn(browser, { ignoreHttpsErrors: true });
    try {
      await app.oauth.connect('M365 a', chrome);
    } finally {
      await chrome.close();
    }
    const pair = tokensOf(app, 'M365 a');
    await expect(app.oauth.pasteTokens('M365 b', { refresh_token: 'made-up-refresh-token' })).rejects.toMatchObject({
      code: 'PROVIDER_REJECTED',
      message: expect.stringContaining('invalid_grant')
    });
    await expect(app.oauth.pasteTokens('M365 b', { access_token: pair.access, refresh_token: pair.refresh })).resolves.toMatchObject({
      status: 'ok'
    });
    // "M365 a" still holds the refresh token the paste spent (rotated away): the provider now refuses it.
    await expect(app.oauth.refresh('M365 a')).rejects.toMatchObject({ code: 'PROVIDER_EXPIRED' });
    expect(app.credentials.get('M365 a')).toMatchObject({ status: 'expired', lastError: { code: 'invalid_grant' } });
  });

  it('a refresh Entra fails (503) is sent once through MSAL, and leaves the credential unknown', async () => {
    const { app } = await vault();
    app.credentials.add({ name: 'M365 flaky', provider: 'microsoft_365', mode: 'oauth_delegated', values: values() });
    const chrome = chromiumSignIn(browser, { ignoreHttpsErrors: true });
    try {
      await app.oauth.connect('M365 flaky', chrome);
    } finally {
      await chrome.close();
    }
    const before = peer.refreshCount();
    peer.control.refreshError = {
      status: 503,
      count: 5,
      body: { error: 'temporarily_unavailable', error_description: 'AADSTS90033: A transient error has occurred.' }
    };
    try {
      await expect(app.oauth.refresh('M365 flaky')).rejects.toMatchObject({ code: 'PROVIDER_UNREACHABLE' });
    } finally {
      peer.control.refreshError = null;
    }
    expect(peer.refreshCount() - before).toBe(1);
    expect(app.credentials.get('M365 flaky')).toMatchObject({ status: 'unknown' });
  });
});
