import type { vaultChannels } from '../../preload/contract.ts';
import type { AppSession } from '../shell/session.ts';
import type { DomainHandlers } from './dispatch.ts';

export function vaultHandlers(session: AppSession): DomainHandlers<typeof vaultChannels> {
  return {
    'vault.status': () => session.status(),
    'vault.create': (i) => session.create(i.keySource, i.passphrase),
    'vault.unlock': (i) => session.unlock(i.passphrase),
    'vault.lock': () => session.lock()
  };
}
