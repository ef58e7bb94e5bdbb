import { screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { startKeydesk } from '#keydesk';
import { renderInWindow } from '../testing/render.tsx';
import { ExecutionsView } from './ExecutionsView.tsx';
import { hostinger } from '../testing/samples.ts';

function runForm() {
  return screen.getByRole('form', { name: 'Run an action' });
}

/** The Run form's capability select, once the catalog has filled it. */
async function capabilitySelect(): Promise<HTMLSelectElement> {
  const select = within(runForm()).getByLabelText<HTMLSelectElement>('Capability');
  await waitFor(() => expect(select.options.length).toBeGreaterThan(0));
  return select;
}

const options = (select: HTMLSelectElement) => [...select.options].map((o) => [o.value, o.text]);

describe('Executions: the Run form takes its capabilities from the catalog', () => {
  it('lists every capability main answers, by label, and starts with the first and its fields', async () => {
    const kd = await startKeydesk();
    const catalog = await kd.call('executions.capabilities');
    renderInWindow(<ExecutionsView />);
    const select = await capabilitySelect();
    expect(options(select)).toEqual(catalog.map((c) => [c.id, c.label]));
    expect(screen.getByRole<HTMLOptionElement>('option', { name: 'Block a sender' }).value).toBe('block_sender');
    expect(select.value).toBe(catalog[0]?.id);
    // block_sender: an email address, in a protected mailbox.
    expect(within(runForm()).getByLabelText('Target email address')).toBeDefined();
    expect(within(runForm()).getByLabelText('Protected mailbox')).toBeDefined();
  });

  it('lists nothing the catalog does not list, and the first it lists is the default, with its own fields', async () => {
    const kd = await startKeydesk();
    kd.amend('executions.capabilities', (caps) => caps.filter((c) => c.id === 'block_ip' || c.id === 'block_email_domain'));
    renderInWindow(<ExecutionsView />);
    const select = await capabilitySelect();
    expect(options(select)).toEqual([
      ['block_email_domain', 'Block an email domain'],
      ['block_ip', 'Block an IP address']
    ]);
    expect(select.value).toBe('block_email_domain');
    expect(within(runForm()).getByLabelText('Domain to block')).toBeDefined();
    expect(within(runForm()).getByLabelText('Protected mailbox or domain')).toBeDefined();
  });

  it('a resource capability names its credential: only those whose provider and mode can run it are offered', async () => {
    const kd = await startKeydesk();
    await kd.call('credentials.add', hostinger('VPS fleet', { api_token: `tok_${kd.canary}` }));
    await kd.call('credentials.add', {
      name: 'Blocklist',
      provider: 'agentsoc_mail_block',
      mode: 'bearer_token',
      values: { token: `tok_${kd.canary}`, blocklist_url: 'https://blocklist.example' }
    });
    const user = userEvent.setup();
    renderInWindow(<ExecutionsView />);
    await user.selectOptions(await capabilitySelect(), 'Power a host off');
    const form = runForm();
    expect(within(form).getByLabelText('Resource id')).toBeDefined();
    expect(within(form).queryByLabelText(/Protected/)).toBeNull();
    const credential = within(form).getByLabelText<HTMLSelectElement>('Credential');
    await waitFor(() => expect(options(credential).map(([, text]) => text)).toEqual(['Choose…', 'VPS fleet']));
  });

  it('a run main refuses shows the field’s message inline, and nothing runs', async () => {
    const kd = await startKeydesk();
    const user = userEvent.setup();
    renderInWindow(<ExecutionsView />);
    await user.selectOptions(await capabilitySelect(), 'Block an email domain');
    const form = runForm();
    await user.type(within(form).getByLabelText('Domain to block'), 'not a domain!');
    await user.type(within(form).getByLabelText('Protected mailbox or domain'), 'corp.example');
    await user.type(within(form).getByLabelText(/^Reason/), 'INC-1 phishing wave');
    await user.click(within(form).getByRole('button', { name: 'Run' }));
    const target = within(form).getByLabelText('Domain to block');
    await waitFor(() => expect(target.getAttribute('aria-invalid')).toBe('true'));
    const message = document.getElementById(target.getAttribute('aria-describedby') ?? '');
    expect(message?.textContent).toBe('Is not a domain name (no spaces, @, /, :, wildcards or other punctuation)');
    expect(await kd.call('executions.list')).toEqual([]);
  });
});
