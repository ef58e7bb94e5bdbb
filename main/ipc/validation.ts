import type { ValidationRunView, validationChannels } from '../../preload/contract.ts';
import type { AppSession } from '../shell/session.ts';
import { credentialViewOf } from './credentials.ts';
import type { DomainHandlers } from './dispatch.ts';

export function validationHandlers(session: AppSession): DomainHandlers<typeof validationChannels> {
  const runs = new Set<AbortController>();
  const cancellable = async <T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const controller = new AbortController();
    runs.add(controller);
    try {
      return await run(controller.signal);
    } finally {
      runs.delete(controller);
    }
  };
  return {
    'validation.validate': async (i) => {
      const r = await cancellable((signal) => session.app().validation.validate(i.credentialId, { signal }));
      return credentialViewOf(session, r.credential);
    },
    'validation.validateAll': async (): Promise<ValidationRunView> => {
      const run = await cancellable((signal) => session.app().validation.validateAll({ signal }));
      return {
        runId: run.runId,
        ...run.summary,
        stopped: run.stopped ? { code: run.stopped.code, message: run.stopped.message } : null,
        results: run.results.map((r) => ({
          credentialId: r.credential.id,
          name: r.credential.name,
          status: r.recorded ? r.credential.status : 'skipped',
          errorCode: r.recorded ? (r.credential.lastError?.code ?? null) : (r.skipped?.code ?? null)
        }))
      };
    },
    'validation.cancel': () => {
      const n = runs.size;
      for (const r of runs) r.abort(new DOMException('Cancelled from the Keydesk window.', 'AbortError'));
      return { cancelled: n };
    }
  };
}
