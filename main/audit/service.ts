import type { Vault } from '../vault/vault.ts';
import {
  assertHolds,
  auditHead,
  iterateAudit,
  readAudit,
  verifyAudit,
  type AuditAnchor,
  type AuditEntry,
  type AuditQuery,
  type AuditVerifyResult
} from '../vault/audit-log.ts';

/** Audit reads (no key), verification (key) and the OS-keychain anchor of the chain's head. */
export class AuditService {
  readonly vault: Vault;

  constructor(vault: Vault) {
    this.vault = vault;
  }

  list(q: AuditQuery = {}): AuditEntry[] {
    return readAudit(this.vault.db, q);
  }

  /** The sequence number of the newest entry (0 for an empty log): how other processes' writes are noticed. */
  headSeq(): number {
    return auditHead(this.vault.db)?.seq ?? 0;
  }

  export(): Iterable<AuditEntry> {
    return iterateAudit(this.vault.db);
  }

  /** The head recorded outside the vault file (the OS keychain for a keychain vault; none for a passphrase vault). */
  readAnchor(): Promise<AuditAnchor | null> {
    return this.vault.keySource.readAnchor(this.vault.meta());
  }

  /**
   * Records the chain's head outside the vault file (keychain vaults), so a log cut short or a vault file rolled
   * back is detected back to this point. Called at lock, at quit and periodically — not per entry. Refuses
   * (AUDIT_TAMPERED, nothing recorded) when this log does not hold the head already recorded: advancing the anchor
   * from a rolled-back file would hide the rollback and condemn the genuine vault.
   */
  async anchor(): Promise<AuditAnchor | null> {
    const meta = this.vault.meta();
    let anchored: AuditAnchor | null = null;
    // The app and the CLI anchor the same keychain entry. Between our read of it and our write, another process may
    // anchor a later head, which our write then lowers. The head only grows and every writer anchors after it wrote,
    // so re-reading the head after our write and anchoring again while it moved on leaves the entry at the latest head.
    for (let round = 0; round < 5; round++) {
      const head = auditHead(this.vault.db);
      if (!head || (anchored && anchored.seq >= head.seq)) break;
      const current = await this.readAnchor();
      if (current) assertHolds(this.vault.db, current);
      if (current && current.seq >= head.seq) {
        anchored = current;
        continue;
      }
      const next = { seq: head.seq, mac: head.mac.toString('hex') };
      if (!(await this.vault.keySource.writeAnchor(meta, next))) break;
      anchored = next;
    }
    this.vault.markAnchored(anchored);
    return anchored;
  }

  async verify(): Promise<AuditVerifyResult> {
    const key = this.vault.vaultKey('audit_mac');
    // The anchor first, the entries after: an anchor only ever names a committed entry, so entries read later
    // include it, and a writer that appends and anchors meanwhile cannot make a sound log look truncated.
    const anchor = await this.readAnchor();
    return verifyAudit(this.vault.db, key, anchor);
  }
}
