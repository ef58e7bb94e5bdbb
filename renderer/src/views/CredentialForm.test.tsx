import { screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import type { CredentialView } from '../../../preload/contract.ts';
import { startKeydesk, type TestKeydesk } from '#keydesk';
import { pageText, renderInWindow } from '../testing/render.tsx';
import { CredentialForm, formFieldErrors } from './CredentialForm.tsx';
import { CredentialsView } from './CredentialsView.tsx';
import { hostinger } from '../testing/samples.ts';

/** The labels of the chosen mode's fields, in order. */
function modeFieldLabels(dialog: HTMLElement): string[] {
  const fieldset = dialog.querySelector('fieldset.mode-fields');
  if (!fieldset) return [];
  // Not the "Load from a file…" input of a multi-line field: it belongs to the field above it.
  const fields = [...fieldset.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>('input, textarea')].filter(
    (el) => el.type !== 'file'
  );
  return fields.map((el) => {
    const label = fieldset.querySelector(`label[for="${el.id}"]`);
    // The label's own text, without its "secret" badge.
    return label?.firstChild?.textContent ?? '';
  });
}

function openAddForm(onClose?: () => void) {
  const done = { closed: 0, saved: [] as CredentialView[] };
  const view = renderInWindow(
    <CredentialForm
      mode={{ kind: 'add' }}
      onClose={() => {
        done.closed++;
        onClose?.();
      }}
      onSaved={(c) => done.saved.push(c)}
    />
  );
  return { ...view, done, dialog: screen.getByRole('dialog', { name: 'Add a credential' }) };
}

async function chooseProvider(user: ReturnType<typeof userEvent.setup>, dialog: HTMLElement, label: string) {
  const provider = within(dialog).getByLabelText<HTMLSelectElement>('Provider');
  await waitFor(() => expect([...provider.options].map((o) => o.text)).toContain(label));
  await user.selectOptions(provider, label);
}

describe('CredentialForm: adding', () => {
  it('offers main’s providers; the mode waits for a provider; only the chosen mode’s fields appear', async () => {
    const kd = await startKeydesk();
    const providers = await kd.call('providers.list');
    const user = userEvent.setup();
    const { dialog } = openAddForm();
    const provider = within(dialog).getByLabelText<HTMLSelectElement>('Provider');
    await waitFor(() => expect([...provider.options].map((o) => o.text)).toEqual(['Choose…', ...providers.map((p) => p.label)]));
    const mode = within(dialog).getByLabelText<HTMLSelectElement>('Auth mode');
    expect(mode.disabled).toBe(true);
    expect(mode.options[0]?.text).toBe('Choose a provider first');
    expect(modeFieldLabels(dialog)).toEqual([]);

    await user.selectOptions(provider, 'Amazon Web Services');
    expect(mode.disabled).toBe(false);
    expect([...mode.options].map((o) => o.text)).toEqual(['Choose…', 'Access key pair', 'Assume role']);
    expect(modeFieldLabels(dialog)).toEqual([]);

    await user.selectOptions(mode, 'Access key pair');
    expect(modeFieldLabels(dialog)).toEqual([
      'Access key ID',
      'Secret access key',
      'Session token (optional)',
      'Region',
      'STS endpoint (optional)',
      'EC2 endpoint (optional)',
      'Default block_ip scope (optional)',
      'Secret expires on (optional)'
    ]);
    await user.type(within(dialog).getByLabelText('Region'), 'eu-west-1');

    // Another mode: its own fields, and nothing typed for the other one is kept.
    await user.selectOptions(mode, 'Assume role');
    const labels = modeFieldLabels(dialog);
    expect(labels).toContain('Role ARN');
    expect(labels).not.toContain('Session token (optional)');
    expect(within(dialog).getByLabelText<HTMLInputElement>('Region').value).toBe('');
  });

  it('a provider with one mode has it chosen; secret inputs are masked, write-only and never autofilled', async () => {
    await startKeydesk();
    const user = userEvent.setup();
    const { dialog } = openAddForm();
    await chooseProvider(user, dialog, 'Hostinger');
    expect(within(dialog).getByLabelText<HTMLSelectElement>('Auth mode').value).toBe('api_token');
    const token = within(dialog).getByLabelText<HTMLInputElement>(/^API token/);
    expect(token.type).toBe('password');
    expect(token.autocomplete).toBe('off');
    expect(token.closest('.field')?.querySelector('.badge')?.textContent).toBe('secret');
    expect(within(dialog).getByLabelText<HTMLInputElement>('API base URL (optional)').type).toBe('url');

    // A multi-line secret is a masked text area; an email field is an email input.
    await user.selectOptions(within(dialog).getByLabelText('Provider'), 'Amazon Web Services');
    await user.selectOptions(within(dialog).getByLabelText('Auth mode'), 'Access key pair');
    const session = within(dialog).getByLabelText(/^Session token/);
    expect(session.tagName).toBe('TEXTAREA');
    expect(session.classList.contains('masked')).toBe(true);
    await user.selectOptions(within(dialog).getByLabelText('Provider'), 'Google Workspace');
    await user.selectOptions(within(dialog).getByLabelText('Auth mode'), 'Service account with domain-wide delegation');
    expect(within(dialog).getByLabelText<HTMLInputElement>('Delegated admin email').type).toBe('email');
  });

  it('without a provider, the Provider select says so, has the focus, and main is not asked', async () => {
    const kd = await startKeydesk();
    const user = userEvent.setup();
    const { dialog, done } = openAddForm();
    await user.type(within(dialog).getByLabelText('Name'), 'VPS main');
    await user.click(within(dialog).getByRole('button', { name: 'Add credential' }));
    const provider = within(dialog).getByLabelText('Provider');
    expect(provider.getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById(provider.getAttribute('aria-describedby') ?? '')?.textContent).toBe('Choose a provider');
    expect(document.activeElement).toBe(provider);
    expect(kd.calls).not.toContain('credentials.add');
    expect(done.closed).toBe(0);
  });

  it('a save main refuses: each field’s message under it, focus on the first, nothing saved, the secret kept but not in the HTML', async () => {
    const kd = await startKeydesk();
    const user = userEvent.setup();
    const { dialog, done } = openAddForm();
    await user.type(within(dialog).getByLabelText('Name'), 'Blocklist');
    await chooseProvider(user, dialog, 'AgentSOC mail blocklist');
    const token = within(dialog).getByLabelText<HTMLInputElement>(/^Bearer token/);
    await user.type(token, `has space ${kd.canary}`);
    await user.type(within(dialog).getByLabelText(/^Blocklist service URL/), 'http://blocklist.example');
    await user.click(within(dialog).getByLabelText(/Validate on save/));
    await user.click(within(dialog).getByRole('button', { name: 'Add credential' }));

    expect((await within(dialog).findByRole('alert')).textContent).toContain('Some fields need fixing; nothing was saved.');
    const url = within(dialog).getByLabelText(/^Blocklist service URL/);
    for (const field of [token, url]) {
      expect(field.getAttribute('aria-invalid')).toBe('true');
      const ids = (field.getAttribute('aria-describedby') ?? '').split(' ');
      expect(ids.some((id) => document.getElementById(id)?.classList.contains('field-error'))).toBe(true);
    }
    expect(within(dialog).getByText(/must use https/)).toBeDefined();
    expect(document.activeElement).toBe(token);

    expect(await kd.call('credentials.list')).toEqual([]);
    expect(kd.auditActions()).toEqual(['vault.init']);
    expect(done).toEqual({ closed: 0, saved: [] });
    expect(token.value).toBe(`has space ${kd.canary}`);
    expect(document.body.innerHTML).not.toContain(kd.canary);
  });

  it('a successful save closes the dialog and the list shows the credential; the typed secret is in the vault, not in the window', async () => {
    const kd = await startKeydesk();
    const user = userEvent.setup();
    const view = renderInWindow(<CredentialsView />);
    await user.click(await screen.findByRole('button', { name: 'Add credential' }));
    const dialog = screen.getByRole('dialog', { name: 'Add a credential' });
    await user.type(within(dialog).getByLabelText('Name'), 'VPS main');
    await chooseProvider(user, dialog, 'Hostinger');
    const token = within(dialog).getByLabelText<HTMLInputElement>(/^API token/);
    await user.type(token, `tok_${kd.canary}`);
    await user.click(within(dialog).getByLabelText(/Validate on save/));
    await user.click(within(dialog).getByRole('button', { name: 'Add credential' }));

    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(await screen.findByRole('rowheader', { name: 'VPS main' })).toBeDefined();
    expect(view.went).toMatchObject([{ name: 'credential' }]);
    expect(kd.storedSecret('VPS main', 'api_token')).toBe(`tok_${kd.canary}`);
    // Not in the HTML, not in a field, and not in the input that was removed (React keeps a reference to it).
    expect(pageText()).not.toContain(kd.canary);
    expect(token.value).toBe('');
  });

  it('validate on save: the form closes only once the provider has answered (here: unreachable), the credential saved', async () => {
    const kd = await startKeydesk();
    const user = userEvent.setup();
    const atClose = { calls: [] as string[], answered: 0 };
    const { dialog, done } = openAddForm(() => Object.assign(atClose, { calls: [...kd.calls], answered: kd.answers.length }));
    await user.type(within(dialog).getByLabelText('Name'), 'VPS main');
    await chooseProvider(user, dialog, 'Hostinger');
    await user.type(within(dialog).getByLabelText(/^API token/), `tok_${kd.canary}`);
    // Nothing listens there: the check ends at once as "unknown", and the credential stays saved.
    await user.type(within(dialog).getByLabelText(/^API base URL/), 'https://127.0.0.1:9');
    await user.click(within(dialog).getByRole('button', { name: 'Add credential' }));
    await waitFor(() => expect(done.closed).toBe(1));
    // By then the window had asked for the check and had its answer (every call it made was answered).
    expect(atClose.calls.filter((c) => c === 'credentials.add' || c === 'validation.validate')).toEqual([
      'credentials.add',
      'validation.validate'
    ]);
    expect(atClose.answered).toBe(atClose.calls.length);
    expect(done.saved.map((c) => c.name)).toEqual(['VPS main']);
    const [stored] = await kd.call('credentials.list');
    expect(stored?.status).toBe('unknown');
    expect(stored?.lastError?.code).toBe('PROVIDER_UNREACHABLE');
  });

  it('a multi-line secret loads from a file into its masked field (not the HTML), and that is what main checks', async () => {
    const kd = await startKeydesk();
    const user = userEvent.setup();
    const { dialog } = openAddForm();
    await user.type(within(dialog).getByLabelText('Name'), 'GCP prod');
    await chooseProvider(user, dialog, 'Google Cloud');
    await user.selectOptions(within(dialog).getByLabelText('Auth mode'), 'Service account key');
    const text = JSON.stringify({ type: 'authorized_user', refresh_token: kd.canary });
    await user.upload(within(dialog).getByLabelText('Load from a file…'), new File([text], 'key.json', { type: 'application/json' }));
    const area = within(dialog).getByLabelText<HTMLTextAreaElement>(/^Service account JSON key/);
    await waitFor(() => expect(area.value).toBe(text));
    expect(document.body.innerHTML).not.toContain(kd.canary);
    await user.click(within(dialog).getByLabelText(/Validate on save/));
    await user.click(within(dialog).getByRole('button', { name: 'Add credential' }));
    await waitFor(() => expect(area.getAttribute('aria-invalid')).toBe('true'));
    expect(within(dialog).getByText(/"type" must be "service_account"/)).toBeDefined();
    expect(await kd.call('credentials.list')).toEqual([]);
    expect(document.body.innerHTML).not.toContain(kd.canary);
  });

  it('an OAuth mode is created by a sign-in: no expiry, Connect; a refused sign-in shows main’s message and stores nothing', async () => {
    const kd = await startKeydesk();
    const user = userEvent.setup();
    const { dialog, done } = openAddForm();
    await user.type(within(dialog).getByLabelText('Name'), 'Workspace admin');
    await chooseProvider(user, dialog, 'Google Workspace');
    await user.selectOptions(within(dialog).getByLabelText('Auth mode'), 'OAuth user consent');
    expect(within(dialog).getByText('Connect with a sign-in')).toBeDefined();
    expect(within(dialog).queryByLabelText('Secret expires on (optional)')).toBeNull();
    expect(within(dialog).queryByLabelText(/Validate on save/)).toBeNull();
    await user.type(within(dialog).getByLabelText('OAuth client ID'), 'client-1.apps.example');
    await user.click(within(dialog).getByRole('button', { name: 'Connect' }));
    // This process has no browser to open (no openExternal): main refuses, and says what to do instead.
    expect((await within(dialog).findByRole('alert')).textContent).toContain('cannot open a browser for a sign-in');
    expect(await kd.call('credentials.list')).toEqual([]);
    expect(done.closed).toBe(0);
  });
});

/** As CredentialDetail has it: the form is there until it closes. */
function Editing(props: { credential: CredentialView; focusSecrets: boolean; onClose: () => void }) {
  const [open, setOpen] = useState(true);
  return open ? (
    <CredentialForm
      mode={{ kind: 'edit', credential: props.credential, focusSecrets: props.focusSecrets }}
      onClose={() => {
        props.onClose();
        setOpen(false);
      }}
    />
  ) : (
    <p>Closed</p>
  );
}

async function editForm(kd: TestKeydesk, credentialName: string, focusSecrets = false) {
  const [c] = (await kd.call('credentials.list')).filter((x) => x.name === credentialName);
  if (!c) throw new Error(`no credential ${credentialName}`);
  const done = { closed: 0 };
  const view = renderInWindow(<Editing credential={c} focusSecrets={focusSecrets} onClose={() => done.closed++} />);
  const dialog = screen.getByRole('dialog', { name: focusSecrets ? `Replace the secrets of ${c.name}` : `Edit ${c.name}` });
  await waitFor(() => expect(dialog.querySelector('fieldset.mode-fields')).not.toBeNull());
  return { ...view, done, dialog };
}

describe('CredentialForm: editing', () => {
  it('fills what is not secret, never a secret: the stored one shows as set and its field is empty', async () => {
    const kd = await startKeydesk();
    await kd.call(
      'credentials.add',
      hostinger('VPS main', { api_token: `tok_${kd.canary}`, api_base_url: 'https://api.hostinger.example' }, { expiresAt: '2031-05-01' })
    );
    const { dialog } = await editForm(kd, 'VPS main');
    const token = within(dialog).getByLabelText<HTMLInputElement>(/^Replace API token \(optional\)/);
    expect(token.type).toBe('password');
    expect(token.value).toBe('');
    expect(token.placeholder).toBe('set — type to replace');
    expect(within(dialog).getByText('secret · set')).toBeDefined();
    expect(within(dialog).getByText(/A value is set\. Leave empty to keep it\./)).toBeDefined();
    expect(within(dialog).getByLabelText<HTMLInputElement>('API base URL (optional)').value).toBe('https://api.hostinger.example');
    expect(within(dialog).getByLabelText<HTMLInputElement>('Secret expires on (optional)').value).toBe('2031-05-01');
    expect(within(dialog).getByLabelText<HTMLInputElement>('Name').value).toBe('VPS main');
    expect(pageText()).not.toContain(kd.canary);
  });

  it('saving nothing changed says so and writes nothing', async () => {
    const kd = await startKeydesk();
    await kd.call('credentials.add', hostinger('VPS main'));
    const user = userEvent.setup();
    const { dialog, done } = await editForm(kd, 'VPS main');
    const audit = kd.auditActions();
    await user.click(within(dialog).getByRole('button', { name: 'Save changes' }));
    expect(within(dialog).getByRole('alert').textContent).toBe('Nothing changed.');
    expect(kd.calls.filter((c) => c === 'credentials.update' || c === 'credentials.rename')).toEqual([]);
    expect(kd.auditActions()).toEqual(audit);
    expect(done.closed).toBe(0);
  });

  it('a setting changed with the secrets left empty keeps them', async () => {
    const kd = await startKeydesk();
    await kd.call('credentials.add', {
      name: 'AWS prod',
      provider: 'aws',
      mode: 'access_key',
      values: { access_key_id: 'AKIAIOSFODNN7EXAMPLE', secret_access_key: `${kd.canary}wJalrXUtnFEMIK7MDENGbPxRfiCY`, region: 'us-east-1' }
    });
    const user = userEvent.setup();
    const { dialog, done } = await editForm(kd, 'AWS prod');
    const region = within(dialog).getByLabelText<HTMLInputElement>('Region');
    expect(region.value).toBe('us-east-1');
    await user.clear(region);
    await user.type(region, 'eu-west-1');
    await user.click(within(dialog).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(done.closed).toBe(1));
    const [c] = await kd.call('credentials.list');
    expect(c?.metadata.region).toBe('eu-west-1');
    expect(kd.storedSecret('AWS prod', 'secret_access_key')).toBe(`${kd.canary}wJalrXUtnFEMIK7MDENGbPxRfiCY`);
  });

  it('where a secret may be sent is not changed without the secret: main’s message shows under the field', async () => {
    const kd = await startKeydesk();
    await kd.call('credentials.add', hostinger('VPS main', { api_token: `tok_${kd.canary}` }));
    const user = userEvent.setup();
    const { dialog, done } = await editForm(kd, 'VPS main');
    await user.type(within(dialog).getByLabelText('API base URL (optional)'), 'https://api.hostinger.example');
    await user.click(within(dialog).getByRole('button', { name: 'Save changes' }));
    const token = within(dialog).getByLabelText(/^Replace API token/);
    await waitFor(() => expect(token.getAttribute('aria-invalid')).toBe('true'));
    expect(within(dialog).getByText('Enter API token again to change API base URL')).toBeDefined();
    expect(document.activeElement).toBe(token);
    expect(done.closed).toBe(0);
    const [c] = await kd.call('credentials.list');
    expect(c?.metadata.api_base_url).toBeUndefined();
    expect(kd.storedSecret('VPS main', 'api_token')).toBe(`tok_${kd.canary}`);
  });

  it('“Replace the secrets”: the focus is in the first secret field; a new secret replaces the stored one', async () => {
    const kd = await startKeydesk();
    await kd.call('credentials.add', hostinger('VPS main'));
    const user = userEvent.setup();
    const { dialog, done } = await editForm(kd, 'VPS main', true);
    const token = within(dialog).getByLabelText<HTMLInputElement>(/^Replace API token/);
    expect(document.activeElement).toBe(token);
    await user.type(token, `new_${kd.canary}`);
    await user.click(within(dialog).getByLabelText(/Validate on save/));
    await user.click(within(dialog).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(done.closed).toBe(1));
    expect(kd.storedSecret('VPS main', 'api_token')).toBe(`new_${kd.canary}`);
    expect(kd.auditActions()).toContain('credential.rotate_secret');
    // Closed: the typed secret is in no HTML, no field, and not in the input React removed.
    expect(screen.getByText('Closed')).toBeDefined();
    expect(pageText()).not.toContain(kd.canary);
    expect(token.value).toBe('');
  });
});

describe('formFieldErrors', () => {
  it('keys main’s field messages as the form’s inputs are, and keeps the rest for the summary', () => {
    expect(
      formFieldErrors({
        'values.api_token': 'Too short',
        name: 'Name taken',
        expires_at: 'Use YYYY-MM-DD',
        'values.scopes.0': 'Unknown scope',
        input: 'Unknown field'
      })
    ).toEqual({
      byField: { api_token: 'Too short', name: 'Name taken', expiresAt: 'Use YYYY-MM-DD' },
      other: ['Unknown scope', 'Unknown field']
    });
  });
});
