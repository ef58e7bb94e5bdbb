import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  REDACTED,
  base64Cores,
  cleanErrorCode,
  cleanProviderText,
  printableText,
  scrubDeep,
  scrubSecrets,
  secretVariants
} from './scrub.ts';

const TOKEN = 'canary-Tok3n/with+special=chars&<xml>"quoted"';

describe('scrubSecrets: a provider echoing a secret never gets it stored or shown', () => {
  it('redacts the raw value wherever it appears', () => {
    expect(scrubSecrets(`invalid token ${TOKEN} (token ${TOKEN})`, [TOKEN])).toBe(`invalid token ${REDACTED} (token ${REDACTED})`);
  });

  it('redacts the URL-encoded, form-encoded, JSON-escaped and XML-escaped forms', () => {
    for (const encoded of [
      encodeURIComponent(TOKEN),
      encodeURIComponent(TOKEN).replace(/%20/g, '+'),
      JSON.stringify(TOKEN).slice(1, -1),
      TOKEN.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
    ]) {
      const out = scrubSecrets(`<Message>bad ${encoded}</Message>`, [TOKEN]);
      expect(out, encoded).not.toContain(encoded);
      expect(out).toContain(REDACTED);
    }
  });

  it('redacts a truncated echo of a long secret (the first 20 characters of it)', () => {
    const secret = 'sk_live_0123456789abcdefghijklmnopqrstuvwxyz';
    const out = scrubSecrets(`rejected key ${secret.slice(0, 20)}… please check`, [secret]);
    expect(out).not.toContain(secret.slice(0, 20));
    expect(out).toContain('rejected key');
  });

  it('redacts the private key inside a JSON key file, and each line of its PEM body', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const json = JSON.stringify({ type: 'service_account', client_email: 'robot@example.iam.gserviceaccount.com', private_key: pem });
    const line = pem.split('\n')[3] ?? '';
    expect(line.length).toBeGreaterThan(40);
    const out = scrubSecrets(`key rejected: ${line}`, [json]);
    expect(out).not.toContain(line);
    // Non-secret members of the key file stay readable.
    expect(scrubSecrets('robot@example.iam.gserviceaccount.com is not authorised', [json])).toContain(
      'robot@example.iam.gserviceaccount.com'
    );
  });

  it('keeps the readable members of a compact key file readable (no partial-echo windows over the whole JSON)', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const keyId = 'f00dfeedcafebabe0123456789abcdef01234567';
    const json = JSON.stringify({
      type: 'service_account',
      project_id: 'soc-prod-123456',
      private_key_id: keyId,
      private_key: pem,
      client_email: 'robot@soc-prod-123456.iam.gserviceaccount.com',
      token_uri: 'https://oauth2.googleapis.com/token'
    });
    const readable =
      'Permission roles/iam.serviceAccountTokenCreator denied for robot@soc-prod-123456.iam.gserviceaccount.com at https://oauth2.googleapis.com/token (scope https://www.googleapis.com/auth/admin.directory.user)';
    expect(scrubSecrets(readable, [json])).toBe(readable);
    // …while the secret members still go, whole or partly echoed.
    expect(scrubSecrets(`unknown key ${keyId}`, [json])).toBe(`unknown key ${REDACTED}`);
    expect(scrubSecrets(`unknown key ${keyId.slice(0, 20)}…`, [json])).not.toContain(keyId.slice(0, 20));
  });

  it('withholds a message that contains a very short secret instead of garbling every word', () => {
    expect(scrubSecrets('external id xy7 is wrong', ['xy7'])).toMatch(/withheld/);
    expect(scrubSecrets('nothing to see', ['xy7'])).toBe('nothing to see');
  });

  it('leaves text without secrets unchanged', () => {
    expect(scrubSecrets('The security token included in the request is invalid.', [TOKEN, 'AKIAIOSFODNN7EXAMPLE'])).toBe(
      'The security token included in the request is invalid.'
    );
  });

  it('redacts the secret inside base64 at any alignment (a quoted Basic header), and its hex', () => {
    const secret = 'peer-client-secret~0d6f2c1a';
    for (const id of ['a', 'ab', 'abc']) {
      const header = Buffer.from(`${id}:${secret}`).toString('base64');
      const out = scrubSecrets(`bad client: Basic ${header}`, [secret]);
      const visible = out.replace(REDACTED, '');
      for (let i = 0; i < 4; i++) expect(Buffer.from(visible.slice(i), 'base64').toString('latin1'), id).not.toContain(secret.slice(0, 10));
      expect(base64Cores(secret).some((c) => header.includes(c))).toBe(true);
    }
    expect(scrubSecrets(`key ${Buffer.from(secret).toString('hex').toUpperCase()}`, [secret])).toBe(`key ${REDACTED}`);
  });

  it('redacts form encoding that escapes what encodeURIComponent keeps (~ ! * ( ))', () => {
    const secret = 'abc~!*()defghijk';
    const form = new URLSearchParams({ s: secret }).toString().slice(2);
    expect(form).toContain('%7E');
    expect(scrubSecrets(`body was client_secret=${form}`, [secret])).toBe(`body was client_secret=${REDACTED}`);
  });

  it('lists the encodings it knows for a value', () => {
    expect(secretVariants('a b/c')).toEqual(expect.arrayContaining(['a b/c', 'a%20b%2Fc', 'a+b%2Fc']));
  });
});

