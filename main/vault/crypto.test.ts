import { describe, expect, it } from 'vitest';
import { AAD, AuthenticationFailed, NONCE_BYTES, TAG_BYTES, canonical, open, randomKey, seal } from './crypto.ts';

describe('AES-256-GCM seal/open', () => {
  const key = randomKey();
  const aad = AAD.payload('cred-1', 'aws', 'access_key');
  const plain = Buffer.from('{"secret_access_key":"s3cret"}');

  it('round-trips and uses a fresh 96-bit nonce each time', () => {
    const a = seal(key, plain, aad);
    const b = seal(key, plain, aad);
    expect(open(key, a, aad).equals(plain)).toBe(true);
    expect(a.subarray(0, NONCE_BYTES).equals(b.subarray(0, NONCE_BYTES))).toBe(false);
    expect(a.length).toBe(NONCE_BYTES + plain.length + TAG_BYTES);
  });

  it('rejects a flip of any single byte: nonce, ciphertext or tag', () => {
    const sealed = seal(key, plain, aad);
    for (let i = 0; i < sealed.length; i++) {
      const bad = Buffer.from(sealed);
      bad[i] = bad[i]! ^ 0x01;
      expect(() => open(key, bad, aad), `byte ${i}`).toThrow(AuthenticationFailed);
    }
  });

  it('rejects the wrong key, the wrong AAD and a truncated box', () => {
    const sealed = seal(key, plain, aad);
    expect(() => open(randomKey(), sealed, aad)).toThrow(AuthenticationFailed);
    expect(() => open(key, sealed, AAD.payload('cred-2', 'aws', 'access_key'))).toThrow(AuthenticationFailed);
    expect(() => open(key, sealed, AAD.payload('cred-1', 'aws', 'assume_role'))).toThrow(AuthenticationFailed);
    expect(() => open(key, sealed.subarray(0, 20), aad)).toThrow(AuthenticationFailed);
  });

  it('binds a wrapped DEK to the credential id and the KEK version', () => {
    const dek = randomKey();
    const wrapped = seal(key, dek, AAD.dek('cred-1', 3));
    expect(open(key, wrapped, AAD.dek('cred-1', 3)).equals(dek)).toBe(true);
    expect(() => open(key, wrapped, AAD.dek('cred-1', 2))).toThrow(AuthenticationFailed);
    expect(() => open(key, wrapped, AAD.dek('cred-2', 3))).toThrow(AuthenticationFailed);
  });
});

describe('canonical encoding', () => {
  it('never encodes two different field lists the same way', () => {
    expect(canonical('a|b', 'c').equals(canonical('a', 'b|c'))).toBe(false);
    expect(canonical('ab', 'c').equals(canonical('a', 'bc'))).toBe(false);
    expect(canonical(null).equals(canonical(''))).toBe(false);
    expect(canonical(1).equals(canonical('1'))).toBe(false);
    expect(canonical('x', 'y').equals(canonical('x', 'y'))).toBe(true);
  });
});
