import { EVENT_NAMES, type EventName, type KeydeskEvents } from '../../preload/contract.ts';
import type { AppSession } from '../shell/session.ts';
import { auditHandlers } from './audit.ts';
import { bindingHandlers } from './bindings.ts';
import { credentialHandlers } from './credentials.ts';
import { createDispatcher, type Dispatch, type HandlerTable } from './dispatch.ts';
import { createHeadWatcher } from './events.ts';
import { executionHandlers, promptHandlers } from './executions.ts';
import { oauthHandlers } from './oauth.ts';
import { providerHandlers } from './providers.ts';
import { validationHandlers } from './validation.ts';
import { vaultHandlers } from './vault.ts';

/** Every channel's handler, domain by domain. The type makes a missing or extra channel a compile error. */
export function createHandlerTable(session: AppSession): HandlerTable {
  return {
    ...vaultHandlers(session),
    ...providerHandlers(session),
    ...credentialHandlers(session),
    ...auditHandlers(session),
    ...validationHandlers(session),
    ...bindingHandlers(session),
    ...executionHandlers(session),
    ...promptHandlers(session),
    ...oauthHandlers(session)
  };
}

export type EventSink = <E extends EventName>(name: E, payload: KeydeskEvents[E]) => void;

export interface IpcCore {
  dispatch: Dispatch;
  /** Forwards every contract event to `sink` (the renderer). Returns the unsubscribe function. */
  forward(sink: EventSink): () => void;
  /** Looks for writes by other processes (call every few seconds). */
  pollExternalChanges(): void;
}

/**
 * What the Electron adapter and the e2e harness both run: the dispatcher over the real handler table, event
 * forwarding from the session, and the audit-head poll for changes made by the CLI in another process.
 */
export function createIpcCore(session: AppSession, opts: { log?: (line: string) => void } = {}): IpcCore {
  const dispatch = createDispatcher(createHandlerTable(session), opts.log ? { log: opts.log } : {});
  let watcher: ReturnType<typeof createHeadWatcher> | null = null;
  let watchedApp: unknown = null;

  const ensureWatcher = () => {
    const app = session.current();
    if (!app) return null;
    if (watchedApp !== app) {
      watchedApp = app;
      watcher = createHeadWatcher({
        readHead: () => app.audit.headSeq(),
        readAfter: (seq) => app.audit.list({ afterSeq: seq }).map((e) => ({ seq: e.seq, action: e.action, credentialId: e.credentialId })),
        emit: (c) => session.events.emit('vault.changed', c)
      });
    }
    return watcher;
  };

  session.events.on('vault.changed', (c) => ensureWatcher()?.observe(c.seq));

  return {
    dispatch,
    forward(sink) {
      const offs = EVENT_NAMES.map((name) => session.events.on(name, (payload) => sink(name, payload as never)));
      return () => offs.forEach((off) => off());
    },
    pollExternalChanges() {
      try {
        ensureWatcher()?.check();
      } catch (e) {
        opts.log?.(`audit head poll failed: ${e instanceof Error ? e.name : typeof e}`);
      }
    }
  };
}
