import { render, screen } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { PassphraseField } from './PassphraseField.tsx';

const PASSPHRASE = 'CANARYpassphrase-7f3a91';

describe('PassphraseField', () => {
  it('is a password field that reports what is typed, and never writes it into the page’s HTML', async () => {
    const seen: string[] = [];
    const user = userEvent.setup();
    render(<PassphraseField id="pass" onChange={(v) => seen.push(v)} />);
    const input = screen.getByLabelText<HTMLInputElement>('Vault passphrase (the vault is locked)');
    expect(input.type).toBe('password');
    expect(input.autocomplete).toBe('current-password');
    await user.type(input, PASSPHRASE);
    expect(seen.at(-1)).toBe(PASSPHRASE);
    expect(input.value).toBe(PASSPHRASE);
    expect(input.hasAttribute('value')).toBe(false);
    expect(document.body.innerHTML).not.toContain(PASSPHRASE);
  });

  it('shows its error under the field, tied to it', () => {
    render(<PassphraseField id="pass" onChange={() => undefined} error="Wrong passphrase" />);
    const input = screen.getByLabelText('Vault passphrase (the vault is locked)');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById(input.getAttribute('aria-describedby') ?? '')?.textContent).toBe('Wrong passphrase');
  });

  it('empties itself when it leaves the page, even while focused (the element React keeps must not hold it)', async () => {
    const user = userEvent.setup();
    const view = render(<PassphraseField id="pass" onChange={() => undefined} />);
    const input = screen.getByLabelText<HTMLInputElement>('Vault passphrase (the vault is locked)');
    await user.type(input, PASSPHRASE);
    expect(document.activeElement).toBe(input);
    view.rerender(<p>Unlocked</p>);
    expect(input.isConnected).toBe(false);
    expect(input.value).toBe('');
  });
});
