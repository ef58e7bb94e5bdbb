// Takes the README's screenshots (docs/screenshots/) from a realistic vault: real validation against the loopback
// peers (Hostinger, the blocklist service, an OpenID Provider), real bindings, a real run waiting on re-auth.
import { startBlocklistPeer, type BlocklistPeer } from './peers/blocklist.ts';
import { startHostingerPeer, type HostingerPeer } from './peers/hostinger.ts';
import { NATIVE_CLIENT_ID, startOidcPeer, type OidcPeer } from './peers/oidc.ts';
import { expect, test } from './harness/fixtures.ts';

let hostinger: HostingerPeer;
let blocklist: BlocklistPeer;
let oidc: OidcPeer;
test.beforeAll(async () => {
  [hostinger, blocklist, oidc] = await Promise.all([startHostingerPeer(), startBlocklistPeer(), startOidcPeer()]);
});
test.afterAll(async () => {
  await Promise.all([hostinger.close(), blocklist.close(), oidc.close()]);
});

test('main screens, for the README', async ({ page, kd }) => {
  test.setTimeout(120_000);
  const app = kd.session.app();
  const vpsToken = hostinger.hostinger.addToken();
  const revoked = hostinger.hostinger.addToken();
  const blocklistToken = blocklist.blocklist.addToken();
  const expiredBlocklist = blocklist.blocklist.addToken({ expired: true });
  kd.secrets.push(vpsToken, revoked, blocklistToken, expiredBlocklist);
  app.credentials.add({
    name: 'VPS fleet (Hostinger)',
    provider: 'hostinger',
    mode: 'api_token',
    values: { api_token: vpsToken, api_base_url: hostinger.url }
  });
  app.credentials.add({
    name: 'VPS legacy',
    provider: 'hostinger',
    mode: 'api_token',
    values: { api_token: revoked, api_base_url: hostinger.url }
  });
  app.credentials.add({
    name: 'Phishing blocklist',
    provider: 'agentsoc_mail_block',
    mode: 'bearer_token',
    values: { token: blocklistToken, blocklist_url: blocklist.url }
  });
  app.credentials.add({
    name: 'Blocklist (subsidiary)',
    provider: 'agentsoc_mail_block',
    mode: 'bearer_token',
    values: { token: expiredBlocklist, blocklist_url: blocklist.url }
  });
  app.credentials.add({
    name: 'M365 Corp',
    provider: 'microsoft_365',
    mode: 'client_secret',
    values: { tenant_id: 'corp.example', client_id: '3f2504e0-4f89-41d3-9a0c-0305e82c3301', client_secret: `cs_${kd.canary}` },
    expiresAt: new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10)
  });
  app.credentials.add({
    name: 'Okta SSO',
    provider: 'oauth',
    mode: 'authorization_code',
    values: { discovery_url: oidc.discoveryUrl, client_id: NATIVE_CLIENT_ID, scopes: 'openid offline_access api.read' }
  });
  await app.oauth.connect('Okta SSO', { openExternal: kd.session.config.openExternal! });
  await kd.lastSignIn();
  hostinger.hostinger.revoke(revoked);
  for (const name of ['VPS fleet (Hostinger)', 'VPS legacy', 'Phishing blocklist', 'Blocklist (subsidiary)'])
    await app.validation.validate(name);
  app.routing.bind('M365 Corp', 'corp.example', { subdomains: true });
  app.routing.bind('Phishing blocklist', 'mail.corp.example');
  app.routing.bind('Blocklist (subsidiary)', 'subsidiary.example');
  await app.executions.run({
    capability: 'block_email_domain',
    target: 'evil-invoices.example',
    hostDomain: 'mail.corp.example',
    reason: 'INC-4711 invoice phishing wave'
  });
  await app.executions.run({
    capability: 'block_email_domain',
    target: 'login-verify.example',
    hostDomain: 'subsidiary.example',
    reason: 'INC-4712 credential phishing'
  });
  kd.secrets.push(...oidc.issuedTokens());

  await kd.open();
  await expect(page.getByRole('rowheader')).toHaveCount(6);
  await expect(page.getByRole('region', { name: /Re-authentication needed/ })).toBeVisible();
  await kd.screenshot('credentials');

  await page.getByRole('button', { name: 'Add credential' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Add a credential' });
  await dialog.getByLabel('Name').fill('Workspace Corp');
  await dialog.getByLabel('Provider').selectOption({ label: 'Google Workspace' });
  await dialog.getByLabel('Auth mode').selectOption({ index: 1 });
  await dialog.getByLabel(/Delegated admin/i).fill('admin@corp.example');
  await dialog.getByLabel(/Customer ID/i).fill('not valid!');
  await dialog.getByLabel(/Validate on save/).uncheck();
  await dialog.getByRole('button', { name: 'Add credential' }).click();
  await expect(dialog.getByText('Some fields need fixing; nothing was saved.')).toBeVisible();
  await kd.screenshot('add-credential');
  await page.keyboard.press('Escape');

  await page.getByRole('button', { name: 'VPS fleet (Hostinger)', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: /VPS fleet/ })).toContainText('OK');
  await kd.screenshot('credential-detail');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Domains' }).click();
  await page.getByLabel('Capability').selectOption('block_sender');
  await page.getByLabel('Protected mailbox or domain').fill('alice@corp.example');
  await page.getByRole('button', { name: 'Preview' }).click();
  await expect(page.locator('.resolution')).toContainText('→ M365 Corp');
  await kd.axe('domains with bindings');
  await kd.screenshot('domains');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Executions' }).click();
  await expect(page.getByRole('cell', { name: 'Succeeded' })).toBeVisible();
  await kd.axe('executions');
  await kd.screenshot('executions');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Audit log' }).click();
  await page.getByRole('button', { name: 'Verify the chain' }).click();
  await expect(page.getByText('Audit log intact')).toBeVisible();
  await kd.screenshot('audit');

  await page.emulateMedia({ colorScheme: 'dark' });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Credentials' }).click();
  await expect(page.getByRole('rowheader')).toHaveCount(6);
  await kd.axe('credentials, dark');
  await kd.screenshot('credentials-dark');
  await page.emulateMedia({ colorScheme: 'light' });

  await page.getByRole('button', { name: 'Lock now' }).click();
  await expect(page.getByRole('heading', { name: 'Keydesk is locked' })).toBeVisible();
  await page.emulateMedia({ colorScheme: 'dark' });
  await kd.axe('lock screen, dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await kd.screenshot('lock');
});
