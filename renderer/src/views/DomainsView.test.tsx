import { screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { startKeydesk, type TestKeydesk } from '#keydesk';
import { renderInWindow } from '../testing/render.tsx';
import { DomainsView } from './DomainsView.tsx';

/** The preview's capability select, once the catalog has filled it. */
async function capabilitySelect(): Promise<HTMLSelectElement> {
  const form = screen.getByRole('form', { name: 'Which credential would act?' });
  const select = within(form).getByLabelText<HTMLSelectElement>('Capability');
  await waitFor(() => expect(select.options.length).toBeGreaterThan(0));
  return select;
}

const options = (select: HTMLSelectElement) => [...select.options].map((o) => [o.value, o.text]);

async function blocklistBoundToCorp(kd: TestKeydesk) {
  const c = await kd.call('credentials.add', {
    name: 'Blocklist',
    provider: 'agentsoc_mail_block',
    mode: 'bearer_token',
    values: { token: `tok_${kd.canary}`, blocklist_url: 'https://blocklist.example' }
  });
  await kd.call('bindings.bind', { credentialId: c.id, domain: 'corp.example' });
}

describe('Domains: the resolve preview takes its capabilities from the catalog', () => {
  it('lists the tenant capabilities main answers, by label, and chooses the first', async () => {
    const kd = await startKeydesk();
    const catalog = await kd.call('executions.capabilities');
    renderInWindow(<DomainsView />);
    const select = await capabilitySelect();
    expect(options(select)).toEqual(catalog.filter((c) => c.tenant).map((c) => [c.id, c.label]));
    // A capability the catalog lists, under its label; resource capabilities are not routed by domain.
    expect(screen.getByRole<HTMLOptionElement>('option', { name: 'Block a sender' }).value).toBe('block_sender');
    expect(screen.queryByRole('option', { name: 'Power a host off' })).toBeNull();
    expect(select.value).toBe(catalog.find((c) => c.tenant)?.id);
  });

  it('lists nothing the catalog does not list: another main’s catalog is what the select shows', async () => {
    const kd = await startKeydesk();
    kd.amend('executions.capabilities', (caps) => [
      {
        id: 'quarantine_message',
        label: 'Quarantine a message',
        target: 'email' as const,
        tenant: true,
        host: 'email' as const,
        scope: false,
        destructive: false
      },
      ...caps.filter((c) => c.id !== 'block_sender')
    ]);
    renderInWindow(<DomainsView />);
    const select = await capabilitySelect();
    expect(options(select)).toEqual([
      ['quarantine_message', 'Quarantine a message'],
      ['block_email_domain', 'Block an email domain'],
      ['disable_user', 'Disable a user']
    ]);
    expect(select.value).toBe('quarantine_message');
  });

  it('previews with the capability chosen by its label, and names it by its id', async () => {
    const kd = await startKeydesk();
    await blocklistBoundToCorp(kd);
    const user = userEvent.setup();
    renderInWindow(<DomainsView />);
    const select = await capabilitySelect();
    await user.type(screen.getByLabelText('Protected mailbox or domain'), 'corp.example');

    // The first capability, block_sender, is not one the blocklist can run: main says so, naming it.
    await user.click(screen.getByRole('button', { name: 'Preview' }));
    expect((await screen.findByRole('alert')).textContent).toContain('No credential bound to corp.example can run block_sender');

    await user.selectOptions(select, 'Block an email domain');
    expect(select.value).toBe('block_email_domain');
    await user.click(screen.getByRole('button', { name: 'Preview' }));
    const resolution = await waitFor(() => {
      const p = document.querySelector('.resolution');
      expect(p).not.toBeNull();
      return p!;
    });
    expect(resolution.querySelector('code')?.textContent).toBe('block_email_domain');
    expect(resolution.textContent).toMatch(/^block_email_domain for corp\.example → Blocklist \(bound to corp\.example, exact match/);
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('while the catalog is not there yet, nothing can be previewed', async () => {
    await startKeydesk();
    renderInWindow(<DomainsView />);
    const form = screen.getByRole('form', { name: 'Which credential would act?' });
    // First render: the catalog has not answered; no capability is made up meanwhile.
    expect(within(form).getByLabelText<HTMLSelectElement>('Capability').options).toHaveLength(0);
    expect(within(form).getByRole<HTMLButtonElement>('button', { name: 'Preview' }).disabled).toBe(true);
    await capabilitySelect();
    expect(within(form).getByRole<HTMLButtonElement>('button', { name: 'Preview' }).disabled).toBe(false);
  });
});
