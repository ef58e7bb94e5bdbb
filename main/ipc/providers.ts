import type { providerChannels } from '../../preload/contract.ts';
import type { AppSession } from '../shell/session.ts';
import type { DomainHandlers } from './dispatch.ts';

export function providerHandlers(session: AppSession): DomainHandlers<typeof providerChannels> {
  const catalog = session.providers.catalog();
  return {
    'providers.list': () => structuredClone(catalog)
  };
}
