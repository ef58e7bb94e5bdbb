import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { bridge } from './client.ts';
import { keys } from './keys.ts';

/**
 * Main's events invalidate the queries they make stale: a committed write (from this window, the scheduler or
 * the CLI in another process) refreshes the lists; lock and unlock refresh everything.
 */
export function useKeydeskEvents(): void {
  const qc = useQueryClient();
  useEffect(() => {
    const b = bridge();
    const offs = [
      b.on('vault.changed', (c) => {
        void qc.invalidateQueries({ queryKey: keys.vault });
        void qc.invalidateQueries({ queryKey: keys.credentials });
        void qc.invalidateQueries({ queryKey: ['audit'] });
        if (c.credentialId) void qc.invalidateQueries({ queryKey: keys.credential(c.credentialId) });
      }),
      b.on('vault.lock', () => void qc.invalidateQueries({ predicate: (q) => q.queryKey[0] !== 'providers' }))
    ];
    return () => offs.forEach((off) => off());
  }, [qc]);
}
