import { describe, expect, it } from 'vitest';
import { credentialSummary as summary } from '../testing/fixtures.ts';
import { expiryView, lifecycleOf, readinessOf, rotationView, suggestionsOf } from './lifecycle.ts';
import { defaultRegistry } from '../providers/registry.ts';

const NOW = new Date('2026-11-21T12:00:00.000Z');

describe('expiryView', () => {
  it('says "expires in 3 days" and flags it soon', () => {
    expect(expiryView('2026-11-24T12:00:00.000Z', 'analyst', NOW)).toMatchObject({ state: 'soon', label: 'expires in 3 days' });
  });
  it('says "expired 2 days ago"', () => {
    expect(expiryView('2026-11-19T12:00:00.000Z', 'provider', NOW)).toMatchObject({ state: 'expired', label: 'expired 2 days ago' });
  });
  it('is ok further out, and null when unknown or unreadable', () => {
    expect(expiryView('2027-03-01T00:00:00.000Z', 'secret', NOW)?.state).toBe('ok');
    expect(expiryView(null, null, NOW)).toBeNull();
    expect(expiryView('not a date', null, NOW)).toBeNull();
  });
  it('an expiry exactly now is expired', () => {
    expect(expiryView(NOW.toISOString(), 'analyst', NOW)?.state).toBe('expired');
  });
});

describe('rotationView (against the mode’s rotationDays)', () => {
  it('is due once the policy’s days have passed since the last rotation', () => {
    const r = rotationView('2026-08-01T00:00:00.000Z', 90, NOW);
    expect(r).toMatchObject({ due: true, soon: false, dueAt: '2026-10-30T00:00:00.000Z' });
    expect(r?.label).toBe('rotation due (last rotated 112 days ago; policy: every 90 days)');
  });
  it('is "due in 10 days" within the warning window', () => {
    const r = rotationView('2026-09-02T12:00:00.000Z', 90, NOW);
    expect(r).toMatchObject({ due: false, soon: true, label: 'rotation due in 10 days' });
  });
  it('is quiet when far off', () => {
    expect(rotationView('2026-11-20T00:00:00.000Z', 90, NOW)).toMatchObject({ due: false, soon: false });
  });
});

describe('lifecycleOf', () => {
  it('uses the mode’s policy (hostinger api_token: 90 days) and the stored expiry', () => {
    const l = lifecycleOf(
      summary({ rotatedAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-11-24T12:00:00.000Z', expirySource: 'analyst' }),
      defaultRegistry,
      NOW
    );
    expect(l.rotation?.due).toBe(true);
    expect(l.rotation?.policyDays).toBe(90);
    expect(l.expiry?.label).toBe('expires in 3 days');
    expect(l.session).toBeNull();
  });
  it('keeps a role session’s expiry apart from the credential’s', () => {
    const l = lifecycleOf(
      summary({ provider: 'aws', mode: 'assume_role', observed: { identity: { session_expires_at: '2026-11-21T11:00:00.000Z' } } }),
      defaultRegistry,
      NOW
    );
    expect(l.expiry).toBeNull();
    expect(l.session?.label).toBe('session ended 1 h ago (a new one is made at each use)');
  });
});

describe('readinessOf', () => {
  it('not validated yet: unknown, with what the capability needs', () => {
    expect(readinessOf(summary(), defaultRegistry).lines).toEqual([
      {
        capability: 'power',
        label: 'Power a VPS off (revert: start it)',
        ready: null,
        missing: [],
        needs: ['API token with VPS access on an account with a VPS plan'],
        note: 'Not validated yet.'
      }
    ]);
  });
  it('reports what validation learned, naming the missing permission', () => {
    const c = summary({
      status: 'ok',
      checkedAt: NOW.toISOString(),
      observed: { readiness: [{ capability: 'power', ready: false, missing: ['VPS API access'] }] }
    });
    expect(readinessOf(c, defaultRegistry).lines[0]).toMatchObject({ ready: false, missing: ['VPS API access'] });
  });
  it('a failed or expired credential is ready for nothing, whatever an earlier validation said', () => {
    const c = summary({ status: 'expired', observed: { readiness: [{ capability: 'power', ready: true, missing: [] }] } });
    expect(readinessOf(c, defaultRegistry).lines[0]).toMatchObject({
      ready: false,
      note: 'The credential is expired: fix it and validate again.'
    });
  });
  it('a capability the mode cannot perform is not ready, whatever the provider said', () => {
    const c = summary({
      provider: 'microsoft_365',
      mode: 'oauth_delegated',
      status: 'ok',
      observed: { readiness: [{ capability: 'block_email_domain', ready: true, missing: [] }] }
    });
    const line = readinessOf(c, defaultRegistry).lines.find((l) => l.capability === 'block_email_domain');
    expect(line).toMatchObject({ ready: false, note: 'Not available with the oauth_delegated mode (needs client_secret or certificate).' });
  });
  it('says so when a provider has no capabilities (a generic OAuth token)', () => {
    expect(readinessOf(summary({ provider: 'oauth', mode: 'authorization_code' }), defaultRegistry)).toEqual({
      known: true,
      lines: [],
      note: 'OAuth (any provider) has no response capabilities in this version of Keydesk: it is validated only.'
    });
  });
  it('marks last-known readiness when the latest check was inconclusive', () => {
    const c = summary({
      status: 'unknown',
      checkedAt: NOW.toISOString(),
      observed: { readiness: [{ capability: 'power', ready: true, missing: [] }] }
    });
    expect(readinessOf(c, defaultRegistry).lines[0]?.note).toBe('(last known; the latest check was inconclusive)');
  });
});

describe('suggestionsOf', () => {
  it('returns only the domain strings validation stored', () => {
    expect(suggestionsOf(summary({ observed: { suggestions: ['contoso.com', 42, 'fabrikam.com'] } }))).toEqual([
      'contoso.com',
      'fabrikam.com'
    ]);
    expect(suggestionsOf(summary())).toEqual([]);
  });
});
