import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { CHANNELS } from '../../preload/contract.ts';
import { KeydeskError } from '../errors.ts';
import { fieldKey, parseUnknown } from './parse.ts';

const CANARY = 'CANARY-parse-7f3a9c';

function reject(schema: z.ZodType, value: unknown): KeydeskError {
  try {
    parseUnknown(schema, value);
  } catch (e) {
    if (e instanceof KeydeskError) return e;
    throw e;
  }
  throw new Error('expected INPUT_INVALID');
}

describe('parseUnknown', () => {
  it('returns the parsed value for valid input', () => {
    expect(parseUnknown(CHANNELS['vault.unlock'].input, { passphrase: 'correct horse' })).toEqual({ passphrase: 'correct horse' });
  });

  it('names each bad field with a message an analyst can act on', () => {
    const e = reject(CHANNELS['credentials.add'].input, { name: 5, provider: '', mode: 'x', values: { api_token: 7 } });
    expect(e.code).toBe('INPUT_INVALID');
    expect(e.fields).toEqual({ name: 'Must be text', provider: 'Choose a provider', 'values.api_token': 'Must be text' });
    expect(e.message).toMatch(/^The request is not valid — .*Nothing was changed\.$/);
  });

  it('never quotes a submitted value: not in a message, not in a field name', () => {
    const inputs: unknown[] = [
      { passphrase: CANARY.repeat(100) },
      { passphrase: 1, [CANARY]: CANARY },
      { name: 'ok', provider: 'hostinger', mode: 'api_token', values: { [CANARY]: CANARY } },
      { name: 'ok', provider: 'hostinger', mode: 'api_token', values: { 'Bad-Key': CANARY }, extra: CANARY },
      { keySource: CANARY, passphrase: CANARY }
    ];
    const schemas = [
      CHANNELS['vault.unlock'].input,
      CHANNELS['vault.unlock'].input,
      CHANNELS['credentials.add'].input,
      CHANNELS['credentials.add'].input,
      CHANNELS['vault.create'].input
    ];
    inputs.forEach((input, i) => {
      const e = reject(schemas[i]!, input);
      expect(JSON.stringify({ m: e.message, f: e.fields })).not.toContain(CANARY);
      expect(JSON.stringify({ m: e.message, f: e.fields })).not.toContain('CANARY');
    });
  });

  it('says what is missing rather than what was sent', () => {
    expect(reject(CHANNELS['credentials.get'].input, {}).fields).toEqual({ id: 'Required' });
    expect(reject(CHANNELS['credentials.get'].input, null).fields).toEqual({ input: 'Must be an object' });
    expect(reject(CHANNELS['vault.create'].input, { keySource: 'passphrase', passphrase: 'short' }).fields).toEqual({
      passphrase: 'Use at least 8 characters'
    });
  });

  it('masks path segments that are not plain identifiers', () => {
    expect(fieldKey(['values', 'api_token'])).toBe('values.api_token');
    expect(fieldKey(['values', 'secret value with spaces'])).toBe('values.…');
    expect(fieldKey([0, 'x'])).toBe('0.x');
    expect(fieldKey([])).toBe('input');
    expect(fieldKey([Symbol('s')])).toBe('…');
  });
});

describe('contract constants that mirror main', () => {
  it('the passphrase minimum the form enforces is the vault’s own', async () => {
    const { MIN_PASSPHRASE_LENGTH } = await import('../vault/passphrase.ts');
    const { PASSPHRASE_MIN_LENGTH } = await import('../../preload/contract.ts');
    expect(PASSPHRASE_MIN_LENGTH).toBe(MIN_PASSPHRASE_LENGTH);
  });
});
