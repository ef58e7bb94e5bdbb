import { NATIVE_CLIENT_ID, startOidcPeer, type OidcPeer } from './peers/oidc.ts';
import { expect, test } from './harness/fixtures.ts';

let oidc: OidcPeer;
test.beforeAll(async () => {
  oidc = await startOidcPeer();
});
test.afterAll(async () => {
  await oidc.close();
});

test.describe('OAuth sign-in (oidc-provider on loopback)', () => {
  test('Connect creates the credential through a sign-in in a second page; tokens never reach the window', async ({ page, kd }) => {
    await kd.open();
    await page.getByRole('button', { name: 'Add credential' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Add a credential' });
    await dialog.getByLabel('Name').fill('Peer SSO');
    await dialog.getByLabel('Provider').selectOption({ label: 'OAuth (any provider)' });
    await dialog.getByLabel(/Discovery URL/).fill(oidc.discoveryUrl);
    await dialog.getByLabel(/^Client ID/).fill(NATIVE_CLIENT_ID);
    await dialog.getByLabel(/^Scopes/).fill('openid offline_access api.read');
    await expect(dialog.getByText('Connect with a sign-in')).toBeVisible();
    await expect(dialog.getByLabel(/Validate on save/)).toHaveCount(0);
    await dialog.getByRole('button', { name: 'Connect' }).click();

    // The second page (the "system browser") signed in on the provider's own pages and landed on the loopback.
    const landed = await kd.lastSignIn();
    expect(new URL(landed.url).hostname).toBe('127.0.0.1');
    await expect(page.getByRole('heading', { level: 1, name: /Peer SSO/ })).toContainText('OK');
    await expect(page.getByText(/expires in (59 min|1 h)/).first()).toBeVisible();
    await expect(page.getByRole('cell', { name: 'oauth.connect' })).toBeVisible();
    kd.secrets.push(...oidc.issuedTokens());
    expect(oidc.issuedTokens().length).toBeGreaterThan(0);
  });

  test('an expired OAuth credential: one click re-authenticates it in the browser and it is OK again', async ({ page, kd }) => {
    const app = kd.session.app();
    app.credentials.add({
      name: 'Peer SSO',
      provider: 'oauth',
      mode: 'authorization_code',
      values: { discovery_url: oidc.discoveryUrl, client_id: NATIVE_CLIENT_ID, scopes: 'openid offline_access api.read' }
    });
    await app.oauth.connect('Peer SSO', { openExternal: kd.session.config.openExternal! });
    await kd.lastSignIn();
    // An administrator withdraws the grant: the next refresh answers invalid_grant and the credential is expired.
    await oidc.revokeAllGrants();
    await app.oauth.refresh('Peer SSO').catch(() => undefined);
    expect(app.credentials.get('Peer SSO').status).toBe('expired');

    await kd.open();
    await page.getByRole('button', { name: 'Peer SSO', exact: true }).click();
    await expect(page.getByRole('heading', { level: 1, name: /Peer SSO/ })).toContainText('Expired');
    await expect(page.getByText('invalid_grant').first()).toBeVisible();
    await kd.axe('expired OAuth credential');
    await page.getByRole('button', { name: 'Re-authenticate' }).click();
    await kd.lastSignIn();
    await expect(page.getByRole('heading', { level: 1, name: /Peer SSO/ })).toContainText('OK');
    kd.secrets.push(...oidc.issuedTokens());
  });

  test('a refused sign-in (access_denied) is shown, and nothing is stored', async ({ page, kd }) => {
    kd.browserDecision = 'deny';
    await kd.open();
    await page.getByRole('button', { name: 'Add credential' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Add a credential' });
    await dialog.getByLabel('Name').fill('Refused');
    await dialog.getByLabel('Provider').selectOption({ label: 'OAuth (any provider)' });
    await dialog.getByLabel(/Discovery URL/).fill(oidc.discoveryUrl);
    await dialog.getByLabel(/^Client ID/).fill(NATIVE_CLIENT_ID);
    await dialog.getByLabel(/^Scopes/).fill('openid offline_access');
    await dialog.getByRole('button', { name: 'Connect' }).click();
    await expect(dialog.getByRole('alert')).toContainText(/denied|refused/i);
    expect(kd.session.app().credentials.list()).toEqual([]);
  });
});
