import { expect, test } from './harness/fixtures.ts';

test.describe('keyboard', () => {
  test('skip link, tab order, Enter opens the dialog, focus stays trapped inside, Escape closes and returns focus', async ({
    page,
    kd
  }) => {
    kd.session
      .app()
      .credentials.add({ name: 'VPS main', provider: 'hostinger', mode: 'api_token', values: { api_token: `tok_${kd.canary}` } });
    await kd.open();
    await expect(page.getByRole('rowheader', { name: 'VPS main' })).toBeVisible();

    await page.keyboard.press('Tab');
    await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
    // The focused control shows a focus ring.
    const outline = await page.evaluate(() => {
      // Typed without the DOM library (e2e/ is checked with the Node tsconfig).
      const g = globalThis as unknown as {
        document: { activeElement: unknown };
        getComputedStyle(e: unknown): { outlineStyle: string; outlineWidth: string };
      };
      const s = g.getComputedStyle(g.document.activeElement);
      return { style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
    });
    expect(outline.style).not.toBe('none');
    expect(outline.width).toBeGreaterThanOrEqual(2);

    // Tab order follows the page: navigation first, then the page's own actions.
    await page.keyboard.press('Tab');
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Credentials' })).toBeFocused();
    await page.keyboard.press('Tab');
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Domains' })).toBeFocused();

    const add = page.getByRole('button', { name: 'Add credential' }).first();
    await add.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Add a credential' });
    await expect(dialog.getByLabel('Name')).toBeFocused();
    for (let i = 0; i < 25; i++) {
      await page.keyboard.press(i % 7 === 6 ? 'Shift+Tab' : 'Tab');
      const inside = await page.evaluate(() => {
        const g = globalThis as unknown as { document: { activeElement: { closest(s: string): unknown } | null } };
        return g.document.activeElement?.closest('dialog') != null;
      });
      expect(inside, `focus left the dialog after ${i + 1} tabs`).toBe(true);
    }
    await page.keyboard.press('Escape');
    await expect(dialog).toBeHidden();
    await expect(add).toBeFocused();

    // Enter submits a dialog's form: the delete confirmation defaults to Cancel, so Enter there is safe.
    await page.getByRole('button', { name: 'VPS main', exact: true }).click();
    await page.getByRole('button', { name: 'Delete' }).click();
    await expect(page.getByRole('dialog', { name: 'Delete “VPS main”?' }).getByRole('button', { name: 'Cancel' })).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(page.getByRole('dialog')).toBeHidden();
    expect(kd.session.app().credentials.list()).toHaveLength(1);
  });
});

// Guards: a dialog reopened by every re-render of its parent. The list under the dialog refreshes on events (a CLI
// write, a scheduled validation, the "checked 3 min ago" clock); that must never move the analyst's focus or lose
// what they are typing.
test('a background refresh under an open dialog keeps the focus in the field being typed in', async ({ page, kd }) => {
  kd.session
    .app()
    .credentials.add({ name: 'VPS main', provider: 'hostinger', mode: 'api_token', values: { api_token: `tok_${kd.canary}` } });
  await kd.open();
  await page.getByRole('button', { name: 'Add credential' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Add a credential' });
  await dialog.getByLabel('Name').fill('VPS backup');
  await dialog.getByLabel('Provider').selectOption({ label: 'Hostinger' });
  const url = dialog.getByLabel(/API base URL/);
  await url.click();
  await page.keyboard.type('https://api.');

  // Another process (the CLI) adds a credential: the table behind the dialog refreshes.
  const { openApp } = await import('../main/app.ts');
  const cli = openApp({ vaultPath: kd.vaultPath, actor: 'analyst:cli (cli)' });
  await cli.vault.unlock();
  cli.credentials.add({ name: 'Added from the CLI', provider: 'hostinger', mode: 'api_token', values: { api_token: 'abcdefghijklmnop3' } });
  await cli.close();
  await expect(page.locator('th[scope="row"]', { hasText: 'Added from the CLI' })).toHaveCount(1);

  await expect(dialog).toBeVisible();
  await expect(url).toBeFocused();
  await page.keyboard.type('hostinger.example');
  await expect(url).toHaveValue('https://api.hostinger.example');
  await expect(dialog.getByLabel('Name')).toHaveValue('VPS backup');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
});
