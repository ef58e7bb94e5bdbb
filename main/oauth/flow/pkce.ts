import { KeydeskError } from '../../errors.ts';

/**
 * PKCE (RFC 7636), S256 only: the plain method sends the verifier itself through the browser, so Keydesk never
 * offers it. Verifier, challenge, state and nonce come from openid-client (oauth4webapi), not from our own code;
 * it is loaded when a sign-in starts, not by every command that opens the app.
 */
const openidClient = () => import('openid-client');
export interface Pkce {
  verifier: string;
  challenge: string;
  method: 'S256';
}

/** RFC 7636 §4.1: 43–128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~". */
const VERIFIER_RE = /^[A-Za-z0-9\-._~]{43,128}$/;

export function isValidVerifier(v: unknown): v is string {
  return typeof v === 'string' && VERIFIER_RE.test(v);
}

/** BASE64URL(SHA256(ASCII(verifier))), after checking the verifier is one RFC 7636 allows. */
export async function s256Challenge(verifier: string): Promise<string> {
  if (!isValidVerifier(verifier)) throw new KeydeskError('INTERNAL', 'A PKCE code verifier must be 43–128 unreserved characters.');
  return (await openidClient()).calculatePKCECodeChallenge(verifier);
}

export async function createPkce(): Promise<Pkce> {
  const verifier = (await openidClient()).randomPKCECodeVerifier();
  return { verifier, challenge: await s256Challenge(verifier), method: 'S256' };
}

/** Per-flow random values: 32 random bytes each, base64url (openid-client's generators). */
export async function newState(): Promise<string> {
  return (await openidClient()).randomState();
}

export async function newNonce(): Promise<string> {
  return (await openidClient()).randomNonce();
}
