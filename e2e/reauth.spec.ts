import { startBlocklistPeer, type BlocklistPeer } from './peers/blocklist.ts';
import { expect, test } from './harness/fixtures.ts';

let peer: BlocklistPeer;
test.beforeAll(async () => {
  peer = await startBlocklistPeer();
});
test.afterAll(async () => {
  await peer.close();
});

test.describe('re-auth prompts (static secret)', () => {
  test('a run on an expired token waits → the banner appears → one click, a new secret → the same run resumes and succeeds', async ({
    page,
    kd
  }) => {
    const expired = peer.blocklist.addToken({ token: `blk_old_${kd.canary}`, expired: true });
    const fresh = peer.blocklist.addToken({ token: `blk_new_${kd.canary}` });
    kd.secrets.push(expired, fresh);
    const app = kd.session.app();
    app.credentials.add({
      name: 'Blocklist',
      provider: 'agentsoc_mail_block',
      mode: 'bearer_token',
      values: { token: expired, blocklist_url: peer.url }
    });
    app.routing.bind('Blocklist', 'corp.example');
    await kd.open();

    // Run the action from the Executions page.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Executions' }).click();
    await expect(page.getByRole('heading', { name: 'No actions have run yet' })).toBeVisible();
    await page.getByLabel('Capability').selectOption('block_email_domain');
    await page.getByLabel('Domain to block').fill('evil.example');
    await page.getByLabel('Protected mailbox or domain').fill('corp.example');
    await page.getByLabel(/^Reason/).fill('phishing wave INC-4711');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const detail = page.getByRole('dialog', { name: 'block_email_domain → evil.example' });
    await expect(detail.getByText('Waiting for re-auth').first()).toBeVisible();
    await expect(detail.getByText(/Waiting for re-authentication until/).first()).toBeVisible();
    expect(await detail.innerText()).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:/);
    await kd.axe('run detail');
    await detail.getByRole('button', { name: 'Close', exact: true }).last().click();
    expect(peer.blocklist.entries.size).toBe(0);

    // The persistent banner: the credential, the waiting run, the time left, one button.
    const banner = page.getByRole('region', { name: /Re-authentication needed/ });
    await expect(banner).toContainText('1 credential, 1 action waiting');
    await expect(banner).toContainText('block_email_domain → evil.example');
    await expect(banner).toContainText(/(5\d min|1 h) left/);
    // The wait's deadline reads as a local time, never as a raw ISO string.
    expect(await banner.innerText()).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:/);
    await kd.axe('re-auth banner');
    await banner.getByRole('button', { name: 'Enter a new secret for Blocklist' }).click();
    const dialog = page.getByRole('dialog', { name: 'Re-authenticate Blocklist' });
    await expect(dialog.getByLabel(/Replace bearer token/)).toBeFocused();
    await dialog.getByLabel(/Replace bearer token/).fill(fresh);
    await dialog.getByRole('button', { name: 'Save, check and resume' }).click();

    await expect(
      page.getByText(/Blocklist re-authenticated\. Resumed 1 action: block_email_domain → evil\.example: succeeded\./)
    ).toBeVisible();
    await expect(banner.getByRole('heading')).toHaveCount(0);
    const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'block_email_domain → evil.example' }) });
    await expect(row.getByRole('cell', { name: 'Succeeded' })).toBeVisible();
    expect([...peer.blocklist.entries.values()].map((e) => e.value)).toEqual(['evil.example']);
    // The same execution id resumed: one run, one provider action.
    expect(app.executions.list().length).toBe(1);

    // Revert it from the step log.
    await row.getByRole('button', { name: 'block_email_domain → evil.example' }).click();
    await expect(detail.getByText(/Resumed after "Blocklist" was re-authenticated/)).toBeVisible();
    await detail.getByRole('button', { name: 'Revert' }).click();
    await expect(detail.getByText('Reverted', { exact: true })).toBeVisible();
    expect(peer.blocklist.entries.size).toBe(0);
  });

  test('a wrong new secret keeps the runs waiting and says so', async ({ page, kd }) => {
    const expired = peer.blocklist.addToken({ token: `blk_old2_${kd.canary}`, expired: true });
    kd.secrets.push(expired);
    const app = kd.session.app();
    app.credentials.add({
      name: 'Blocklist',
      provider: 'agentsoc_mail_block',
      mode: 'bearer_token',
      values: { token: expired, blocklist_url: peer.url }
    });
    app.routing.bind('Blocklist', 'corp.example');
    await app.executions.run({ capability: 'block_email_domain', target: 'bad.example', hostDomain: 'corp.example', reason: 'test' });
    await kd.open();
    const banner = page.getByRole('region', { name: /Re-authentication needed/ });
    await banner.getByRole('button', { name: 'Enter a new secret for Blocklist' }).click();
    const dialog = page.getByRole('dialog', { name: 'Re-authenticate Blocklist' });
    await dialog.getByLabel(/Replace bearer token/).fill(`blk_unknown_${kd.canary}`);
    await dialog.getByRole('button', { name: 'Save, check and resume' }).click();
    await expect(dialog.getByRole('alert')).toContainText('did not validate');
    await expect(dialog.getByRole('alert')).toContainText('Waiting runs keep waiting');
    await page.keyboard.press('Escape');
    await expect(banner).toContainText('1 action waiting');
    expect(app.executions.list()[0]?.status).toBe('awaiting_reauth');
  });

  test('a locked window says actions are waiting for re-authentication, and one unlock leads to the banner', async ({ page, kd }) => {
    const expired = peer.blocklist.addToken({ token: `blk_old3_${kd.canary}`, expired: true });
    kd.secrets.push(expired);
    const app = kd.session.app();
    app.credentials.add({
      name: 'Blocklist',
      provider: 'agentsoc_mail_block',
      mode: 'bearer_token',
      values: { token: expired, blocklist_url: peer.url }
    });
    app.routing.bind('Blocklist', 'corp.example');
    await app.executions.run({ capability: 'block_email_domain', target: 'bad.example', hostDomain: 'corp.example', reason: 'test' });
    await kd.session.lock();
    await kd.open();
    await expect(page.getByRole('heading', { name: 'Keydesk is locked' })).toBeVisible();
    await expect(page.getByText('1 action waits for re-authentication')).toBeVisible();
    await expect(page.getByText(/Blocklist needs to be re-authenticated before the deadline/)).toBeVisible();
    await kd.axe('lock screen with waiting actions');
    await page.getByRole('button', { name: 'Unlock with the OS keychain' }).click();
    await expect(
      page.getByRole('region', { name: /Re-authentication needed/ }).getByRole('button', { name: 'Enter a new secret for Blocklist' })
    ).toBeVisible();
  });
});
