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
    await waitFor(() => expect(options(credential).map(([, text]) => text)).toEqual(['The one the target’s account picks', 'VPS fleet']));
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

describe('Executions: a resource action asks its provider’s way and is confirmed', () => {
  const aws = (kdCanary: string) => ({
    name: 'AWS prod',
    provider: 'aws',
    mode: 'access_key',
    values: {
      access_key_id: 'AKIAIOSFODNN7EXAMPLE',
      secret_access_key: `sk_${kdCanary}_0123456789abcdef0123456789`,
      region: 'us-east-1',
      // Nothing listens here: a run that gets as far as EC2 fails at once, unreachable.
      ec2_endpoint: 'http://127.0.0.1:9',
      sts_endpoint: 'http://127.0.0.1:9'
    }
  });

  it('names the credential the target picks and its health; a named credential gives the target its label and options', async () => {
    const kd = await startKeydesk();
    await kd.call('credentials.add', aws(kd.canary));
    const user = userEvent.setup();
    renderInWindow(<ExecutionsView />);
    await user.selectOptions(await capabilitySelect(), 'Isolate a host');
    const form = runForm();
    // Before a target: every provider that can run it says how it names a host.
    expect(within(form).getByLabelText('Resource id').getAttribute('aria-describedby')).toBeTruthy();
    expect(form.textContent).toContain('Amazon Web Services: EC2 instance id or ARN (i-0123456789abcdef0)');
    await user.type(within(form).getByLabelText('Resource id'), 'i-0abc1234def567890');
    const using = await within(form).findByRole('status', { name: 'Credential this run will use' });
    await waitFor(() => expect(using.textContent).toContain('Runs with AWS prod (aws)'));
    expect(using.textContent).toMatch(/Unknown — readiness unknown \(Not validated yet\.\)/);
    expect(within(form).getByLabelText('EC2 instance id or ARN')).toBeDefined();
    expect(within(form).getByLabelText<HTMLInputElement>('Cut existing connections').checked).toBe(true);
  });

  it('isolate asks first, naming target, credential and reason: Cancel runs nothing; confirming runs with the options chosen', async () => {
    const kd = await startKeydesk();
    const cred = await kd.call('credentials.add', aws(kd.canary));
    const user = userEvent.setup();
    renderInWindow(<ExecutionsView />);
    await user.selectOptions(await capabilitySelect(), 'Isolate a host');
    const form = runForm();
    await user.selectOptions(within(form).getByLabelText('Credential'), 'AWS prod');
    await user.type(within(form).getByLabelText('EC2 instance id or ARN'), 'i-0abc1234def567890');
    await user.click(within(form).getByLabelText('Cut existing connections'));
    await user.type(within(form).getByLabelText(/^Reason/), 'INC-9 beacon');
    await user.click(within(form).getByRole('button', { name: 'Run' }));
    const confirm = await screen.findByRole('dialog', { name: 'Isolate a host: i-0abc1234def567890?' });
    expect(confirm.textContent).toContain('AWS prod');
    expect(confirm.textContent).toContain('INC-9 beacon');
    expect(confirm.textContent).toMatch(/Cut existing connectionsno/);
    await user.click(within(confirm).getByRole('button', { name: 'Cancel' }));
    expect(await kd.call('executions.list')).toEqual([]);

    await user.click(within(form).getByRole('button', { name: 'Run' }));
    await user.click(
      within(await screen.findByRole('dialog', { name: /^Isolate a host:/ })).getByRole('button', { name: 'Isolate a host' })
    );
    await waitFor(async () => expect(await kd.call('executions.list')).toHaveLength(1));
    const [ran] = await kd.call('executions.list');
    expect(ran).toMatchObject({
      capability: 'isolate',
      target: 'i-0abc1234def567890',
      credentialId: cred.id,
      options: { cut_connections: false }
    });
    expect(document.body.innerHTML).not.toContain(kd.canary);
  });
});
