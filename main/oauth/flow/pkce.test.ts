import { describe, expect, it } from 'vitest';
import { createPkce, isValidVerifier, newNonce, newState, s256Challenge } from './pkce.ts';

describe('PKCE (RFC 7636), S256 only', () => {
  it('computes the challenge of RFC 7636 Appendix B', async () => {
    expect(await s256Challenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('makes a fresh verifier per flow, of an allowed length and alphabet, with its S256 challenge', async () => {
    const a = await createPkce();
    const b = await createPkce();
    expect(a.method).toBe('S256');
    expect(isValidVerifier(a.verifier)).toBe(true);
    expect(a.verifier).not.toBe(b.verifier);
    expect(a.challenge).toBe(await s256Challenge(a.verifier));
    expect(a.challenge).not.toBe(a.verifier);
  });

  it('refuses verifiers RFC 7636 does not allow', async () => {
    for (const bad of ['short', 'x'.repeat(129), `${'a'.repeat(42)}+`, `${'a'.repeat(43)} `, '']) {
      expect(isValidVerifier(bad)).toBe(false);
      await expect(s256Challenge(bad)).rejects.toMatchObject({ code: 'INTERNAL' });
    }
  });

  it('state and nonce are random per flow (32 bytes, base64url)', async () => {
    const states = new Set(await Promise.all(Array.from({ length: 50 }, () => newState())));
    expect(states.size).toBe(50);
    for (const s of [...states, await newNonce()]) expect(s).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
