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
      credential: null,
      scope: null,
      options: {}
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

  it('power acts on a resource: it takes no host; the credential is optional (the account’s one is picked)', () => {
    expect(validateRunRequest({ ...base, capability: 'power', target: '1234', credential: 'VPS' })).toMatchObject({
      target: '1234',
      host: null,
      credential: 'VPS'
    });
    expect(validateRunRequest({ ...base, capability: 'power', target: '1234' }).credential).toBeNull();
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
    [{ capability: 'block_ip', target: '999.1.1.1', credential: 'X' }, 'a bad IP'],
    [{ capability: 'block_ip', target: '010.1.1.1' }, 'an IPv4 address with a leading zero (octal in some parsers)'],
    [{ capability: 'block_ip', target: '203.0.113.7/24' }, 'a CIDR block with host bits set'],
    [{ capability: 'block_ip', target: '0.0.0.0/0' }, 'the whole IPv4 internet'],
    [{ capability: 'block_ip', target: '::/0' }, 'the whole IPv6 internet'],
    [{ capability: 'block_ip', target: '10.0.0.0/33' }, 'a prefix longer than the address'],
    [{ capability: 'block_ip', target: '2001:db8::1::2' }, 'two :: in an IPv6 address'],
    [{ capability: 'block_ip', target: '2001:db8:1:2:3:4:5:6:7' }, 'nine IPv6 groups'],
    [{ capability: 'block_ip', target: '203.0.113.7', scope: 'acl-1', options: { cut: 'yes' } }, 'an option that is not yes/no'],
    [{ capability: 'isolate', target: 'i-0abc', scope: 'vpc-1' }, 'a scope for a capability that takes none'],
    [
      { capability: 'block_sender', target: 'e@phish.example', hostEmail: 'a@corp.example', options: { x: true } },
      'options on a tenant run'
    ],
    [{ capability: 'isolate', target: '/subscriptions//resourceGroups' }, 'an empty path segment in a resource id']
  ])('refuses %j (%s) with INPUT_INVALID', (input) => {
    expect(codeOf(() => validateRunRequest({ ...base, ...input } as RunRequestInput))).toBe('INPUT_INVALID');
  });

  it.each([
    ['203.0.113.7', '203.0.113.7'],
    [' 198.51.100.0/24 ', '198.51.100.0/24'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8::/48', '2001:db8::/48'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['10.0.0.0/8', '10.0.0.0/8']
  ])('block_ip normalises %s to %s', (input, want) => {
    expect(validateRunRequest({ ...base, capability: 'block_ip', target: input }).target).toBe(want);
  });

  it('names the block a CIDR with host bits set probably means', () => {
    expect(() => validateRunRequest({ ...base, capability: 'block_ip', target: '203.0.113.7/24' })).toThrow(/203\.0\.113\.0\/24/);
  });

  it('takes cloud resource ids as their clouds write them, and a scope and yes/no options for block_ip', () => {
    for (const t of [
      'i-0123456789abcdef0',
      'arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0',
      'projects/acme-prod/zones/europe-west1-b/instances/web-1',
      '/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-(prod).1/providers/Microsoft.Compute/virtualMachines/vm1'
    ])
      expect(validateRunRequest({ ...base, capability: 'isolate', target: t }).target).toBe(t);
    expect(
      validateRunRequest({ ...base, capability: 'block_ip', target: '203.0.113.7', scope: 'acl-0abc', options: { both_ways: true } })
    ).toMatchObject({ scope: 'acl-0abc', options: { both_ways: true } });
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

  it('differs by scope (one address blocked in two ACLs is two actions), not by options', () => {
    const r = { capability: 'block_ip', target: '203.0.113.7', host: null };
    expect(dedupeKey({ ...r, scope: 'acl-1' }, 'c1')).not.toBe(dedupeKey({ ...r, scope: 'acl-2' }, 'c1'));
    expect(dedupeKey({ ...r, scope: null }, 'c1')).toBe(dedupeKey(r, 'c1'));
  });
});
