import type { AuditVerifyView, auditChannels } from '../../preload/contract.ts';
import { auditEntryView } from '../audit/view.ts';
import type { AppSession } from '../shell/session.ts';
import type { DomainHandlers } from './dispatch.ts';

export function auditHandlers(session: AppSession): DomainHandlers<typeof auditChannels> {
  return {
    'audit.list': (i) =>
      session
        .app()
        .audit.list({ newestFirst: true, limit: i?.limit ?? 200, ...(i?.credentialId ? { credentialId: i.credentialId } : {}) })
        .map(auditEntryView),
    'audit.verify': async (): Promise<AuditVerifyView> => {
      const r = await session.app().audit.verify();
      return r.ok
        ? { ok: true, entries: r.entries, headSeq: r.headSeq, anchoredSeq: r.anchor?.seq ?? null }
        : { ok: false, entries: r.entries, firstBadSeq: r.firstBadSeq, problem: r.problem, message: r.message };
    }
  };
}
