import Database from 'better-sqlite3';
import { expect, test } from './harness/fixtures.ts';

test.describe('audit log', () => {
  test('the log lists every change; Verify shows the chain intact, then names the entry edited in the file', async ({ page, kd }) => {
    const app = kd.session.app();
    app.credentials.add({ name: 'VPS main', provider: 'hostinger', mode: 'api_token', values: { api_token: `tok_${kd.canary}` } });
    app.credentials.rename('VPS main', 'VPS prod');
    await kd.open();
    await page.getByRole('button', { name: 'Audit log' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Audit log' })).toBeVisible();
    await expect(page.getByRole('row')).toHaveCount(4);
    await expect(page.getByRole('cell', { name: 'credential.rename' })).toBeVisible();
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    await expect(page.getByText('Audit log intact')).toBeVisible();
    await expect(page.getByText(/3 entries verified/)).toBeVisible();
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
