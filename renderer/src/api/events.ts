import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useSyncExternalStore } from 'react';
import type { KeydeskEvents } from '../../../preload/contract.ts';
import { bridge } from './client.ts';
import { keys } from './keys.ts';

/**
 * Main's events invalidate the queries they make stale: a committed write (from this window, the scheduler or
 * the CLI in another process) refreshes the lists; lock and unlock refresh everything; run and prompt changes
 * refresh the executions and the re-auth banner.
 */
export function useKeydeskEvents(): void {
  const qc = useQueryClient();
  useEffect(() => {
    const b = bridge();
    const everything = () =>
      void qc.invalidateQueries({ predicate: (q) => q.queryKey[0] !== 'providers' && q.queryKey[0] !== 'capabilities' });
    const offs = [
      b.on('vault.changed', (c) => {
        void qc.invalidateQueries({ queryKey: keys.vault });
        void qc.invalidateQueries({ queryKey: keys.credentials });
        void qc.invalidateQueries({ queryKey: ['audit'] });
        void qc.invalidateQueries({ queryKey: ['bindings'] });
        void qc.invalidateQueries({ queryKey: ['suggestions'] });
        void qc.invalidateQueries({ queryKey: keys.prompts });
        void qc.invalidateQueries({ queryKey: ['executions'] });
        void qc.invalidateQueries({ queryKey: ['execution'] });
        if (c.action === 'vault.replaced') everything();
      }),
      b.on('vault.lock', everything),
      b.on('execution.changed', (e) => {
        void qc.invalidateQueries({ queryKey: ['executions'] });
        void qc.invalidateQueries({ queryKey: keys.execution(e.id) });
        void qc.invalidateQueries({ queryKey: keys.prompts });
      }),
      b.on('reauth.prompt', () => void qc.invalidateQueries({ queryKey: keys.prompts })),
      b.on('oauth.flow', (f) => flows.set(f)),
      b.on('validation.progress', (p) => {
        progress.set(p);
        if (p.credential) void qc.invalidateQueries({ queryKey: keys.credentials });
      })
    ];
    return () => offs.forEach((off) => off());
  }, [qc]);
}

/** The latest value of one event stream, for components that show live progress. */
function latest<T>() {
  let value: T | null = null;
  const subs = new Set<() => void>();
  return {
    set(v: T) {
      value = v;
      for (const s of subs) s();
    },
    get: () => value,
    subscribe(fn: () => void) {
      subs.add(fn);
      return () => void subs.delete(fn);
    }
  };
}

const flows = latest<KeydeskEvents['oauth.flow']>();
const progress = latest<KeydeskEvents['validation.progress']>();

/** The latest OAuth sign-in stage (started, waiting for the browser, completed, failed). */
export function useOAuthFlow(): KeydeskEvents['oauth.flow'] | null {
  return useSyncExternalStore(flows.subscribe, flows.get);
}

/** The latest validation progress (one credential or "validate all"). */
export function useValidationProgress(): KeydeskEvents['validation.progress'] | null {
  return useSyncExternalStore(progress.subscribe, progress.get);
}
