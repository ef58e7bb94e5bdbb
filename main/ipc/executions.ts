import type { CapabilityShapeView, ExecutionView, PromptView, executionChannels, promptChannels } from '../../preload/contract.ts';
import { CAPABILITY_SHAPES } from '../executions/inputs.ts';
import { REVERTIBLE_STATUSES } from '../executions/lifecycle.ts';
import type { PromptView as ServicePrompt } from '../executions/service.ts';
import type { ExecutionView as ServiceExecution } from '../executions/store.ts';
import { CAPABILITY_IDS } from '../providers/spec.ts';
import type { AppSession } from '../shell/session.ts';
import { credentialView } from './credentials.ts';
import type { DomainHandlers } from './dispatch.ts';

/** A run as the UI shows it. The revert context (provider ids captured before the call) stays in main. */
export function executionView(e: ServiceExecution): ExecutionView {
  return {
    id: e.id,
    capability: e.capability,
    target: e.target,
    hostEmail: e.hostEmail,
    hostDomain: e.hostDomain,
    reason: e.reason,
    actor: e.actor,
    actorKind: e.actorKind,
    credentialId: e.credentialId,
    credentialName: e.credentialName,
    provider: e.provider,
    mode: e.mode,
    bindingId: e.bindingId,
    boundDomain: e.boundDomain,
    status: e.status,
    statusRecorded: e.statusRecorded,
    failureReason: e.failureReason,
    marker: e.marker,
    relatedId: e.relatedId,
    error: e.error ? { code: e.error.code, message: e.error.message } : null,
    result: e.result ? { summary: e.result.summary, ...(e.result.details ? { details: structuredClone(e.result.details) } : {}) } : null,
    steps: e.steps.map((s) => ({ at: s.at, message: s.message })),
    deadline: e.deadline,
    attempts: e.attempts,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
    finishedAt: e.finishedAt,
    revertedAt: e.revertedAt,
    revertible: REVERTIBLE_STATUSES.includes(e.status)
  };
}

function promptView(p: ServicePrompt): PromptView {
  return { ...p, waiting: p.waiting.map((w) => ({ id: w.id, capability: w.capability, target: w.target, deadline: w.deadline })) };
}

const CAPABILITIES: CapabilityShapeView[] = CAPABILITY_IDS.map((id) => ({ id, ...CAPABILITY_SHAPES[id] }));

export function executionHandlers(session: AppSession): DomainHandlers<typeof executionChannels> {
  const executions = () => session.app().executions;
  return {
    'executions.capabilities': () => structuredClone(CAPABILITIES),
    'executions.list': (i) =>
      executions()
        .list({
          ...(i?.status ? { status: i.status } : {}),
          ...(i?.credentialId ? { credential: i.credentialId } : {}),
          limit: i?.limit ?? 200
        })
        .map(executionView),
    'executions.get': (i) => executionView(executions().get(i.id)),
    'executions.run': async (i) =>
      executionView(
        await executions().run({
          capability: i.capability,
          target: i.target,
          reason: i.reason,
          ...(i.hostEmail !== undefined ? { hostEmail: i.hostEmail } : {}),
          ...(i.hostDomain !== undefined ? { hostDomain: i.hostDomain } : {}),
          ...(i.credential !== undefined ? { credential: i.credential } : {})
        })
      ),
    'executions.revert': async (i) => executionView(await executions().revert(i.id))
  };
}

export function promptHandlers(session: AppSession): DomainHandlers<typeof promptChannels> {
  return {
    'prompts.list': () => session.app().executions.prompts().map(promptView),
    'prompts.reauthWithSecrets': async (i) => {
      await session.ensureUnlocked(i.passphrase);
      const r = await session.app().executions.reauthWithSecrets(i.credentialId, i.values);
      return {
        credential: credentialView(r.validation, session.clock.now()),
        resumed: r.resumed.map(executionView),
        claimedElsewhere: [...r.claimedElsewhere]
      };
    }
  };
}
