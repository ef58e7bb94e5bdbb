import type { AuditEntryView } from '../../preload/contract.ts';
import type { AuditEntry } from '../vault/audit-log.ts';

/** An audit entry as every surface shows it: IPC answers, `keydesk audit export` lines. */
export function auditEntryView(e: AuditEntry): AuditEntryView {
  return {
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    action: e.action,
    credentialId: e.credentialId,
    credentialName: e.credentialName,
    outcome: e.outcome,
    detail: structuredClone(e.detail),
    mac: e.mac
  };
}
