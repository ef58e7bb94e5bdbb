import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../providers/registry.ts';
import { credentialSummary } from '../testing/fixtures.ts';
import type { CredentialSummary } from '../vault/credential-store.ts';
import { credentialView as viewWith } from './view.ts';

const credentialView = (c: CredentialSummary, now: Date) => viewWith(c, defaultRegistry, now);

const NOW = new Date('2026-11-21T12:00:00.000Z');

/** A blocklist token (one capability, 90-day rotation) last rotated on 1 August. */
const summary = (over: Partial<CredentialSummary>) =>
  credentialSummary({
    name: 'Blocklist',
    provider: 'agentsoc_mail_block',
    mode: 'bearer_token',
    secretsSet: ['token'],
    rotatedAt: '2026-08-01T00:00:00.000Z',
    ...over
  });

describe('the credential view (IPC answers and CLI --json alike) follows the lifecycle rules', () => {
  it('a failed credential never reads "ready", whatever an earlier validation stored', () => {
    const stale = { readiness: [{ capability: 'block_email_domain', ready: true, missing: [] }] };
    const ok = credentialView(summary({ status: 'ok', checkedAt: NOW.toISOString(), observed: stale }), NOW);
    expect(ok.readiness.lines).toEqual([expect.objectContaining({ capability: 'block_email_domain', ready: true })]);
    const failed = credentialView(summary({ status: 'failed', checkedAt: NOW.toISOString(), observed: stale }), NOW);
    expect(failed.readiness.lines).toEqual([
      expect.objectContaining({ capability: 'block_email_domain', ready: false, note: expect.stringContaining('failed') })
    ]);
  });

  it('readiness is unknown before the first validation, and an empty list with a note for a provider without capabilities', () => {
    expect(credentialView(summary({}), NOW).readiness).toMatchObject({ known: false, lines: [expect.objectContaining({ ready: null })] });
    expect(
      credentialView(summary({ provider: 'oauth', mode: 'authorization_code', checkedAt: NOW.toISOString(), status: 'ok' }), NOW).readiness
    ).toEqual({ known: true, lines: [], note: expect.stringContaining('validated only') });
  });

  it('rotation is due by the mode’s policy (90 days for a bearer token)', () => {
    const v = credentialView(summary({}), NOW);
    expect(v.rotationDueAt).toBe('2026-10-30T00:00:00.000Z');
    expect(v.rotationDue).toBe(true);
    expect(credentialView(summary({ rotatedAt: '2026-11-20T00:00:00.000Z' }), NOW).rotationDue).toBe(false);
  });
});
