import { KeydeskError } from '../errors.ts';
import { keychainAccounts } from '../vault/keychain.ts';
import type { Vault } from '../vault/vault.ts';
import { auditHead, iterateAudit, readAudit, verifyAudit, type AuditAnchor, type AuditEntry, type AuditQuery, type AuditVerifyResult } from './log.ts';

/** Audit reads (no key), verification (key) and the OS-keychain anchor of the chain's head. */
export class AuditService {
  readonly vault: Vault;

  constructor(vault: Vault) {
    this.vault = vault;
  }

  list(q: AuditQuery = {}): AuditEntry[] {
    return readAudit(this.vault.db, q);
  }

  export(): Iterable<AuditEntry> {
    return iterateAudit(this.vault.db);
  }

  async readAnchor(): Promise<AuditAnchor | null> {
    if (this.vault.meta().key_source !== 'keychain') return null;
    const raw = await this.vault.keychain.get(keychainAccounts.auditAnchor(this.vault.vaultId));
    if (raw === null) return null;
    try {
      const a = JSON.parse(raw) as Partial<AuditAnchor>;
      if (typeof a.seq === 'number' && Number.isInteger(a.seq) && a.seq >= 0 && typeof a.mac === 'string') return { seq: a.seq, mac: a.mac };
    } catch {
      /* fall through */
    }
    throw new KeydeskError('AUDIT_TAMPERED', 'The audit anchor in the OS keychain is unreadable.');
  }

  /**
   * Records the chain's head in the OS keychain (keychain vaults), so a log cut short or a vault file rolled
   * back is detected back to this point. Called at lock, at quit and periodically — not per entry.
   */
  async anchor(): Promise<AuditAnchor | null> {
    if (this.vault.meta().key_source !== 'keychain') return null;
    const head = auditHead(this.vault.db);
    if (!head) return null;
    const current = await this.readAnchor().catch(() => null);
    if (current && current.seq >= head.seq) {
      this.vault.markAnchored();
      return current;
    }
    const anchor = { seq: head.seq, mac: head.mac.toString('hex') };
    await this.vault.keychain.set(keychainAccounts.auditAnchor(this.vault.vaultId), JSON.stringify(anchor));
    this.vault.markAnchored();
    return anchor;
  }

  async verify(): Promise<AuditVerifyResult> {
    const key = this.vault.vaultKey('audit_mac');
    return verifyAudit(this.vault.db, key, await this.readAnchor());
  }
}
