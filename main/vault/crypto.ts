import type { KeyObject } from 'node:crypto';
import { nodeCrypto } from '../builtins.ts';

/** AES-256-GCM with 96-bit random nonces and 128-bit tags. */
export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

/** A sealed box: nonce ‖ ciphertext ‖ tag, stored as one BLOB. */
export type Sealed = Buffer;

/**
 * A symmetric key. Long-lived keys (KEK, vault MAC keys) are held as KeyObjects: Node copies a Buffer key into a
 * fresh native key object on every cipher/HMAC call (four times slower, and one more copy of the key in memory
 * each time); a KeyObject is one native copy, made once.
 */
export type SymmetricKey = Buffer | KeyObject;

export function keyObject(raw: Buffer): KeyObject {
  if (raw.length !== KEY_BYTES) throw new RangeError('AES-256-GCM needs a 32-byte key');
  return nodeCrypto().createSecretKey(raw);
}

function keySize(key: SymmetricKey): number {
  return Buffer.isBuffer(key) ? key.length : (key.symmetricKeySize ?? 0);
}

export class AuthenticationFailed extends Error {
  constructor() {
    super('AES-GCM authentication failed');
    this.name = 'AuthenticationFailed';
  }
}

export function randomKey(): Buffer {
  return nodeCrypto().randomBytes(KEY_BYTES);
}

export function seal(key: SymmetricKey, plaintext: Buffer, aad: Buffer): Sealed {
  if (keySize(key) !== KEY_BYTES) throw new RangeError('AES-256-GCM needs a 32-byte key');
  const nonce = nodeCrypto().randomBytes(NONCE_BYTES);
  const cipher = nodeCrypto().createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

/** Opens a sealed box or throws AuthenticationFailed (wrong key, wrong AAD, or any flipped byte). */
export function open(key: SymmetricKey, sealed: Buffer, aad: Buffer): Buffer {
  if (keySize(key) !== KEY_BYTES) throw new RangeError('AES-256-GCM needs a 32-byte key');
  if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new AuthenticationFailed();
  const nonce = sealed.subarray(0, NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
  const decipher = nodeCrypto().createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new AuthenticationFailed();
  }
}

export function hmac(key: SymmetricKey, ...parts: (Buffer | string)[]): Buffer {
  const h = nodeCrypto().createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

export function equalBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && nodeCrypto().timingSafeEqual(a, b);
}

/**
 * Canonical encoding of a list of fields for AAD and MACs: each part is length-prefixed, so no two
 * different lists encode the same ("a|bc" vs "ab|c" cannot collide). `null` is distinct from "".
 */
export function canonical(...parts: (string | number | boolean | null)[]): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    if (p === null) {
      chunks.push(Buffer.from([0]));
      continue;
    }
    const body = Buffer.from(typeof p === 'string' ? p : JSON.stringify(p), 'utf8');
    const len = Buffer.alloc(5);
    len.writeUInt8(typeof p === 'string' ? 1 : 2, 0);
    len.writeUInt32BE(body.length, 1);
    chunks.push(len, body);
  }
  return Buffer.concat(chunks);
}

/** Context labels, so a value sealed for one purpose never opens as another. */
export const AAD = {
  kekCheck: (vaultId: string, kekVersion: number) => canonical('keydesk/v1/kek-check', vaultId, kekVersion),
  vaultKey: (vaultId: string, name: string, kekVersion: number) => canonical('keydesk/v1/vault-key', vaultId, name, kekVersion),
  dek: (credentialId: string, kekVersion: number) => canonical('keydesk/v1/dek', credentialId, kekVersion),
  /** Version 0: sealed before secret versions existed (schema < 7); from 1, the version is bound in. */
  payload: (credentialId: string, provider: string, mode: string, secretVersion = 0) =>
    secretVersion > 0
      ? canonical('keydesk/v2/payload', credentialId, provider, mode, secretVersion)
      : canonical('keydesk/v1/payload', credentialId, provider, mode)
} as const;

export const KEK_CHECK_PLAINTEXT = Buffer.from('keydesk key check v1', 'utf8');

/** Overwrites key material we no longer need (best effort: JS strings and GC copies are out of reach). */
export function wipe(...buffers: (Buffer | undefined | null)[]): void {
  for (const b of buffers) b?.fill(0);
}
