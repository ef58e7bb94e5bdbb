import { expect, test, credentialRow } from './harness/fixtures.ts';

test.describe('credentials', () => {
  test('add a credential: only its mode’s fields, the secret masked, then it is listed with an Unknown chip', async ({ page, kd }) => {
    await kd.open();
    await page.getByRole('button', { name: 'Add credential' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Add a credential' });
    await expect(dialog).toBeVisible();
    await dialog.getByLabel('Name').fill('Blocklist prod');
    await dialog.getByLabel('Provider').selectOption({ label: 'AgentSOC mail blocklist' });
    // One mode: chosen for the analyst; only that mode's fields appear.
    await expect(dialog.getByLabel('Auth mode')).toHaveValue('bearer_token');
    await expect(dialog.getByLabel(/Bearer token/)).toHaveAttribute('type', 'password');
    await expect(dialog.getByLabel(/Session token|Client secret|API token/)).toHaveCount(0);
    await dialog.getByLabel(/Bearer token/).fill(`tok_${kd.canary}`);
    await dialog.getByLabel(/Blocklist service URL/).fill('https://blocklist.example');
    await kd.axe('add credential form');
    // No blocklist service to ask here: keep it unchecked (validation has its own spec against a loopback peer).
    await dialog.getByLabel(/Validate on save/).uncheck();
    await dialog.getByRole('button', { name: 'Add credential' }).click();

    // Saved: the detail page of the new credential.
    await expect(page.getByRole('heading', { level: 1, name: /Blocklist prod/ })).toBeVisible();
    await expect(page.getByText('Token — set (never shown)')).toBeVisible();
    await expect(page.getByText('blocklist.example').first()).toBeVisible();
    await kd.axe('credential detail');
    await page.getByRole('button', { name: '← All credentials' }).click();
    const row = credentialRow(page, 'Blocklist prod');
    await expect(row.getByText('Unknown')).toBeVisible();
    await expect(row.getByText('never checked')).toBeVisible();
    await expect(row.getByText(/rotate in \d+ (months|days)/)).toBeVisible();
    await kd.axe('credentials list');
  });

  test('bad form input shows an inline error under the field and saves nothing', async ({ page, kd }) => {
    await kd.open();
    await page.getByRole('button', { name: 'Add credential' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Add a credential' });
    await dialog.getByLabel('Name').fill('Blocklist');
    await dialog.getByLabel('Provider').selectOption({ label: 'AgentSOC mail blocklist' });
    await dialog.getByLabel(/Bearer token/).fill(`s${kd.canary}`.slice(0, 12));
    await dialog.getByLabel(/Blocklist service URL/).fill('http://blocklist.example');
    await dialog.getByRole('button', { name: 'Add credential' }).click();

    const token = dialog.getByLabel(/Bearer token/);
    await expect(token).toHaveAttribute('aria-invalid', 'true');
    await expect(token).toBeFocused();
    await expect(dialog.getByText(/Bearer token must be a bearer token/)).toBeVisible();
    await expect(dialog.getByText(/must use https/)).toBeVisible();
    await expect(dialog.getByText('Some fields need fixing; nothing was saved.')).toBeVisible();
    await kd.axe('form with errors');
    // Nothing saved: not in the vault, no audit entry.
    expect(kd.session.app().credentials.list()).toEqual([]);
    expect(
      kd.session
        .app()
        .audit.list()
        .map((e) => e.action)
    ).toEqual(['vault.init']);
    // Escape closes the dialog; the typed secret leaves the DOM with it.
    await page.keyboard.press('Escape');
    await expect(dialog).toBeHidden();
    await expect(page.getByRole('heading', { name: 'No credentials yet' })).toBeVisible();
  });

  test('edit secrets shows "set" and an empty input; a new secret replaces it; delete asks by name', async ({ page, kd }) => {
    kd.session
      .app()
      .credentials.add({ name: 'VPS main', provider: 'hostinger', mode: 'api_token', values: { api_token: `old_${kd.canary}` } });
    await kd.open();
    await page.getByRole('button', { name: 'VPS main', exact: true }).click();
    await page.getByRole('button', { name: 'Edit secrets' }).click();
    const dialog = page.getByRole('dialog', { name: 'Replace the secrets of VPS main' });
    const secret = dialog.getByLabel(/Replace API token/);
    await expect(secret).toHaveValue('');
    await expect(secret).toBeFocused();
    await expect(dialog.getByText('secret · set')).toBeVisible();
    await secret.fill(`new_${kd.canary}`);
    await dialog.getByLabel(/Validate on save/).uncheck();
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByRole('cell', { name: 'credential.rotate_secret' })).toBeVisible();
    const material = kd.session.app().credentials.material('VPS main');
    expect(material.secrets.api_token?.reveal()).toBe(`new_${kd.canary}`);

    await page.getByRole('button', { name: 'Delete' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete “VPS main”?' });
    await expect(confirm.getByRole('button', { name: 'Cancel' })).toBeFocused();
    await kd.axe('delete confirmation');
    await confirm.getByRole('button', { name: 'Delete “VPS main”' }).click();
    await expect(page.getByRole('heading', { name: 'No credentials yet' })).toBeVisible();
    expect(kd.session.app().credentials.list()).toEqual([]);
  });

  test('filter and search narrow the table; a write by the CLI in another process appears without reloading', async ({ page, kd }) => {
    const app = kd.session.app();
    app.credentials.add({ name: 'VPS main', provider: 'hostinger', mode: 'api_token', values: { api_token: 'abcdefghijklmnop1' } });
    app.credentials.add({
      name: 'Blocklist',
      provider: 'agentsoc_mail_block',
      mode: 'bearer_token',
      values: { token: 'abcdefghijklmnop2', blocklist_url: 'https://bl.example' }
    });
    await kd.open();
    await expect(page.getByRole('rowheader')).toHaveCount(2);
    await page.getByLabel('Search').fill('bl.example');
    await expect(page.getByRole('rowheader')).toHaveText(['Blocklist']);
    await page.getByLabel('Search').fill('');
    await page.getByLabel('Provider', { exact: true }).selectOption({ label: 'Hostinger' });
    await expect(page.getByRole('rowheader')).toHaveText(['VPS main']);
    await page.getByLabel('Health', { exact: true }).selectOption('failed');
    await expect(page.getByRole('heading', { name: 'No credential matches' })).toBeVisible();
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect(page.getByRole('rowheader')).toHaveCount(2);

    const { openApp } = await import('../main/app.ts');
    const cli = openApp({ vaultPath: kd.vaultPath, actor: 'analyst:cli (cli)' });
    await cli.vault.unlock();
    cli.credentials.add({
      name: 'Added from the CLI',
      provider: 'hostinger',
      mode: 'api_token',
      values: { api_token: 'abcdefghijklmnop3' }
    });
    await cli.close();
    await expect(page.getByRole('rowheader', { name: 'Added from the CLI' })).toBeVisible();
  });
});
