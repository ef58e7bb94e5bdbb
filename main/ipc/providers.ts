import type { providerChannels } from '../../preload/contract.ts';
import { PROVIDER_SPECS, providerView } from '../providers/catalog.ts';
import type { DomainHandlers } from './dispatch.ts';

export function providerHandlers(): DomainHandlers<typeof providerChannels> {
  const catalog = PROVIDER_SPECS.map(providerView);
  return {
    'providers.list': () => structuredClone(catalog)
  };
}
