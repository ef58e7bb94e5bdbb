import { expect, test } from './harness/fixtures.ts';

test.describe('domains', () => {
  test('bind a domain, preview which credential an action would use, and refuse an ambiguous binding', async ({ page, kd }) => {
    const app = kd.session.app();
    app.credentials.add({
      name: 'M365 Corp',
      provider: 'microsoft_365',
      mode: 'client_secret',
      values: { tenant_id: 'corp.example', client_id: '3f2504e0-4f89-41d3-9a0c-0305e82c3301', client_secret: `cs_${kd.canary}` }
    });
    app.credentials.add({
      name: 'Blocklist',
      provider: 'agentsoc_mail_block',
      mode: 'bearer_token',
      values: { token: `tok_${kd.canary}`, blocklist_url: 'https://blocklist.example' }
    });
    await kd.open();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Domains' }).click();
    await expect(page.getByRole('heading', { name: 'No domain is bound yet' })).toBeVisible();
    await kd.axe('domains, empty');

    // Bind corp.example (and its subdomains) to M365 Corp.
    await page.getByLabel('Credential', { exact: true }).selectOption({ label: 'M365 Corp' });
    await page.getByLabel('Domain', { exact: true }).fill('Corp.Example.');
    await page.getByLabel('Also its subdomains').check();
    await page.getByRole('button', { name: 'Bind', exact: true }).click();
    await expect(page.getByText('Bound corp.example to M365 Corp.')).toBeVisible();
    const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'corp.example' }) });
    await expect(row.getByRole('cell', { name: 'M365 Corp', exact: true })).toBeVisible();
    await expect(row.getByRole('cell', { name: 'covered' })).toBeVisible();
    await expect(row.getByRole('cell', { name: 'intact' })).toBeVisible();

    // The resolve preview: block_sender for alice@corp.example → M365 Corp.
    await page.getByLabel('Capability').selectOption('block_sender');
    await page.getByLabel('Protected mailbox or domain').fill('alice@corp.example');
    await page.getByRole('button', { name: 'Preview' }).click();
    await expect(page.locator('.resolution')).toHaveText(
      /block_sender for alice@corp\.example → M365 Corp \(bound to corp\.example, exact match, bindings verified\)/
    );
    await page.getByLabel('Protected mailbox or domain').fill('bob@eu.corp.example');
    await page.getByRole('button', { name: 'Preview' }).click();
    await expect(page.locator('.resolution')).toHaveText(/→ M365 Corp \(bound to corp\.example, parent domain covering subdomains/);
    await page.getByLabel('Protected mailbox or domain').fill('carol@other.example');
    await page.getByRole('button', { name: 'Preview' }).click();
    await expect(page.getByRole('alert')).toContainText('No credential is bound to carol@other.example');

    // Blocklist can also block_email_domain: binding corp.example to it too would make routing ambiguous.
    await page.getByLabel('Credential', { exact: true }).selectOption({ label: 'Blocklist' });
    await page.getByLabel('Domain', { exact: true }).fill('corp.example');
    await page.getByRole('button', { name: 'Bind', exact: true }).click();
    await expect(page.getByLabel('Domain', { exact: true })).toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByText('Already bound to M365 Corp')).toBeVisible();
    await expect(
      page.getByRole('alert').filter({ hasText: 'would make routing block_email_domain for corp.example ambiguous' })
    ).toBeVisible();
    expect(app.routing.list().map((b) => [b.domain, b.credentialName])).toEqual([['corp.example', 'M365 Corp']]);
    await kd.axe('domains');

    // Unbind asks first, by name.
    await row.getByRole('button', { name: /Unbind/ }).click();
    const confirm = page.getByRole('dialog', { name: 'Unbind corp.example from M365 Corp?' });
    await confirm.getByRole('button', { name: 'Unbind corp.example' }).click();
    await expect(page.getByRole('heading', { name: 'No domain is bound yet' })).toBeVisible();
  });

  test('locked: bindings stay readable and the preview says it is unverified', async ({ page, kd }) => {
    const app = kd.session.app();
    app.credentials.add({
      name: 'Blocklist',
      provider: 'agentsoc_mail_block',
      mode: 'bearer_token',
      values: { token: `tok_${kd.canary}`, blocklist_url: 'https://blocklist.example' }
    });
    app.routing.bind('Blocklist', 'corp.example');
    await kd.session.lock();
    await kd.open();
    await page.getByRole('button', { name: 'Unlock with the OS keychain' }).waitFor();
    await page.getByRole('button', { name: 'Browse read-only' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Domains' }).click();
    await expect(page.getByRole('cell', { name: 'checked when unlocked' })).toBeVisible();
    await expect(page.getByRole('button', { name: /Unbind/ })).toHaveCount(0);
    await page.getByLabel('Capability').selectOption('block_email_domain');
    await page.getByLabel('Protected mailbox or domain').fill('corp.example');
    await page.getByRole('button', { name: 'Preview' }).click();
    await expect(page.locator('.resolution')).toContainText('→ Blocklist (bound to corp.example, exact match, not verified while locked)');
  });
});
