import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { domainAndParents, isWithin, normaliseDomain, normaliseMailbox } from './domains.ts';

const code = (fn: () => unknown) => {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return (e as { code?: string }).code;
  }
};

describe('normaliseDomain', () => {
  it('lower-cases, drops one trailing dot and trims', () => {
    expect(normaliseDomain('  Corp.EXAMPLE. ')).toBe('corp.example');
    expect(normaliseDomain('mail.Corp.Example')).toBe('mail.corp.example');
  });

  it('turns internationalised names into their ASCII (punycode) form with the platform IDNA', () => {
    expect(normaliseDomain('Bücher.Example')).toBe('xn--bcher-kva.example');
    expect(normaliseDomain('例え.テスト')).toBe('xn--r8jz45g.xn--zckzah');
    // Full-width letters are mapped, as browsers do.
    expect(normaliseDomain('ＣＯＲＰ.example')).toBe('corp.example');
    // The ASCII form normalises to itself.
    expect(normaliseDomain('xn--bcher-kva.example')).toBe('xn--bcher-kva.example');
  });

  it.each([
    ['', 'empty'],
    ['corp', 'one label'],
    ['corp..example', 'an empty label'],
    ['.corp.example', 'a leading dot'],
    ['corp.example..', 'two trailing dots'],
    ['-corp.example', 'a leading hyphen'],
    ['corp-.example', 'a trailing hyphen'],
    ['a_b.example', 'an underscore'],
    ['*.corp.example', 'a wildcard'],
    ['corp.example/', 'a slash (domainToASCII would drop it)'],
    ['https://corp.example', 'a URL'],
    ['alice@corp.example', 'an email address'],
    ['corp example.com', 'a space'],
    ['corp.example:443', 'a port'],
    ['10.0.0.1', 'an IP address'],
    ['corp.123', 'a numeric top-level label'],
    ['xn--zz.example', 'broken punycode'],
    [`${'a'.repeat(64)}.example`, 'a 64-character label'],
    [`${'abcdefghi.'.repeat(25)}example`, 'more than 253 characters']
  ])('refuses %j (%s) with INPUT_INVALID', (input) => {
    expect(code(() => normaliseDomain(input))).toBe('INPUT_INVALID');
  });

  it('refuses values that are not text', () => {
    for (const v of [undefined, null, 42, {}, ['corp.example']]) expect(code(() => normaliseDomain(v))).toBe('INPUT_INVALID');
  });

  it('names the field in the error, never with a stack or object text', () => {
    try {
      normaliseDomain('bad domain', 'host_domain');
    } catch (e) {
      expect((e as { fields?: Record<string, string> }).fields).toHaveProperty('host_domain');
      expect((e as Error).message).toMatch(/^"bad domain" is not a domain name/);
      expect((e as Error).message).not.toMatch(/object Object|at .*\.ts/);
    }
  });

  it('is idempotent: a normalised domain normalises to itself (property)', () => {
    const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
    fc.assert(
      fc.property(
        fc.array(label, { minLength: 1, maxLength: 4 }),
        fc.constantFrom('com', 'example', 'de', 'co'),
        fc.boolean(),
        (labels, tld, upper) => {
          const d = [...labels, tld].join('.');
          const once = normaliseDomain(upper ? d.toUpperCase() : `${d}.`);
          expect(once).toBe(d);
          expect(normaliseDomain(once)).toBe(once);
        }
      )
    );
  });
});

describe('normaliseMailbox', () => {
  it('normalises the domain part and lower-cases the address', () => {
    expect(normaliseMailbox(' Alice.Smith+soc@Corp.Example. ')).toEqual({
      address: 'alice.smith+soc@corp.example',
      local: 'alice.smith+soc',
      domain: 'corp.example'
    });
    expect(normaliseMailbox('bob@Bücher.example').address).toBe('bob@xn--bcher-kva.example');
  });

  it.each([
    ['alice', 'no @'],
    ['@corp.example', 'no local part'],
    ['alice@', 'no domain'],
    ['alice@@corp.example', 'two @'],
    ['a@b@corp.example', 'two @ apart'],
    ['.alice@corp.example', 'a leading dot'],
    ['alice.@corp.example', 'a trailing dot'],
    ['al..ice@corp.example', 'a doubled dot'],
    ['"alice"@corp.example', 'a quoted local part'],
    ['al ice@corp.example', 'a space'],
    ['alice@corp', 'a one-label domain'],
    ['alice@10.0.0.1', 'an IP domain'],
    ['alice@[10.0.0.1]', 'an address literal'],
    ['élodie@corp.example', 'a non-ASCII local part'],
    [`${'a'.repeat(65)}@corp.example`, 'a 65-character local part'],
    ['alice@corp.example\nbcc: x@evil.example', 'a header injection']
  ])('refuses %j (%s) with INPUT_INVALID', (input) => {
    expect(code(() => normaliseMailbox(input))).toBe('INPUT_INVALID');
  });
});

describe('domainAndParents / isWithin', () => {
  it('lists the domain and each parent with at least two labels, most specific first', () => {
    expect(domainAndParents('a.b.corp.example')).toEqual(['a.b.corp.example', 'b.corp.example', 'corp.example']);
    expect(domainAndParents('corp.example')).toEqual(['corp.example']);
  });

  it('compares by labels: evilcorp.example is not within corp.example', () => {
    expect(isWithin('mail.corp.example', 'corp.example')).toBe(true);
    expect(isWithin('corp.example', 'corp.example')).toBe(true);
    expect(isWithin('evilcorp.example', 'corp.example')).toBe(false);
    expect(isWithin('corp.example', 'mail.corp.example')).toBe(false);
  });
});
