import { startHostingerPeer, type HostingerPeer } from './peers/hostinger.ts';
import { expect, test } from './harness/fixtures.ts';

let peer: HostingerPeer;
test.beforeAll(async () => {
  peer = await startHostingerPeer();
});
test.afterAll(async () => {
  await peer.close();
});

test.describe('guided rotation', () => {
  test('a new token the provider rejects changes nothing; one it accepts replaces the old one', async ({ page, kd }) => {
    const old = peer.hostinger.addToken({ token: `hst_old_${kd.canary}` });
    const fresh = peer.hostinger.addToken({ token: `hst_new_${kd.canary}` });
    const wrong = `hst_wrong_${kd.canary}`;
    kd.secrets.push(old, fresh, wrong);
    kd.session
      .app()
      .credentials.add({ name: 'VPS main', provider: 'hostinger', mode: 'api_token', values: { api_token: old, api_base_url: peer.url } });
    await kd.open();
    await page.getByRole('rowheader', { name: 'VPS main' }).getByRole('button').click();
    await page.getByRole('button', { name: 'Rotate secret…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rotate the secret of “VPS main”' });
    await expect(dialog.getByLabel(/API token/)).toBeFocused();
    await kd.axe('rotate dialog');

    await dialog.getByLabel(/API token/).fill(wrong);
    await dialog.getByRole('button', { name: 'Check and rotate' }).click();
    await expect(dialog.getByText(/The new secret did not validate .*Nothing was changed/)).toBeVisible();
    expect(kd.session.app().credentials.material('VPS main').secrets.api_token?.reveal()).toBe(old);

    await dialog.getByLabel(/API token/).fill(fresh);
    await dialog.getByRole('button', { name: 'Check and rotate' }).click();
    await expect(dialog.getByText(/The provider accepted the new secret, and it replaced the old one/)).toBeVisible();
    await dialog.getByRole('button', { name: 'Done' }).click();
    await expect(page.getByRole('button', { name: 'Rotate secret…' })).toBeFocused();
    await expect(page.getByRole('heading', { level: 1, name: /VPS main/ })).toContainText('OK');
    expect(kd.session.app().credentials.material('VPS main').secrets.api_token?.reveal()).toBe(fresh);
  });
});
