import type { AuditAnchor } from './audit-log.ts';
import type { SymmetricKey } from './crypto.ts';
import { KeychainKeySource } from './keychain-source.ts';
import type { KeychainClient } from './keychain.ts';
import type { KdfParams, PassphraseSource } from './passphrase.ts';
import { PassphraseKeySource } from './passphrase-source.ts';

export type KeySourceKind = 'keychain' | 'passphrase';

/** The part of vault_meta a key source reads. It is re-read for every operation: another process may rotate. */
export interface KeyMeta {
  vault_id: string;
  kek_version: number;
  kdf_salt: Buffer | null;
  kdf_params: string | null;
}

/** What a source records in vault_meta's KDF columns: a passphrase source its salt and scrypt parameters. */
export interface KdfRecord {
  salt: Buffer;
  params: KdfParams;
}

/** Proves a candidate KEK against the vault's check value. The vault owns the check value; a source only asks. */
export type KekProof = (kek: SymmetricKey) => boolean;

/** Where an unlock or a new vault gets its passphrase (ignored by a keychain source). */
export interface KeyRequest {
  passphrase?: PassphraseSource;
}

export interface RotationRequest extends KeyRequest {
  /** A new passphrase (passphrase sources; omit to keep the passphrase and change only the salt). */
  newPassphrase?: PassphraseSource;
}

/** The one rotation point a source reports itself (the vault reports the others). */
export interface KeySourceStage {
  stage: 'keychain-written';
  version: number;
}

/** A freshly made KEK. `kek` is raw key material: the caller wipes it once it holds a KeyObject. */
export interface NewKek {
  kek: Buffer;
  /** The KDF columns to write into vault_meta, or null: none (create) / unchanged (rotation). */
  kdf: KdfRecord | null;
}

/** The KEK of a vault being created. */
export interface FirstKek extends NewKek {
  /** The vault file could not be written: removes whatever making the key stored outside it. Never throws. */
  discard(): Promise<void>;
}

/**
 * The next KEK of a rotation and the source's steps around the vault's commit. The vault calls `store` while it
 * holds the write lock and before it re-wraps anything, then exactly one of `abandon` (the commit failed or never
 * happened) or `retire` (it committed).
 */
export interface KekRotation extends NewKek {
  version: number;
  /** Keeps the next KEK where the source keeps keys, so that a crash right after the commit still opens. */
  store(report: (s: KeySourceStage) => void): Promise<void>;
  /** Removes what `store` wrote (or may have written, if it failed half-way) — and nothing else. Never throws. */
  abandon(): Promise<void>;
  /** Removes the previous version's key, which nothing needs once the commit is durable. Never throws. */
  retire(): Promise<void>;
}

/** What `keydesk status` and the app show about a vault's key source. Never secret. */
export interface KeySourceDescription {
  kind: KeySourceKind;
  /** "OS keychain (Secret Service)", "passphrase (scrypt N=2^17, r=8, p=1)". */
  label: string;
}

/**
 * Where a vault's key-encryption key comes from, chosen once when the vault is opened or created. Each source owns
 * its half of creating, loading, rotating and tidying the KEK; the vault owns the file, the check value and the
 * re-wrap transaction. A source stores neither a passphrase nor a KEK of its own: the keys it returns are the
 * caller's to wipe, and it reads everything else from the vault_meta it is handed each time.
 */
export interface KeySource {
  readonly kind: KeySourceKind;
  describe(meta: KeyMeta): KeySourceDescription;
  /** Makes the first KEK of a new vault (stored outside the vault where the source keeps keys). */
  create(vaultId: string, req: KeyRequest): Promise<FirstKek>;
  /**
   * Loads the KEK and proves it before returning it. Distinct failures: PASSPHRASE_REQUIRED, WRONG_PASSPHRASE,
   * KEY_NOT_FOUND, KEY_MISMATCH, KEYCHAIN_*, VAULT_CORRUPT (unreadable KDF record).
   */
  load(meta: KeyMeta, proves: KekProof, req: KeyRequest): Promise<Buffer>;
  /** After an unlock: removes what a rotation that crashed after its commit left behind. Never throws. */
  tidy(meta: KeyMeta): Promise<void>;
  /** Makes the next KEK (a passphrase source first proves the current passphrase). Changes nothing yet. */
  rotate(meta: KeyMeta, proves: KekProof, req: RotationRequest): Promise<KekRotation>;
  /**
   * The audit chain's head as last recorded outside the vault file (the OS keychain), so a file rolled back as a whole
   * is caught; null when none was recorded, or where the source keeps nothing outside the file (a passphrase vault:
   * its MAC'd head record inside the file catches a log cut short or rolled back). AUDIT_TAMPERED when unreadable.
   */
  readAnchor(meta: KeyMeta): Promise<AuditAnchor | null>;
  /** Records the head outside the file; false where the source keeps nothing outside it. */
  writeAnchor(meta: KeyMeta, anchor: AuditAnchor): Promise<boolean>;
}

export interface KeySourceDeps {
  keychain: KeychainClient;
}

const SOURCES: Record<KeySourceKind, (deps: KeySourceDeps) => KeySource> = {
  keychain: (deps) => new KeychainKeySource(deps.keychain),
  passphrase: () => new PassphraseKeySource()
};

/** The source for `kind`, or null for a kind Keydesk does not know (the caller says why that is wrong). */
export function keySourceFor(kind: string, deps: KeySourceDeps): KeySource | null {
  return Object.hasOwn(SOURCES, kind) ? SOURCES[kind as KeySourceKind](deps) : null;
}
