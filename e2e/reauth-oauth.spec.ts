// The whole one-click story with an OAuth credential: a run on an expired Google Workspace oauth_user credential
// waits, the banner appears, one click opens the sign-in in a second page, and the same run resumes to succeeded.
// The OpenID Provider plays Google's sign-in; the Google peer plays its Directory API.
import { installGoogleActions, type GoogleActions } from './peers/google-actions.ts';
import { startGooglePeer, type GooglePeer } from './peers/google.ts';
import { googleApiAcceptsOidcTokens } from './peers/index.ts';
import { GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET, startOidcPeer, type OidcPeer } from './peers/oidc.ts';
import { expect, test } from './harness/fixtures.ts';
import { WORKSPACE_SCOPES } from '../main/providers/google_workspace/spec.ts';

const CUSTOMER = 'C0corp123';
let g: GooglePeer;
let actions: GoogleActions;
let oidc: OidcPeer;
let unlink: () => void;

test.beforeAll(async () => {
  [g, oidc] = await Promise.all([startGooglePeer(), startOidcPeer()]);
  actions = installGoogleActions(g);
  g.addCustomer({ id: CUSTOMER, domains: [{ domainName: 'corp.example', isPrimary: true, verified: true }] });
  g.addUser(CUSTOMER, { primaryEmail: 'admin@corp.example', isAdmin: true });
  g.addUser(CUSTOMER, { primaryEmail: 'alice@corp.example' });
  unlink = googleApiAcceptsOidcTokens(g, oidc, { subject: 'admin@corp.example', scopes: Object.values(WORKSPACE_SCOPES) });
});
test.afterAll(async () => {
  unlink();
  actions.uninstall();
  await Promise.all([g.close(), oidc.close()]);
});

test('expired OAuth credential → the banner → one click → sign-in in a second page → the waiting run resumes to succeeded', async ({
  page,
  kd
}) => {
  // The OAuth client secret travels to the token endpoint on every refresh: it is planted like the canary.
  kd.secrets.push(GOOGLE_CLIENT_SECRET);
  const app = kd.session.app();
  app.credentials.add({
    name: 'Workspace admin',
    provider: 'google_workspace',
    mode: 'oauth_user',
    values: {
      client_id: GOOGLE_CLIENT_ID,
      client_secret: GOOGLE_CLIENT_SECRET,
      authorization_url: oidc.authorizationUrl,
      token_url: oidc.tokenUrl,
      revocation_url: oidc.revocationUrl,
      api_base_url: g.url
    }
  });
  await app.oauth.connect('Workspace admin', { openExternal: kd.session.config.openExternal! });
  await kd.lastSignIn();
  app.routing.bind('Workspace admin', 'corp.example');
  // The grant is withdrawn: the next refresh answers invalid_grant, and the credential is expired.
  await oidc.revokeAllGrants();
  await app.oauth.refresh('Workspace admin').catch(() => undefined);
  expect(app.credentials.get('Workspace admin').status).toBe('expired');

  await kd.open();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Executions' }).click();
  await page.getByLabel('Capability').selectOption('disable_user');
  await page.getByLabel('Target email address').fill('alice@corp.example');
  await page.getByLabel(/^Reason/).fill('INC-5150 account takeover');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  // Disabling a user is destructive: the confirm step names the target first.
  await page.getByRole('dialog', { name: 'Disable a user: alice@corp.example?' }).getByRole('button', { name: 'Disable a user' }).click();
  const detail = page.getByRole('dialog', { name: 'disable_user → alice@corp.example' });
  await expect(detail.getByText('Waiting for re-auth').first()).toBeVisible();
  await detail.getByRole('button', { name: 'Close', exact: true }).last().click();
  expect(g.customers.get(CUSTOMER)?.users.get('alice@corp.example')?.suspended).toBe(false);

  const banner = page.getByRole('region', { name: /Re-authentication needed/ });
  await expect(banner).toContainText('1 credential, 1 action waiting');
  await expect(banner).toContainText('disable_user → alice@corp.example');
  await banner.getByRole('button', { name: 'Sign in to Workspace admin again' }).click();
  // The second page: the provider's own sign-in and consent pages, then the loopback redirect.
  const landed = await kd.lastSignIn();
  expect(new URL(landed.url).hostname).toBe('127.0.0.1');

  await expect(page.getByText('Workspace admin is signed in again; the actions waiting on it resume.')).toBeVisible();
  const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'disable_user → alice@corp.example' }) });
  await expect(row.getByRole('cell', { name: 'Succeeded' })).toBeVisible();
  await expect(banner.getByRole('heading')).toHaveCount(0);
  expect(g.customers.get(CUSTOMER)?.users.get('alice@corp.example')?.suspended).toBe(true);
  const runs = app.executions.list();
  expect(runs).toHaveLength(1);
  expect(runs[0]).toMatchObject({ status: 'succeeded', attempts: 1 });
  kd.secrets.push(...oidc.issuedTokens());
});
