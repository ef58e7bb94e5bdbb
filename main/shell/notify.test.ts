import { describe, expect, it } from 'vitest';
import { reauthNotification } from './notify.ts';

describe('re-auth OS notification', () => {
  const now = new Date('2026-11-21T12:00:00Z');
  it('says which credential, how many actions wait, how to fix it and how long is left', () => {
    expect(reauthNotification({ credentialId: 'c', credentialName: 'M365 Corp', state: 'raised', deadline: '2026-11-21T12:45:00Z', waiting: 2, method: 'oauth' }, now)).toEqual({
      title: 'Re-authenticate M365 Corp',
      body: '2 actions wait on M365 Corp. Sign in again within 45 min, or they will not run.'
    });
    expect(reauthNotification({ credentialId: 'c', credentialName: 'Blocklist', state: 'raised', deadline: '2026-11-21T15:00:00Z', waiting: 1, method: 'secret' }, now)?.body).toBe(
      '1 action waits on Blocklist. Enter its secret again within 3 hours, or it will not run.'
    );
  });
  it('nothing for a prompt that was resolved or expired', () => {
    expect(reauthNotification({ credentialId: 'c', credentialName: 'X', state: 'resolved', deadline: '2026-11-21T12:45:00Z', waiting: 0, method: 'oauth' }, now)).toBeNull();
    expect(reauthNotification({ credentialId: 'c', credentialName: 'X', state: 'expired', deadline: '2026-11-21T12:45:00Z', waiting: 0, method: 'oauth' }, now)).toBeNull();
  });
});
