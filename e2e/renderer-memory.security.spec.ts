// Guards: "the renderer never keeps a secret". What the analyst types passes through the window on its way to main,
// but nothing may hold on to it afterwards: found in review, react-query kept every mutation's variables (the secret
// fields, the vault passphrase) in the window's memory for five minutes after the save. These read the renderer's
// JavaScript heap (a V8 heap snapshot, taken after a full garbage collection) before and after. Also found: React
// keeps the last focused text field, and a copy of its value, until another field is focused — a secret field that
// left the page while focused (Enter submits) kept the secret; such fields are now emptied as they go.
import type { Page } from '@playwright/test';
import { expect, test } from './harness/fixtures.ts';

async function heapHolds(page: Page, needle: string): Promise<boolean> {
  const cdp = await page.context().newCDPSession(page);
  let snapshot = '';
  cdp.on('HeapProfiler.addHeapSnapshotChunk', (e: { chunk: string }) => void (snapshot += e.chunk));
  await cdp.send('HeapProfiler.enable');
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  await cdp.detach();
  return snapshot.includes(needle);
}

test('a secret typed into the add form is gone from the window’s memory once it is saved', async ({ page, kd }) => {
  await kd.open();
  await page.getByRole('button', { name: 'Add credential' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Add a credential' });
  await dialog.getByLabel('Name').fill('VPS main');
  await dialog.getByLabel('Provider').selectOption({ label: 'Hostinger' });
  await dialog.getByLabel(/^API token/).fill(`tok_${kd.canary}`);
  await dialog.getByLabel(/API base URL/).fill('https://api.hostinger.example');
  await dialog.getByLabel(/Validate on save/).uncheck();
  // The probe sees it while it is being typed (so its "no" below means something).
  expect(await heapHolds(page, kd.canary)).toBe(true);
  // Enter in the secret field itself: the field is focused when the dialog goes away.
  await dialog.getByLabel(/^API token/).press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: /VPS main/ })).toBeVisible();
  expect(await heapHolds(page, kd.canary), 'the saved secret is still in the window').toBe(false);
});

test.describe('passphrase vault', () => {
  const passphrase = `pass ${Date.now().toString(36)} staple horse`;
  test.use({ vaultKind: 'passphrase', passphrase });

  test('the vault passphrase is gone from the window’s memory once it has unlocked', async ({ page, kd }) => {
    await kd.open();
    await page.getByLabel('Vault passphrase').fill(passphrase);
    expect(await heapHolds(page, passphrase)).toBe(true);
    await page.keyboard.press('Enter');
    await expect(page.getByRole('heading', { name: 'No credentials yet' })).toBeVisible();
    expect(await heapHolds(page, passphrase), 'the passphrase is still in the window').toBe(false);
  });
});
