// The background tasks against real services: a real OpenID Provider (oidc-provider) for token refresh, the
// blocklist peer for a run that waits on re-authentication; a real vault on the OS keychain; a clock the test moves.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBlocklistPeer, type BlocklistPeer } from '../../e2e/peers/blocklist.ts';
import { startHostingerPeer, type HostingerPeer } from '../../e2e/peers/hostinger.ts';
import { signIn } from '../../e2e/peers/oidc-browser.ts';
import { NATIVE_CLIENT_ID, startOidcPeer, type OidcPeer } from '../../e2e/peers/oidc.ts';
import { manualClock, tempDir, TEST_ACTOR } from '../testing/fixtures.ts';
import { createScheduler } from './scheduler.ts';
import { AppSession } from './session.ts';
import type { Reminder } from './reminders.ts';
import { REMINDERS_EVERY_MS, REVALIDATE_EVERY_MS, backgroundTasks, oauthDueForRefresh } from './tasks.ts';

let oidc: OidcPeer;
let blocklist: BlocklistPeer;
let hostinger: HostingerPeer;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  oidc = await startOidcPeer({ accessTokenTtl: 3600 });
  blocklist = await startBlocklistPeer();
  hostinger = await startHostingerPeer();
});
afterAll(async () => {
  await hostinger.close();
  await oidc.close();
  await blocklist.close();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const t = tempDir();
  const clock = manualClock(new Date().toISOString());
  const session = new AppSession({
    vaultPath: join(t.dir, 'vault.sqlite'),
    actor: TEST_ACTOR,
    clock,
    // The "system browser": signs in on the peer's real login and consent pages.
    openExternal: async (url) => void signIn(url).catch(() => undefined)
  });
  cleanups.push(t.cleanup, () => session.close());
  await session.create('keychain');
  const scheduler = createScheduler({ clock, isUnlocked: () => session.isUnlocked() });
  for (const task of backgroundTasks(session)) scheduler.add(task);
  return { session, clock, scheduler, app: session.app() };
}

describe('background tasks', () => {
  it('refreshes an OAuth token before it expires — and not while the vault is locked', async () => {
    const { session, clock, scheduler, app } = await setup();
    app.credentials.add({
      name: 'SSO',
      provider: 'oauth',
      mode: 'authorization_code',
      values: { discovery_url: oidc.discoveryUrl, client_id: NATIVE_CLIENT_ID, scopes: 'openid offline_access api.read' }
    });
    await app.oauth.connect('SSO', { openExternal: session.config.openExternal! });
    const before = oidc.refreshCount();
    expect(oauthDueForRefresh(session, clock.now())).toEqual([]);
    expect(await scheduler.tick()).toContain('oauth-refresh');
    expect(oidc.refreshCount()).toBe(before);

    clock.advance(3600_000 - 5 * 60_000); // within the 5-minute margin (plus one check interval)
    await session.lock();
    expect(await scheduler.tick()).not.toContain('oauth-refresh');
    expect(scheduler.waitingForUnlock).toContain('oauth-refresh');
    expect(oidc.refreshCount()).toBe(before);

    await session.unlock();
    expect(await scheduler.tick()).toContain('oauth-refresh');
    expect(oidc.refreshCount()).toBe(before + 1);
    const c = app.credentials.get('SSO');
    expect(c.status).toBe('ok');
    expect(Date.parse(c.expiresAt!)).toBeGreaterThan(clock.now().getTime() + 50 * 60_000);
  });

  it('applies re-auth deadlines on the injected clock: a waiting run ends expired_awaiting_reauth', async () => {
    const { clock, scheduler, app } = await setup();
    const token = blocklist.blocklist.addToken({ expired: true });
    app.credentials.add({
      name: 'Blocklist',
      provider: 'agentsoc_mail_block',
      mode: 'bearer_token',
      values: { token, blocklist_url: blocklist.url }
    });
    app.routing.bind('Blocklist', 'corp.example');
    const run = await app.executions.run({
      capability: 'block_email_domain',
      target: 'evil.example',
      hostDomain: 'corp.example',
      reason: 'phishing wave'
    });
    expect(run.status).toBe('awaiting_reauth');
    expect(app.executions.prompts()).toHaveLength(1);
    clock.advance(app.executions.cutoffMs + 1000);
    expect(await scheduler.tick()).toContain('reauth-deadlines');
    expect(app.executions.get(run.id)).toMatchObject({ status: 'expired_awaiting_reauth', statusRecorded: true });
    expect(app.executions.prompts()).toEqual([]);
  });

  it('re-validates every credential on its schedule: a token revoked meanwhile shows as failed', async () => {
    const { clock, scheduler, app } = await setup();
    const token = hostinger.hostinger.addToken();
    app.credentials.add({
      name: 'VPS',
      provider: 'hostinger',
      mode: 'api_token',
      values: { api_token: token, api_base_url: hostinger.url }
    });
    expect(await scheduler.tick()).not.toContain('revalidate');
    clock.advance(60_000); // the first check, a minute after start
    expect(await scheduler.tick()).toContain('revalidate');
    expect(app.credentials.get('VPS').status).toBe('ok');
    hostinger.hostinger.revoke(token);
    clock.advance(REVALIDATE_EVERY_MS - 60_000);
    expect(await scheduler.tick()).not.toContain('revalidate');
    expect(app.credentials.get('VPS').status).toBe('ok');
    clock.advance(60_000);
    expect(await scheduler.tick()).toContain('revalidate');
    expect(app.credentials.get('VPS')).toMatchObject({ status: 'failed', lastError: { code: 'HTTP_401' } });
  });
});

describe('rotation and expiry reminders', () => {
  it('a secret expiring in 3 days is named once that day, not again the same day, again the next; nothing is named early', async () => {
    const t = tempDir();
    const clock = manualClock('2026-12-01T08:00:00.000Z');
    const session = new AppSession({ vaultPath: join(t.dir, 'vault.sqlite'), actor: TEST_ACTOR, clock });
    cleanups.push(t.cleanup, () => session.close());
    await session.create('keychain');
    const app = session.app();
    app.credentials.add({
      name: 'VPS main',
      provider: 'hostinger',
      mode: 'api_token',
      values: { api_token: 'hst_reminder_0123456789', api_base_url: hostinger.url },
      expiresAt: '2026-12-04'
    });
    app.credentials.add({ name: 'Quiet', provider: 'hostinger', mode: 'api_token', values: { api_token: 'hst_quiet_0123456789' } });
    const shown: Reminder[] = [];
    const scheduler = createScheduler({ clock, isUnlocked: () => session.isUnlocked() });
    for (const task of backgroundTasks(session, { remind: (r) => shown.push(r) })) scheduler.add(task);

    clock.advance(3 * 60_000); // past the first run (2 minutes after start)
    await scheduler.tick();
    expect(shown.map((r) => r.title)).toEqual(['VPS main expires soon']);
    expect(shown[0]!.body).toMatch(/^Its secret expires in 2 days\./);
    clock.advance(REMINDERS_EVERY_MS);
    await scheduler.tick();
    clock.advance(REMINDERS_EVERY_MS);
    await session.lock(); // metadata only: reminders run while locked
    await scheduler.tick();
    expect(shown).toHaveLength(1); // the same day: not again
    clock.set('2026-12-02T09:00:00.000Z');
    await scheduler.tick();
    expect(shown.map((r) => r.title)).toEqual(['VPS main expires soon', 'VPS main expires soon']);
    clock.set('2026-12-05T09:00:00.000Z');
    await scheduler.tick();
    expect(shown.at(-1)).toMatchObject({ title: 'VPS main has expired', body: expect.stringMatching(/^Its secret expired 1 day ago/) });
    expect(shown.every((r) => r.credentialId === app.credentials.get('VPS main').id)).toBe(true); // "Quiet" rotates in 90 days
  });
});
