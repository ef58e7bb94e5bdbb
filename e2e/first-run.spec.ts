import { expect, test } from './harness/fixtures.ts';

test.describe('first run', () => {
  test.use({ vaultKind: 'none' });

  test('no vault: the first-run screen creates a keychain vault, then the empty list says what to do next', async ({ page, kd }) => {
    await kd.open();
    await expect(page.getByRole('heading', { name: 'Create your Keydesk vault' })).toBeVisible();
    await expect(page.getByText(kd.vaultPath)).toBeVisible();
    await expect(page.getByRole('radio', { name: /OS keychain/ })).toBeChecked();
    await kd.axe('first run');
    await page.getByRole('button', { name: 'Create vault' }).click();
    await expect(page.getByRole('heading', { name: 'No credentials yet' })).toBeVisible();
    await expect(page.getByText('Unlocked', { exact: true })).toBeVisible();
    await kd.axe('empty credentials');
    expect(kd.session.status()).toMatchObject({ state: 'unlocked', keySource: 'keychain' });
  });

  test('a passphrase vault: too short is refused inline and nothing is created', async ({ page, kd }) => {
    await kd.open();
    await page.getByRole('radio', { name: /Passphrase/ }).check();
    await page.getByLabel('Passphrase', { exact: true }).fill('short');
    await page.getByLabel('Passphrase again').fill('short');
    await page.getByRole('button', { name: 'Create vault' }).click();
    await expect(page.getByText('Use at least 8 characters')).toBeVisible();
    await expect(page.getByLabel('Passphrase', { exact: true })).toHaveAttribute('aria-invalid', 'true');
    expect(kd.session.status().state).toBe('missing');
  });
});