describe('cleanProviderText', () => {
  it('scrubs before it truncates, so a secret at the cut is not half kept', () => {
    // Short enough that only the whole-value match can catch it; truncating first would keep "canary-secre".
    const secret = 'canary-secret-0123ab';
    const text = `${'x'.repeat(285)} ${secret}`;
    const out = cleanProviderText(text, [secret], 300);
    expect(out).not.toContain('canary-sec');
    expect(out.endsWith(REDACTED)).toBe(true);
    expect(out.length).toBeLessThanOrEqual(300);
  });

  it('drops terminal escape sequences and control characters', () => {
    expect(cleanProviderText('bad\u001b[31m red \u001b[0m\r\nline\u0007', [])).toBe('bad red line');
  });

  it('a secret hidden between invisible characters (a UTF-16 echo read as UTF-8, zero-width spaces) is still redacted', () => {
    const secret = 'canary-0123456789';
    const utf16 = Buffer.from(`bad token ${secret}`, 'utf16le').toString('utf8');
    expect(cleanProviderText(utf16, [secret])).toBe(`bad token ${REDACTED}`);
    expect(cleanProviderText(`bad token ${[...secret].join('\u200b')}`, [secret])).toBe(`bad token ${REDACTED}`);
  });

  it('printableText keeps words apart at line breaks and drops invisible characters', () => {
    expect(printableText('a\r\nb\tc\u0000d\u200be\u001b[1mf')).toBe('a b cdef');
  });

  it('returns an empty string for anything that is not text', () => {
    expect(cleanProviderText({ toString: () => 'x' }, [])).toBe('');
  });
});

describe('cleanErrorCode', () => {
  it('keeps a provider code and refuses anything that is not a short token', () => {
    expect(cleanErrorCode('InvalidClientTokenId', [])).toBe('InvalidClientTokenId');
    expect(cleanErrorCode('bad code with spaces', [])).toBe('PROVIDER_ERROR');
    expect(cleanErrorCode(42, [])).toBe('PROVIDER_ERROR');
  });

  it('refuses a "code" that is a secret', () => {
    expect(cleanErrorCode('AKIAIOSFODNN7EXAMPLE', ['AKIAIOSFODNN7EXAMPLE'])).toBe('PROVIDER_ERROR');
  });
});

describe('scrubDeep', () => {
  it('scrubs every string of an observed-facts object, keys included', () => {
    const out = scrubDeep({ identity: { arn: `arn:aws:iam::1:user/${TOKEN}` }, suggestions: [TOKEN, 'example.com'], [TOKEN]: 1 }, [TOKEN]);
    expect(JSON.stringify(out)).not.toContain(TOKEN);
    expect(JSON.stringify(out)).toContain('example.com');
  });
});
