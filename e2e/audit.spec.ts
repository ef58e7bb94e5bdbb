import Database from 'better-sqlite3';
import { expect, test } from './harness/fixtures.ts';

test.describe('audit log', () => {
  test('the log lists every change; Verify shows the chain intact, then names the entry edited in the file', async ({ page, kd }) => {
    const app = kd.session.app();
    app.credentials.add({ name: 'VPS main', provider: 'hostinger', mode: 'api_token', values: { api_token: `tok_${kd.canary}` } });
    app.credentials.rename('VPS main', 'VPS prod');
    app.credentials.update('VPS prod', { expiresAt: '2027-01-31' });
    await kd.open();
    await page.getByRole('button', { name: 'Audit log' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Audit log' })).toBeVisible();
    await expect(page.getByRole('row')).toHaveCount(5);
    await expect(page.getByRole('cell', { name: 'credential.rename' })).toBeVisible();
    // Details read as sentences: words, not snake_case keys; a time in the analyst's locale, not a raw ISO string.
    const details = page.locator('td.detail-cell');
    await expect(details.filter({ hasText: /expires at: .*2027/ })).toHaveCount(1);
    expect((await details.allInnerTexts()).filter((t) => /\d{4}-\d{2}-\d{2}T\d{2}:|(^|· )[a-z]+_[a-z_]+:/.test(t))).toEqual([]);
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    await expect(page.getByText('Audit log intact')).toBeVisible();
    await expect(page.getByText(/4 entries verified/)).toBeVisible();
    await kd.axe('audit log');

    // Someone edits entry 2 in the vault file (another process, outside Keydesk).
    const db = new Database(kd.vaultPath);
    db.prepare("UPDATE audit_log SET actor = 'analyst:mallory (cli)' WHERE seq = 2").run();
    db.close();
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    await expect(page.getByRole('alert').getByText('Audit log broken', { exact: true })).toBeVisible();
    await expect(page.getByText(/entry 2 was edited/)).toBeVisible();
    await expect(page.getByText(/First bad entry: #2 \(edited\)/)).toBeVisible();
  });
});
