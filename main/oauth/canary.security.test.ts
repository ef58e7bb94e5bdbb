// Guards DESIGN.md "Secrets never leave the main process": no OAuth token (access, refresh, authorization code),
// client secret or pasted token reaches a log line, an error, an event, the audit log, a credential summary or the
// vault file in the clear — including when a provider echoes the refresh token back in its error description.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toErrorShape } from '../errors.ts';
import { signIn } from '../../e2e/peers/oidc-browser.ts';
import { GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET, NATIVE_CLIENT_ID, startOidcPeer, type OidcPeer } from '../../e2e/peers/oidc.ts';
import { containsAnyEncoding, keychainVault, manualClock, vaultFilesBytes, type TempVault } from '../testing/fixtures.ts';

let peer: OidcPeer;
let v: TempVault;
const captured: string[] = [];
const restore: (() => void)[] = [];

function capture(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      captured.push(String(chunk));
      return (original as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    restore.push(() => (stream.write = original));
  }
  for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    const original = console[level];
    console[level] = (...args: unknown[]) => {
      captured.push(args.map(String).join(' '));
      original(...args);
    };
    restore.push(() => (console[level] = original));
  }
}

beforeAll(async () => {
  peer = await startOidcPeer();
  v = await keychainVault({ clock: manualClock(new Date().toISOString()) });
  capture();
});
afterAll(async () => {
  for (const r of restore.splice(0)) r();
  await v?.cleanup();
  await peer?.close();
});

const approve = { openExternal: async (u: string) => void signIn(u).catch(() => undefined) };
const deny = { openExternal: async (u: string) => void signIn(u, { decision: 'deny' }).catch(() => undefined) };

