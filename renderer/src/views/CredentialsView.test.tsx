import { screen, waitFor } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { startKeydesk } from '#keydesk';
import { renderInWindow } from '../testing/render.tsx';
import { hostinger } from '../testing/samples.ts';
import { CredentialsView } from './CredentialsView.tsx';

describe('Credentials: the "Due soon" filter', () => {
  it('keeps the credentials whose secret expires soon (or has) and hides the rest; All shows every one again', async () => {
    const kd = await startKeydesk();
    const soon = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    const later = new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10);
    await kd.call('credentials.add', hostinger('Expires soon', {}, { expiresAt: soon }));
    await kd.call('credentials.add', hostinger('Expired', {}, { expiresAt: '2020-01-01' }));
    await kd.call('credentials.add', hostinger('Fine', {}, { expiresAt: later }));
    const user = userEvent.setup();
    renderInWindow(<CredentialsView />);
    await screen.findByRole('rowheader', { name: 'Fine' });
    await user.selectOptions(screen.getByLabelText('Health'), 'Due soon (rotation or expiry)');
    await waitFor(() =>
      expect(screen.getAllByRole('rowheader').map((h) => h.textContent)).toEqual(expect.arrayContaining(['Expires soon', 'Expired']))
    );
    expect(screen.getAllByRole('rowheader')).toHaveLength(2);
    await user.selectOptions(screen.getByLabelText('Health'), 'All');
    await waitFor(() => expect(screen.getAllByRole('rowheader')).toHaveLength(3));
  });
});
