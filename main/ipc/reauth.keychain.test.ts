// One-click re-authentication over IPC, against real services: the blocklist peer for a static credential, the
// OpenID Provider for sign-ins. Real vaults (OS keychain and passphrase).
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBlocklistPeer, type BlocklistPeer } from '../../e2e/peers/blocklist.ts';
import { NATIVE_CLIENT_ID, startOidcPeer, type OidcPeer } from '../../e2e/peers/oidc.ts';
import { AppSession } from '../shell/session.ts';
import { tempDir, TEST_ACTOR } from '../testing/fixtures.ts';
import { createIpcCore } from './index.ts';

let blocklist: BlocklistPeer;
let oidc: OidcPeer;
const cleanups: (() => Promise<void> | void)[] = [];
beforeAll(async () => {
  [blocklist, oidc] = await Promise.all([startBlocklistPeer(), startOidcPeer()]);
});
afterAll(async () => {
  await Promise.all([blocklist.close(), oidc.close()]);
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(kind: 'keychain' | 'passphrase', opened: string[] = []) {
  const t = tempDir();
  const session = new AppSession({
    vaultPath: join(t.dir, 'vault.sqlite'),
    actor: TEST_ACTOR,
    openExternal: async (u) => void opened.push(u)
  });
  cleanups.push(t.cleanup, () => session.close());
  await session.create(kind, kind === 'passphrase' ? 'correct horse battery' : undefined);
  return { session, core: createIpcCore(session), app: session.app() };
}

async function waitingRun(app: ReturnType<AppSession['app']>) {
  const expired = blocklist.blocklist.addToken({ expired: true });
  app.credentials.add({
    name: 'Blocklist',
    provider: 'agentsoc_mail_block',
    mode: 'bearer_token',
    values: { token: expired, blocklist_url: blocklist.url }
  });
  app.routing.bind('Blocklist', 'corp.example');
  const run = await app.executions.run({
    capability: 'block_email_domain',
    target: 'evil.example',
    hostDomain: 'corp.example',
    reason: 'test'
  });
  expect(run.status).toBe('awaiting_reauth');
  return run;
}

describe('one-click re-auth over IPC', () => {
  it('a locked keychain vault unlocks in the same gesture, and the waiting run resumes', async () => {
    const { session, core, app } = await setup('keychain');
    const run = await waitingRun(app);
    await session.lock();
    const fresh = blocklist.blocklist.addToken();
    const r = await core.dispatch('prompts.reauthWithSecrets', { credentialId: 'Blocklist', values: { token: fresh } });
    expect(r).toMatchObject({ ok: true, value: { credential: { status: 'ok' }, resumed: [{ id: run.id, status: 'succeeded' }] } });
    expect(session.isUnlocked()).toBe(true);
    expect(JSON.stringify(r)).not.toContain(fresh);
  });

  it('a locked passphrase vault asks for the passphrase with the gesture, and nothing changes without it', async () => {
    const { session, core, app } = await setup('passphrase');
    await waitingRun(app);
    await session.lock();
    const fresh = blocklist.blocklist.addToken();
    expect(await core.dispatch('prompts.reauthWithSecrets', { credentialId: 'Blocklist', values: { token: fresh } })).toMatchObject({
      ok: false,
      error: { code: 'VAULT_LOCKED', fields: { passphrase: 'Enter the passphrase' } }
    });
    expect(
      await core.dispatch('prompts.reauthWithSecrets', {
        credentialId: 'Blocklist',
        values: { token: fresh },
        passphrase: 'wrong passphrase'
      })
    ).toMatchObject({
      ok: false,
      error: { code: 'WRONG_PASSPHRASE' }
    });
    expect(app.executions.list()[0]?.status).toBe('awaiting_reauth');
    const ok = await core.dispatch('prompts.reauthWithSecrets', {
      credentialId: 'Blocklist',
      values: { token: fresh },
      passphrase: 'correct horse battery'
    });
    expect(ok).toMatchObject({ ok: true, value: { resumed: [{ status: 'succeeded' }] } });
  });

  it('a sign-in waiting for the browser is stopped by oauth.cancel, and nothing is stored', async () => {
    const opened: string[] = [];
    const { core, app } = await setup('keychain', opened);
    app.credentials.add({
      name: 'SSO',
      provider: 'oauth',
      mode: 'authorization_code',
      values: { discovery_url: oidc.discoveryUrl, client_id: NATIVE_CLIENT_ID, scopes: 'openid offline_access' }
    });
    const pending = core.dispatch('oauth.connect', { credentialId: 'SSO' });
    while (opened.length === 0) await new Promise((r) => setTimeout(r, 20));
    expect(new URL(opened[0]!).origin).toBe(new URL(oidc.issuer).origin);
    expect(await core.dispatch('oauth.cancel', undefined)).toEqual({ ok: true, value: { cancelled: 1 } });
    expect(await pending).toMatchObject({ ok: false, error: { code: 'OAUTH_CANCELLED' } });
    expect(app.credentials.get('SSO').status).toBe('unknown');
  });

  it('a process with no way to open a browser refuses a sign-in with a clear error', async () => {
    const t = tempDir();
    const session = new AppSession({ vaultPath: join(t.dir, 'vault.sqlite'), actor: TEST_ACTOR });
    cleanups.push(t.cleanup, () => session.close());
    await session.create('keychain');
    session.app().credentials.add({
      name: 'SSO',
      provider: 'oauth',
      mode: 'authorization_code',
      values: { discovery_url: oidc.discoveryUrl, client_id: NATIVE_CLIENT_ID, scopes: 'openid' }
    });
    expect(await createIpcCore(session).dispatch('oauth.connect', { credentialId: 'SSO' })).toMatchObject({
      ok: false,
      error: { code: 'UNSUPPORTED' }
    });
  });
});
