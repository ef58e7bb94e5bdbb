import { constants, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * Compact JWS for loopback peers (test support only): peers verify the assertions clients sign (Google's RS256
 * service-account JWT, MSAL's PS256/RS256 certificate assertion, an external IdP's subject token) and sign the
 * access tokens they issue. Only the algorithms those clients use are accepted; `none` and HMAC never are.
 */

export type JwtClaims = Record<string, unknown>;
export type JwtHeader = Record<string, unknown> & { alg?: string };

const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export function signJwt(header: JwtHeader, claims: JwtClaims, privateKey: KeyObject | string): string {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  const alg = header.alg ?? 'RS256';
  const input = `${b64u(JSON.stringify({ typ: 'JWT', ...header, alg }))}.${b64u(JSON.stringify(claims))}`;
  const sig =
    alg === 'PS256'
      ? sign('sha256', Buffer.from(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
      : sign('sha256', Buffer.from(input), key);
  return `${input}.${b64u(sig)}`;
}

export interface DecodedJwt {
  header: JwtHeader;
  claims: JwtClaims;
  signingInput: string;
  signature: Buffer;
}

/** Splits and parses a compact JWS without verifying it; null when it is not one. */
export function decodeJwt(token: string): DecodedJwt | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return null;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as unknown;
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown;
    if (!header || typeof header !== 'object' || !claims || typeof claims !== 'object') return null;
    return {
      header: header as JwtHeader,
      claims: claims as JwtClaims,
      signingInput: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2]!, 'base64url')
    };
  } catch {
    return null;
  }
}

/** True when the JWS carries a valid RS256 or PS256 signature by `publicKey`. */
export function verifyJwtSignature(jwt: DecodedJwt, publicKey: KeyObject | string, allowed: readonly string[] = ['RS256']): boolean {
  const alg = jwt.header.alg;
  if (typeof alg !== 'string' || !allowed.includes(alg)) return false;
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  try {
    if (alg === 'RS256') return verify('sha256', Buffer.from(jwt.signingInput), key, jwt.signature);
    if (alg === 'PS256')
      return verify(
        'sha256',
        Buffer.from(jwt.signingInput),
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
        jwt.signature
      );
  } catch {
    return false;
  }
  return false;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);
