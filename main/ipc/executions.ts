import type { CapabilityShapeView, executionChannels, promptChannels } from '../../preload/contract.ts';
import { CAPABILITIES, CAPABILITY_IDS } from '../providers/capabilities.ts';
import type { AppSession } from '../shell/session.ts';
import { credentialViewOf } from './credentials.ts';
import type { DomainHandlers } from './dispatch.ts';

/** The capability catalog: every capability with its label, what it targets and how it is routed. */
const CAPABILITY_CATALOG: CapabilityShapeView[] = CAPABILITY_IDS.map((id) => ({ id, ...CAPABILITIES[id] }));

export function executionHandlers(session: AppSession): DomainHandlers<typeof executionChannels> {
  const executions = () => session.app().executions;
  return {
    'executions.capabilities': () => structuredClone(CAPABILITY_CATALOG),
    'executions.list': (i) =>
      executions().list({
        ...(i?.status ? { status: i.status } : {}),
        ...(i?.credentialId ? { credential: i.credentialId } : {}),
        limit: i?.limit ?? 200
      }),
    'executions.get': (i) => executions().get(i.id),
    'executions.run': (i) =>
      executions().run({
        capability: i.capability,
        target: i.target,
        reason: i.reason,
        ...(i.hostEmail !== undefined ? { hostEmail: i.hostEmail } : {}),
        ...(i.hostDomain !== undefined ? { hostDomain: i.hostDomain } : {}),
        ...(i.credential !== undefined ? { credential: i.credential } : {}),
        ...(i.scope !== undefined ? { scope: i.scope } : {}),
        ...(i.options !== undefined ? { options: i.options } : {})
      }),
    'executions.pickCredential': (i) => executions().pickCredential(i.capability, i.target),
    'executions.revert': (i) => executions().revert(i.id, { force: i.force === true })
  };
}

export function promptHandlers(session: AppSession): DomainHandlers<typeof promptChannels> {
  return {
    'prompts.list': () => session.app().executions.prompts(),
    'prompts.reauthWithSecrets': async (i) => {
      await session.ensureUnlocked(i.passphrase);
      const r = await session.app().executions.reauthWithSecrets(i.credentialId, i.values);
      return { credential: credentialViewOf(session, r.validation), resumed: r.resumed, claimedElsewhere: [...r.claimedElsewhere] };
    }
  };
}
