// Guards: "secret fields are write-only" on the window's side too. A secret the analyst types is sent to main and
// kept in its field until the save succeeds (a refused save loses nothing), but it is never written into the page's
// HTML (React mirrors a controlled input's value into a `value` attribute) and never pre-filled on edit.
import { expect, finalFieldValues, test } from './harness/fixtures.ts';

test('a typed secret never reaches the page HTML — not while typing, not after a refused save — and edit never pre-fills it', async ({
  page,
  kd
}) => {
  await kd.open();
  await page.getByRole('button', { name: 'Add credential' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Add a credential' });
  await dialog.getByLabel('Name').fill('VPS main');
  await dialog.getByLabel('Provider').selectOption({ label: 'Hostinger' });
  const token = dialog.getByLabel(/^API token/);
  await token.fill(`tok_${kd.canary}`);
  expect(await page.content(), 'the HTML while typing').not.toContain(kd.canary);

  // Refused by main (plain http to a remote host): nothing saved, the secret still in its field, still not in the HTML.
  await dialog.getByLabel(/API base URL/).fill('http://api.hostinger.example');
  await dialog.getByLabel(/Validate on save/).uncheck();
  await dialog.getByRole('button', { name: 'Add credential' }).click();
  await expect(dialog.getByText('Some fields need fixing; nothing was saved.')).toBeVisible();
  expect(kd.session.app().credentials.list()).toEqual([]);
  await expect(token).toHaveValue(`tok_${kd.canary}`);
  expect(await page.content(), 'the HTML after a refused save').not.toContain(kd.canary);

  await dialog.getByLabel(/API base URL/).fill('https://api.hostinger.example');
  await dialog.getByRole('button', { name: 'Add credential' }).click();
  await expect(page.getByRole('heading', { level: 1, name: /VPS main/ })).toBeVisible();
  expect(kd.session.app().credentials.material('VPS main').secrets.api_token?.reveal()).toBe(`tok_${kd.canary}`);

  // Edit: the secret shows as set, its field is empty; nothing the window holds is the secret.
  await page.getByRole('button', { name: 'Edit', exact: true }).click();
  const edit = page.getByRole('dialog', { name: 'Edit VPS main' });
  await expect(edit.getByLabel(/Replace API token/)).toHaveValue('');
  await expect(edit.getByText('secret · set')).toBeVisible();
  expect((await finalFieldValues(page)).join('\n')).not.toContain(kd.canary);
  await page.keyboard.press('Escape');
  await expect(edit).toBeHidden();
});
