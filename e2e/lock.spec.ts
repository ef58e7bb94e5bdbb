import { expect, test, credentialRow } from './harness/fixtures.ts';

test.describe('lock and unlock (passphrase vault)', () => {
  test.use({ vaultKind: 'passphrase', passphrase: 'correct horse battery staple' });

  test('the lock screen at start; a wrong passphrase is refused inline; the right one unlocks; Lock now locks', async ({ page, kd }) => {
    await kd.open();
    await expect(page.getByRole('heading', { name: 'Keydesk is locked' })).toBeVisible();
    await kd.axe('lock screen');
    const pass = page.getByLabel('Vault passphrase');
    await expect(pass).toBeFocused();
    await pass.fill(`wrong ${kd.canary}`);
    await page.keyboard.press('Enter');
    await expect(page.getByText(/Wrong passphrase/)).toBeVisible();
    await expect(pass).toHaveAttribute('aria-invalid', 'true');
    expect(kd.session.isUnlocked()).toBe(false);
    // The typed passphrase stays in its field to be corrected, but is never written into the page's HTML.
    await expect(pass).toHaveValue(`wrong ${kd.canary}`);
    expect(await page.content()).not.toContain(kd.canary);

    await pass.fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Unlock', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'No credentials yet' })).toBeVisible();
    await expect(page.getByText('Unlocked', { exact: true })).toBeVisible();
    expect(kd.session.isUnlocked()).toBe(true);

    await page.getByRole('button', { name: 'Lock now' }).click();
    await expect(page.getByRole('heading', { name: 'Keydesk is locked' })).toBeVisible();
    expect(kd.session.isUnlocked()).toBe(false);
    await expect(page.getByLabel('Vault passphrase')).toHaveValue('');
  });

  test('locked, read only: everything not secret stays visible and clearly marked; secret work asks to unlock', async ({ page, kd }) => {
    await kd.session.unlock('correct horse battery staple');
    kd.session
      .app()
      .credentials.add({ name: 'VPS main', provider: 'hostinger', mode: 'api_token', values: { api_token: `tok_${kd.canary}` } });
    await kd.session.lock();
    await kd.open();
    await page.getByRole('button', { name: 'Browse read-only' }).click();
    await expect(page.getByText('Locked — read only').first()).toBeVisible();
    await expect(credentialRow(page, 'VPS main').getByText('Unknown')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Unlock to add a credential' })).toBeVisible();
    await kd.axe('credentials, locked');
    await page.getByRole('button', { name: 'VPS main', exact: true }).click();
    await expect(page.getByText('API token — set (never shown)')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Unlock to edit secrets' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Delete' })).toHaveCount(0);
    await page.getByRole('button', { name: 'Audit log' }).click();
    await expect(page.getByRole('cell', { name: 'credential.add' })).toBeVisible();
    await page.getByRole('button', { name: 'Unlock to verify' }).click();
    await expect(page.getByRole('heading', { name: 'Keydesk is locked' })).toBeVisible();
  });
});

test.describe('keychain vault', () => {
  test('a locked keychain vault unlocks with one click', async ({ page, kd }) => {
    await kd.session.lock();
    await kd.open();
    await expect(page.getByText('This vault keeps its key in the OS keychain.')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Unlock with the OS keychain' })).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(page.getByRole('heading', { name: 'No credentials yet' })).toBeVisible();
    expect(kd.session.isUnlocked()).toBe(true);
  });

  test('a lock from outside the window (auto-lock, OS suspend) shows the lock screen at once', async ({ page, kd }) => {
    await kd.open();
    await expect(page.getByRole('heading', { name: 'No credentials yet' })).toBeVisible();
    await kd.session.lock();
    await expect(page.getByRole('heading', { name: 'Keydesk is locked' })).toBeVisible();
  });
});
