import { KeydeskError } from '../errors.ts';
import type { AuditAnchor } from './audit-log.ts';
import { wipe } from './crypto.ts';
import type {
  FirstKek,
  KdfRecord,
  KekProof,
  KekRotation,
  KeyMeta,
  KeyRequest,
  KeySource,
  KeySourceDescription,
  RotationRequest
} from './key-source.ts';
import { DEFAULT_KDF, MIN_PASSPHRASE_LENGTH, derivePassphraseKey, newSalt, parseKdfParams, type KdfParams } from './passphrase.ts';

const WRONG_PASSPHRASE = 'Wrong passphrase: it does not open this vault. Nothing was changed.';

const nothing = (): Promise<void> => Promise.resolve();

/**
 * For machines without a keychain: the KEK is derived with scrypt from a passphrase and a per-vault salt, both
 * recorded (salt and parameters, never the passphrase or the key) in vault_meta. Nothing is stored anywhere else,
 * so creating, rotating and tidying have no outside steps.
 */
export class PassphraseKeySource implements KeySource {
  readonly kind = 'passphrase' as const;

  describe(meta: KeyMeta): KeySourceDescription {
    let params: KdfParams;
    try {
      params = parseKdfParams(meta.kdf_params);
    } catch {
      return { kind: this.kind, label: 'passphrase (scrypt, parameters unreadable)' };
    }
    return { kind: this.kind, label: `passphrase (scrypt N=2^${Math.log2(params.N)}, r=${params.r}, p=${params.p})` };
  }

  async create(_vaultId: string, req: KeyRequest): Promise<FirstKek> {
    if (!req.passphrase)
      throw new KeydeskError('PASSPHRASE_REQUIRED', 'A passphrase vault needs a passphrase (KEYDESK_PASSPHRASE or a prompt).');
    const pass = await req.passphrase();
    if (pass.length < MIN_PASSPHRASE_LENGTH)
      throw new KeydeskError('INPUT_INVALID', `The passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters.`);
    const kdf = { salt: newSalt(), params: DEFAULT_KDF };
    return { kek: await derivePassphraseKey(pass, kdf.salt, kdf.params), kdf, discard: nothing };
  }

  /** Nothing outside the file: the vault's MAC'd audit head record (audit_head) is its anchor. */
  readAnchor(): Promise<AuditAnchor | null> {
    return Promise.resolve(null);
  }

  writeAnchor(): Promise<boolean> {
    return Promise.resolve(false);
  }

  async load(meta: KeyMeta, proves: KekProof, req: KeyRequest): Promise<Buffer> {
    if (!req.passphrase)
      throw new KeydeskError(
        'PASSPHRASE_REQUIRED',
        'This vault is protected by a passphrase: set KEYDESK_PASSPHRASE or enter it when asked.'
      );
    const kdf = recordOf(meta);
    const kek = await derivePassphraseKey(await req.passphrase(), kdf.salt, kdf.params);
    if (!proves(kek)) {
      wipe(kek);
      throw new KeydeskError('WRONG_PASSPHRASE', WRONG_PASSPHRASE);
    }
    return kek;
  }

  tidy(): Promise<void> {
    return nothing();
  }

  async rotate(meta: KeyMeta, proves: KekProof, req: RotationRequest): Promise<KekRotation> {
    if (!req.passphrase) throw new KeydeskError('PASSPHRASE_REQUIRED', 'Rotating a passphrase vault needs its current passphrase.');
    // The vault is unlocked, but whoever asks to rotate proves they know the passphrase before it changes.
    const current = await req.passphrase();
    const kdfNow = recordOf(meta);
    const proof = await derivePassphraseKey(current, kdfNow.salt, kdfNow.params);
    const ok = proves(proof);
    wipe(proof);
    if (!ok) throw new KeydeskError('WRONG_PASSPHRASE', WRONG_PASSPHRASE);
    const pass = req.newPassphrase ? await req.newPassphrase() : current;
    if (pass.length < MIN_PASSPHRASE_LENGTH)
      throw new KeydeskError('INPUT_INVALID', `The new passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters.`);
    const kdf = { salt: newSalt(), params: DEFAULT_KDF };
    return {
      kek: await derivePassphraseKey(pass, kdf.salt, kdf.params),
      kdf,
      version: meta.kek_version + 1,
      store: nothing,
      abandon: nothing,
      retire: nothing
    };
  }
}

/** The salt and parameters recorded in vault_meta, refused when missing or weaker than Keydesk allows. */
function recordOf(meta: KeyMeta): KdfRecord {
  if (!meta.kdf_salt) throw new KeydeskError('VAULT_CORRUPT', 'The vault’s passphrase salt is missing.');
  return { salt: meta.kdf_salt, params: parseKdfParams(meta.kdf_params) };
}
