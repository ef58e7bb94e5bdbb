import { describe, expect, it } from 'vitest';
import { dedupeKey, validateReason, validateRunRequest, type RunRequestInput } from './inputs.ts';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return (e as { code?: string }).code;
  }
};

const base = { reason: 'phishing campaign INC-42' };

describe('validateRunRequest', () => {
  it('normalises a tenant run: target, host and reason', () => {
    expect(
      validateRunRequest({ ...base, capability: 'block_sender', target: 'Evil@Phish.Example', hostEmail: 'CEO@Corp.Example' })
    ).toEqual({
      capability: 'block_sender',
      target: 'evil@phish.example',
      host: { kind: 'email', value: 'ceo@corp.example', domain: 'corp.example' },
      reason: 'phishing campaign INC-42',
      credential: null
    });
    expect(
      validateRunRequest({ ...base, capability: 'block_email_domain', target: 'Phish.Example.', hostDomain: 'corp.example' })
    ).toMatchObject({
      target: 'phish.example',
      host: { kind: 'domain', value: 'corp.example' }
    });
  });

  it('disable_user defaults its host to the user’s own domain and refuses a user outside the named host', () => {
    expect(validateRunRequest({ ...base, capability: 'disable_user', target: 'alice@corp.example' }).host).toEqual({
      kind: 'domain',
      value: 'corp.example',
      domain: 'corp.example'
    });
    expect(
      validateRunRequest({ ...base, capability: 'disable_user', target: 'alice@eu.corp.example', hostDomain: 'corp.example' }).host?.value
    ).toBe('corp.example');
    expect(
      codeOf(() => validateRunRequest({ ...base, capability: 'disable_user', target: 'alice@other.example', hostDomain: 'corp.example' }))
    ).toBe('INPUT_INVALID');
  });

  it('power acts on a resource: it needs a credential and takes no host', () => {
    expect(validateRunRequest({ ...base, capability: 'power', target: '1234', credential: 'VPS' })).toMatchObject({
      target: '1234',
      host: null,
      credential: 'VPS'
    });
    expect(codeOf(() => validateRunRequest({ ...base, capability: 'power', target: '1234' }))).toBe('INPUT_INVALID');
    expect(
      codeOf(() => validateRunRequest({ ...base, capability: 'power', target: '1234', credential: 'VPS', hostDomain: 'corp.example' }))
    ).toBe('INPUT_INVALID');
  });

  it.each<[Record<string, unknown>, string]>([
    [{ capability: 'launch_missiles', target: 'x@y.example', hostEmail: 'a@corp.example' }, 'an unknown capability'],
    [{ capability: 'block_sender', target: 'not-an-email', hostEmail: 'a@corp.example' }, 'a malformed sender'],
    [{ capability: 'block_sender', target: 'evil@phish.example', hostEmail: 'corp.example' }, 'a malformed protected mailbox'],
    [{ capability: 'block_sender', target: 'evil@phish.example', hostDomain: 'corp.example' }, 'block_sender with a domain host'],
    [{ capability: 'block_sender', target: 'evil@phish.example' }, 'no host'],
    [{ capability: 'block_email_domain', target: 'evil@phish.example', hostDomain: 'corp.example' }, 'an email as a domain target'],
    [{ capability: 'block_email_domain', target: 'phish.example', hostDomain: 'corp.example', hostEmail: 'a@corp.example' }, 'two hosts'],
    [{ capability: 'block_email_domain', target: 'corp.example', hostDomain: 'corp.example' }, 'blocking the protected domain itself'],
    [
      { capability: 'block_email_domain', target: 'corp.example', hostEmail: 'a@mail.corp.example' },
      'blocking a parent of the protected host'
    ],
    [{ capability: 'block_sender', target: 'a@corp.example', hostEmail: 'A@corp.example' }, 'a mailbox blocking itself'],
    [{ capability: 'disable_user', target: '', hostDomain: 'corp.example' }, 'an empty target'],
    [{ capability: 'power', target: '../../etc', credential: 'VPS' }, 'a path as a resource id'],
    [{ capability: 'block_ip', target: '999.1.1.1', credential: 'X' }, 'a bad IP']
  ])('refuses %j (%s) with INPUT_INVALID', (input) => {
    expect(codeOf(() => validateRunRequest({ ...base, ...input } as RunRequestInput))).toBe('INPUT_INVALID');
  });

  it('requires a one-line reason', () => {
    expect(validateReason('  why  ')).toBe('why');
    for (const bad of [undefined, '', '   ', 'two\nlines', 'esc\u001b[31m', 'x'.repeat(501), 42])
      expect(codeOf(() => validateReason(bad))).toBe('INPUT_INVALID');
  });
});

describe('dedupeKey', () => {
  it('is equal for the same action and differs by credential, target and host', () => {
    const r = validateRunRequest({ ...base, capability: 'block_sender', target: 'evil@phish.example', hostEmail: 'ceo@corp.example' });
    const again = validateRunRequest({
      reason: 'other words',
      capability: 'block_sender',
      target: 'EVIL@phish.example',
      hostEmail: 'Ceo@Corp.example'
    });
    expect(dedupeKey(again, 'c1')).toBe(dedupeKey(r, 'c1'));
    expect(dedupeKey(r, 'c2')).not.toBe(dedupeKey(r, 'c1'));
    expect(dedupeKey({ ...r, target: 'other@phish.example' }, 'c1')).not.toBe(dedupeKey(r, 'c1'));
    expect(dedupeKey({ ...r, host: { kind: 'email', value: 'cfo@corp.example', domain: 'corp.example' } }, 'c1')).not.toBe(
      dedupeKey(r, 'c1')
    );
  });
});
