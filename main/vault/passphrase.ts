import type { ScryptOptions } from 'node:crypto';
import { nodeCrypto } from '../builtins.ts';
import { KeydeskError } from '../errors.ts';

export interface KdfParams {
  N: number;
  r: number;
  p: number;
}

/** DESIGN.md: scrypt N=2^17, r=8, p=1 (~128 MiB), a 16-byte random salt per vault. */
export const DEFAULT_KDF: KdfParams = { N: 2 ** 17, r: 8, p: 1 };
/** Parameters read from a vault are untrusted: never derive with less work than this. */
const MIN_N = 2 ** 17;
const MAX_N = 2 ** 22;
export const SALT_BYTES = 16;

export function newSalt(): Buffer {
  return nodeCrypto().randomBytes(SALT_BYTES);
}

export function parseKdfParams(json: string | null): KdfParams {
  let p: unknown;
  try {
    p = json === null ? null : JSON.parse(json);
  } catch {
    p = null;
  }
  const o = p as Partial<KdfParams> | null;
  if (!o || !Number.isInteger(o.N) || !Number.isInteger(o.r) || !Number.isInteger(o.p)) {
    throw new KeydeskError('VAULT_CORRUPT', 'The vault’s passphrase parameters are unreadable.');
  }
  const { N, r, p: par } = o as KdfParams;
  if (N < MIN_N || N > MAX_N || (N & (N - 1)) !== 0 || r < 8 || r > 32 || par < 1 || par > 16) {
    throw new KeydeskError(
      'VAULT_CORRUPT',
      'The vault’s passphrase parameters are outside the allowed range; refusing to derive a weaker key.'
    );
  }
  return { N, r, p: par };
}

export function derivePassphraseKey(passphrase: string, salt: Buffer, params: KdfParams = DEFAULT_KDF): Promise<Buffer> {
  if (passphrase.length === 0) return Promise.reject(new KeydeskError('INPUT_INVALID', 'The passphrase is empty.'));
  const opts: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 128 * params.N * params.r * params.p + 64 * 1024 * 1024 };
  return new Promise((resolve, reject) => {
    nodeCrypto().scrypt(passphrase.normalize('NFC'), salt, 32, opts, (err, key) =>
      err ? reject(new KeydeskError('INTERNAL', 'Key derivation failed.', { cause: err })) : resolve(key)
    );
  });
}

/** Where a passphrase comes from: an environment variable, a terminal prompt, the app's unlock form, a test. */
export type PassphraseSource = () => Promise<string>;

export const MIN_PASSPHRASE_LENGTH = 8;
