import { KeydeskError } from '../errors.ts';
import type { AuditAnchor } from './audit-log.ts';
import { KEY_BYTES, randomKey, wipe } from './crypto.ts';
import type {
  FirstKek,
  KekProof,
  KekRotation,
  KeyMeta,
  KeySource,
  KeySourceDescription,
  KeySourceStage,
  RotationRequest
} from './key-source.ts';
import { keychainAccounts, type KeychainClient } from './keychain.ts';

const KEYCHAIN_NAMES: Partial<Record<NodeJS.Platform, string>> = {
  darwin: 'macOS Keychain',
  win32: 'Windows Credential Manager'
};

/**
 * The default key source: a random 256-bit KEK per vault and key version, kept in the OS keychain through keytar
 * under `keychainAccounts.kek(vaultId, version)`. Nothing about it is recorded in vault_meta.
 */
export class KeychainKeySource implements KeySource {
  readonly kind = 'keychain' as const;
  readonly #keychain: KeychainClient;

  constructor(keychain: KeychainClient) {
    this.#keychain = keychain;
  }

  describe(): KeySourceDescription {
    return { kind: this.kind, label: `OS keychain (${KEYCHAIN_NAMES[process.platform] ?? 'Secret Service'})` };
  }

  async create(vaultId: string): Promise<FirstKek> {
    const account = keychainAccounts.kek(vaultId, 1);
    const kek = randomKey();
    try {
      await this.#keychain.set(account, kek.toString('base64'));
    } catch (e) {
      wipe(kek);
      throw e;
    }
    return { kek, kdf: null, discard: () => this.#forget(account) };
  }

  async load(meta: KeyMeta, proves: KekProof): Promise<Buffer> {
    const stored = await this.#keychain.get(keychainAccounts.kek(meta.vault_id, meta.kek_version));
    if (stored === null) {
      throw new KeydeskError(
        'KEY_NOT_FOUND',
        `The OS keychain has no key for this vault (vault ${meta.vault_id}, key version ${meta.kek_version}). It may have been created under another user account or machine; restore the keychain entry to open it.`
      );
    }
    const kek = Buffer.from(stored, 'base64');
    if (kek.length !== KEY_BYTES || !proves(kek)) {
      wipe(kek);
      throw new KeydeskError(
        'KEY_MISMATCH',
        'The key in the OS keychain does not open this vault (the keychain entry was replaced or belongs to another vault).'
      );
    }
    return kek;
  }

  async readAnchor(meta: KeyMeta): Promise<AuditAnchor | null> {
    const raw = await this.#keychain.get(keychainAccounts.auditAnchor(meta.vault_id));
    if (raw === null) return null;
    try {
      const a = JSON.parse(raw) as Partial<AuditAnchor>;
      if (typeof a.seq === 'number' && Number.isInteger(a.seq) && a.seq >= 0 && typeof a.mac === 'string')
        return { seq: a.seq, mac: a.mac };
    } catch {
      /* fall through */
    }
    throw new KeydeskError('AUDIT_TAMPERED', 'The audit anchor in the OS keychain is unreadable.');
  }

  async writeAnchor(meta: KeyMeta, anchor: AuditAnchor): Promise<boolean> {
    await this.#keychain.set(keychainAccounts.auditAnchor(meta.vault_id), JSON.stringify({ seq: anchor.seq, mac: anchor.mac }));
    return true;
  }

  async tidy(meta: KeyMeta): Promise<void> {
    // A rotation that committed but died before deleting the previous key leaves it behind. Never the next version's
    // entry: that may be the key another process is about to commit.
    if (meta.kek_version > 1) await this.#forget(keychainAccounts.kek(meta.vault_id, meta.kek_version - 1));
  }

  async rotate(meta: KeyMeta, _proves: KekProof, req: RotationRequest): Promise<KekRotation> {
    if (req.newPassphrase)
      throw new KeydeskError('INPUT_INVALID', 'This vault keeps its key in the OS keychain; it has no passphrase to change.');
    const version = meta.kek_version + 1;
    const next = keychainAccounts.kek(meta.vault_id, version);
    const previous = keychainAccounts.kek(meta.vault_id, meta.kek_version);
    const kek = randomKey();
    let stored = false;
    return {
      kek,
      kdf: null,
      version,
      store: async (report: (s: KeySourceStage) => void) => {
        stored = true; // set before the await: a write that fails half-way may still have stored the key
        await this.#keychain.set(next, kek.toString('base64'));
        report({ stage: 'keychain-written', version });
      },
      // Only the entry this rotation wrote, and only if it got as far as writing it: a rotation that never took the
      // write lock (VAULT_BUSY) or found the key already rotated must not delete the next version's key — it may be
      // the one another process is about to commit, and the vault would then open with neither key.
      abandon: () => (stored ? this.#forget(next) : Promise.resolve()),
      retire: () => this.#forget(previous)
    };
  }

  async #forget(account: string): Promise<void> {
    await this.#keychain.delete(account).catch(() => false);
  }
}
