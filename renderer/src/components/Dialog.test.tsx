import { render, screen } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import { Dialog } from './Dialog.tsx';

/** A page with a button that opens the dialog, and a control after it that focus must not reach while it is open. */
function Page(props: { onClose?: (version: string) => void; version?: string }) {
  const [open, setOpen] = useState(false);
  const version = props.version ?? 'v1';
  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>
        Edit VPS main
      </button>
      {open ? (
        <Dialog
          title="Edit VPS main"
          onClose={() => {
            props.onClose?.(version);
            setOpen(false);
          }}
        >
          <label htmlFor="name">Name</label>
          <input id="name" data-autofocus />
          <label htmlFor="hidden-field">Hidden</label>
          <input id="hidden-field" hidden />
          <button type="button" disabled>
            Disabled
          </button>
          <button type="button">Save changes</button>
        </Dialog>
      ) : null}
      <button type="button">After the dialog</button>
    </>
  );
}

async function openDialog() {
  const user = userEvent.setup();
  const view = render(<Page />);
  await user.click(screen.getByRole('button', { name: 'Edit VPS main' }));
  return { user, view, dialog: screen.getByRole('dialog', { name: 'Edit VPS main' }) };
}

describe('Dialog', () => {
  it('opens modal, named by its title, with the focus on its first field', async () => {
    const { dialog } = await openDialog();
    expect((dialog as HTMLDialogElement).open).toBe(true);
    expect(document.activeElement).toBe(screen.getByLabelText('Name'));
  });

  it('Tab past the last control wraps to the first, Shift+Tab back past the first wraps to the last', async () => {
    const { user } = await openDialog();
    const close = screen.getByRole('button', { name: 'Close' });
    const save = screen.getByRole('button', { name: 'Save changes' });
    await user.tab();
    // The hidden field and the disabled button are skipped.
    expect(document.activeElement).toBe(save);
    await user.tab();
    expect(document.activeElement).toBe(close);
    await user.tab({ shift: true });
    expect(document.activeElement).toBe(save);
    expect(screen.getByRole('button', { name: 'After the dialog' })).not.toBe(document.activeElement);
  });

  it('Escape closes it, and the focus goes back to the button that opened it', async () => {
    const { user } = await openDialog();
    await user.type(screen.getByLabelText('Name'), 'VPS');
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Edit VPS main' }));
  });

  it('the ✕ button closes it', async () => {
    const { user } = await openDialog();
    await user.click(screen.getByRole('button', { name: 'Close' }));
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('a parent re-render (a new onClose) neither reopens it nor moves the focus, and Escape runs the latest onClose', async () => {
    const closed: string[] = [];
    const user = userEvent.setup();
    const view = render(<Page onClose={(v) => closed.push(v)} version="v1" />);
    await user.click(screen.getByRole('button', { name: 'Edit VPS main' }));
    const name = screen.getByLabelText<HTMLInputElement>('Name');
    await user.type(name, 'VPS');
    view.rerender(<Page onClose={(v) => closed.push(v)} version="v2" />);
    expect(document.activeElement).toBe(name);
    await user.type(name, ' main');
    expect(name.value).toBe('VPS main');
    await user.keyboard('{Escape}');
    expect(closed).toEqual(['v2']);
  });
});
