import { startHostingerPeer, type HostingerPeer } from './peers/hostinger.ts';
import { credentialRow, expect, test } from './harness/fixtures.ts';

let peer: HostingerPeer;
test.beforeAll(async () => {
  peer = await startHostingerPeer();
});
test.afterAll(async () => {
  await peer.close();
});

test.describe('validation', () => {
  test('add a credential, validate it, and see its chip change from Unknown to OK', async ({ page, kd }) => {
    const token = peer.hostinger.addToken({ token: `hst_${kd.canary}` });
    kd.secrets.push(token);
    await kd.open();
    await page.getByRole('button', { name: 'Add credential' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Add a credential' });
    await dialog.getByLabel('Name').fill('VPS main');
    await dialog.getByLabel('Provider').selectOption({ label: 'Hostinger' });
    await dialog.getByLabel(/^API token/).fill(token);
    await dialog.getByLabel(/API base URL/).fill(peer.url);
    await dialog.getByLabel(/Validate on save/).uncheck();
    await dialog.getByRole('button', { name: 'Add credential' }).click();
    await expect(page.getByRole('heading', { level: 1, name: /VPS main/ })).toContainText('Unknown');
    await expect(page.getByText('never checked').first()).toBeVisible();

    await page.getByRole('button', { name: 'Validate', exact: true }).click();
    await expect(page.getByRole('heading', { level: 1, name: /VPS main/ })).toContainText('OK');
    await expect(page.getByText('checked just now').first()).toBeVisible();
    await expect(page.getByRole('cell', { name: 'credential.validate' })).toBeVisible();
    await page.getByRole('button', { name: '← All credentials' }).click();
    await expect(credentialRow(page, 'VPS main').getByRole('cell', { name: 'OK', exact: true })).toBeVisible();
  });

  test('validate on save, then "validate all" with progress: a revoked token turns Failed with its error', async ({ page, kd }) => {
    const good = peer.hostinger.addToken({ token: `hst_good_${kd.canary}` });
    const bad = peer.hostinger.addToken({ token: `hst_bad_${kd.canary}` });
    kd.secrets.push(good, bad);
    await kd.open();
    await page.getByRole('button', { name: 'Add credential' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Add a credential' });
    await dialog.getByLabel('Name').fill('VPS one');
    await dialog.getByLabel('Provider').selectOption({ label: 'Hostinger' });
    await dialog.getByLabel(/^API token/).fill(good);
    await dialog.getByLabel(/API base URL/).fill(peer.url);
    await expect(dialog.getByLabel(/Validate on save/)).toBeChecked();
    await dialog.getByRole('button', { name: 'Add credential' }).click();
    await expect(page.getByRole('heading', { level: 1, name: /VPS one/ })).toContainText('OK');

    kd.session
      .app()
      .credentials.add({ name: 'VPS two', provider: 'hostinger', mode: 'api_token', values: { api_token: bad, api_base_url: peer.url } });
    peer.hostinger.revoke(bad);
    await page.getByRole('button', { name: '← All credentials' }).click();
    await expect(credentialRow(page, 'VPS two').getByRole('cell', { name: 'Unknown', exact: true })).toBeVisible();
    await page.getByRole('button', { name: 'Validate all' }).click();
    await expect(page.getByText(/Checked 2 of 2: 1 ok, 1 failed, 0 expired, 0 unknown\./)).toBeVisible();
    const two = credentialRow(page, 'VPS two');
    await expect(two.getByRole('cell', { name: 'Failed', exact: true })).toBeVisible();
    await expect(two.getByRole('cell', { name: /^HTTP_401 Hostinger rejected the API token/ })).toBeVisible();
    await expect(credentialRow(page, 'VPS one').getByRole('cell', { name: 'OK', exact: true })).toBeVisible();
    await kd.axe('credentials after validate all');
  });

  test('"validate all" shows live progress while it runs, and Stop leaves the unchecked credentials as they were', async ({ page, kd }) => {
    const app = kd.session.app();
    for (const n of ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten']) {
      const token = peer.hostinger.addToken({ token: `hst_${n}_${kd.canary}` });
      kd.secrets.push(token);
      app.credentials.add({
        name: `VPS ${n}`,
        provider: 'hostinger',
        mode: 'api_token',
        values: { api_token: token, api_base_url: peer.url }
      });
    }
    // A slow provider: every answer takes a while, so the run is visibly in progress.
    peer.control.latencyMs = 2_000;
    try {
      await kd.open();
      await page.getByRole('button', { name: 'Validate all' }).click();
      const progress = page.getByRole('progressbar', { name: /Checking…/ });
      await expect(progress).toBeVisible();
      await expect(page.getByText(/Checking… \d+ of 10 done/)).toBeVisible();
      await page.getByRole('button', { name: 'Stop' }).click();
      await expect(page.getByText(/Stopped: /)).toBeVisible();
      await expect(page.getByText(/\d+ not checked/)).toBeVisible();
      await expect(progress).toBeHidden();
      // Those not reached keep their status (never checked), rather than being marked failed.
      const unchecked = app.credentials.list().filter((c) => c.checkedAt === null);
      expect(unchecked.length).toBeGreaterThan(0);
      expect(unchecked.every((c) => c.status === 'unknown')).toBe(true);
    } finally {
      peer.control.latencyMs = 0;
    }
  });
});
