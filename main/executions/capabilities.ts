import { KeydeskError } from '../errors.ts';
import type { CapabilityHandler, ProviderCapabilities } from '../providers/plugin.ts';
import type { CapabilityId, ProviderId } from '../providers/spec.ts';

/**
 * Capability handlers, one module per provider, loaded on first use (each pulls in its provider's SDK). A provider
 * whose spec lists a capability but has no handler here cannot run it yet: runs are refused with UNSUPPORTED before
 * anything is recorded.
 */
const LOADERS: Partial<Record<ProviderId, () => Promise<ProviderCapabilities>>> = {
  agentsoc_mail_block: () => import('../providers/agentsoc_mail_block/capabilities.ts').then((m) => m.capabilities),
  hostinger: () => import('../providers/hostinger/capabilities.ts').then((m) => m.capabilities),
  microsoft_365: () => import('../providers/microsoft_365/capabilities.ts').then((m) => m.capabilities),
  google_workspace: () => import('../providers/google_workspace/capabilities.ts').then((m) => m.capabilities)
};

const cache = new Map<string, Promise<ProviderCapabilities>>();

export type CapabilityLoader = (provider: string) => Promise<ProviderCapabilities>;

export const loadCapabilities: CapabilityLoader = (provider) => {
  const load = LOADERS[provider as ProviderId];
  if (!load) return Promise.resolve({});
  let p = cache.get(provider);
  if (!p) {
    p = load();
    cache.set(provider, p);
    p.catch(() => cache.delete(provider));
  }
  return p;
};

export async function capabilityHandler(load: CapabilityLoader, provider: string, capability: CapabilityId): Promise<CapabilityHandler> {
  const handlers = await load(provider);
  const h = handlers[capability];
  if (!h) throw new KeydeskError('UNSUPPORTED', `Keydesk cannot run ${capability} with ${provider} credentials yet.`);
  return h;
}