describe('OAuth canary: no token or client secret escapes', () => {
  it('through every path: flows, refresh, failures, pasted tokens, revocation', async () => {
    const { app } = v;
    const events: unknown[] = [];
    app.vault.events.on('oauth.flow', (e) => events.push(e));
    app.vault.events.on('vault.changed', (e) => events.push(e));
    const errors: unknown[] = [];
    const attempt = async (fn: () => Promise<unknown>) => {
      try {
        return await fn();
      } catch (e) {
        errors.push(e instanceof Error ? { message: e.message, shape: toErrorShape(e), name: e.name } : e);
        return null;
      }
    };
    const pastedCanaries = ['pasted-access-canary-5d0b9e71c2', 'pasted-refresh-canary-8a64f3b210'];

    app.credentials.add({
      name: 'Generic',
      provider: 'oauth',
      mode: 'authorization_code',
      values: { discovery_url: peer.discoveryUrl, client_id: NATIVE_CLIENT_ID, scopes: 'openid email offline_access' }
    });
    app.credentials.add({
      name: 'Workspace',
      provider: 'google_workspace',
      mode: 'oauth_user',
      values: {
        client_id: GOOGLE_CLIENT_ID,
        client_secret: GOOGLE_CLIENT_SECRET,
        authorization_url: peer.authorizationUrl,
        token_url: peer.tokenUrl,
        revocation_url: peer.revocationUrl
      }
    });

    await attempt(() => app.oauth.connect('Generic', deny));
    await attempt(() => app.oauth.connect('Generic', approve));
    await attempt(() => app.oauth.connect('Workspace', approve));
    await attempt(() => app.oauth.refresh('Generic'));
    await attempt(() => app.oauth.refresh('Workspace'));
    await attempt(() => app.oauth.pasteTokens('Generic', { access_token: pastedCanaries[0], refresh_token: pastedCanaries[1] }));

    // A provider that echoes the refresh token it was sent in its error description.
    const echoed = app.credentials.material('Workspace').secrets.refresh_token?.reveal() ?? '';
    expect(echoed.length).toBeGreaterThan(20);
    peer.control.refreshError = {
      status: 400,
      count: 1,
      body: { error: 'invalid_grant', error_description: `refresh token ${echoed} was revoked` }
    };
    await attempt(() => app.oauth.refresh('Workspace'));
    const workspace = app.credentials.get('Workspace');
    expect(workspace.status).toBe('expired');
    expect(workspace.lastError?.message).toContain('[redacted]');

    await attempt(() => app.oauth.connect('Workspace', approve));
    await attempt(() => app.oauth.revoke('Workspace'));
    await attempt(() => app.oauth.revoke('Generic'));

    expect(errors.length).toBeGreaterThanOrEqual(3);
    const secrets = [...peer.issuedTokens(), GOOGLE_CLIENT_SECRET, ...pastedCanaries];
    expect(peer.issuedTokens().length).toBeGreaterThan(8);
    const places: Record<string, string> = {
      logs: captured.join('\n'),
      errors: JSON.stringify(errors),
      events: JSON.stringify(events),
      audit: JSON.stringify([...app.audit.export()]),
      summaries: JSON.stringify(app.credentials.list())
    };
    for (const [place, text] of Object.entries(places)) {
      for (const s of secrets) expect(containsAnyEncoding(text, s), `${place} must not contain a secret`).toBeNull();
    }
    const file = vaultFilesBytes(v.path);
    for (const s of secrets) expect(containsAnyEncoding(file, s), 'the vault file holds tokens only encrypted').toBeNull();
  });

  it('when a token endpoint echoes secrets encoded (UTF-16, a Basic header in base64) or into the granted scopes', async () => {
    const { app } = v;
    app.credentials.add({
      name: 'Workspace echo',
      provider: 'google_workspace',
      mode: 'oauth_user',
      values: {
        client_id: GOOGLE_CLIENT_ID,
        client_secret: GOOGLE_CLIENT_SECRET,
        authorization_url: peer.authorizationUrl,
        token_url: peer.tokenUrl,
        revocation_url: peer.revocationUrl
      }
    });
    await app.oauth.connect('Workspace echo', approve);
    const spent = app.credentials.material('Workspace echo').secrets.refresh_token?.reveal() ?? '';
    const errors: unknown[] = [];

    // A successful refresh whose answer quotes the client secret and the new tokens as "granted scopes".
    const newAccess = `ya29.canary-access-${crypto.randomUUID()}`;
    const newRefresh = `1//canary-refresh-${crypto.randomUUID()}`;
    peer.control.refreshError = {
      status: 200,
      count: 1,
      body: {
        access_token: newAccess,
        refresh_token: newRefresh,
        token_type: 'Bearer',
        expires_in: '3599',
        scope: `openid ${GOOGLE_CLIENT_SECRET} ${newRefresh} email ${newAccess}`
      }
    };
    const refreshed = await app.oauth.refresh('Workspace echo');
    expect(refreshed.observed.granted).toEqual(['email', 'openid']);

    // A refusal that quotes the refresh token in UTF-16 and the client credentials as a Basic header.
    const utf16 = [...newRefresh].map((c) => `${c}\u0000`).join('');
    const basic = Buffer.from(`${GOOGLE_CLIENT_ID}:${GOOGLE_CLIENT_SECRET}`).toString('base64');
    peer.control.refreshError = {
      status: 400,
      count: 1,
      body: { error: 'invalid_grant', error_description: `token ${utf16} revoked; Authorization: Basic ${basic}` }
    };
    try {
      await app.oauth.refresh('Workspace echo');
    } catch (e) {
      errors.push(e instanceof Error ? { message: e.message, shape: toErrorShape(e) } : e);
    }
    expect(errors).toHaveLength(1);
    const stored = app.credentials.get('Workspace echo');
    expect(stored.status).toBe('expired');

    const places: Record<string, string> = {
      logs: captured.join('\n'),
      errors: JSON.stringify(errors),
      audit: JSON.stringify([...app.audit.export()]),
      summaries: JSON.stringify(app.credentials.list())
    };
    // eslint-disable-next-line no-control-regex
    const plain = (t: string) => t.replace(/[\s\u0000-\u001f?]/g, '');
    for (const [place, text] of Object.entries(places)) {
      for (const s of [GOOGLE_CLIENT_SECRET, newAccess, newRefresh, spent]) {
        expect(containsAnyEncoding(text, s), `${place} must not contain a secret`).toBeNull();
        expect(plain(text).includes(s), `${place} must not spell a secret out between invisible characters`).toBe(false);
      }
      // Decode every base64-looking run at each alignment: no 12 characters of the client secret may come out.
      const decoded = (text.match(/[A-Za-z0-9+/]{16,}/g) ?? []).flatMap((run) =>
        [0, 1, 2, 3].map((i) => Buffer.from(run.slice(i), 'base64').toString('latin1'))
      );
      expect(
        decoded.some((d) => d.includes(GOOGLE_CLIENT_SECRET.slice(0, 12)) || d.includes(GOOGLE_CLIENT_SECRET.slice(-12))),
        `${place} must not quote the Basic credentials`
      ).toBe(false);
    }
  });
});
