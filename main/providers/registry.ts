import { KeydeskError } from '../errors.ts';
import type { ProviderPlugin } from './plugin.ts';
import type { ProviderId } from './spec.ts';

/**
 * Provider plugins, loaded on first use: each pulls in its SDK (AWS, MSAL, google-auth-library), and a CLI
 * command that only lists credentials should not pay for all of them.
 */
const LOADERS: Partial<Record<ProviderId, () => Promise<ProviderPlugin>>> = {
  // One line per provider, e.g.: aws: () => import('./aws/plugin.ts').then((m) => m.plugin),
  aws: () => import('./aws/plugin.ts').then((m) => m.plugin),
  hostinger: () => import('./hostinger/plugin.ts').then((m) => m.plugin),
  agentsoc_mail_block: () => import('./agentsoc_mail_block/plugin.ts').then((m) => m.plugin),
  gcp: () => import('./gcp/plugin.ts').then((m) => m.plugin),
  google_workspace: () => import('./google_workspace/plugin.ts').then((m) => m.plugin),
  azure: () => import('./azure/plugin.ts').then((m) => m.plugin),
  microsoft_365: () => import('./microsoft_365/plugin.ts').then((m) => m.plugin)
};

const cache = new Map<ProviderId, Promise<ProviderPlugin>>();

export function loadPlugin(id: ProviderId): Promise<ProviderPlugin> {
  const load = LOADERS[id];
  if (!load) return Promise.reject(new KeydeskError('UNSUPPORTED', `Provider ${id} cannot validate yet.`));
  let p = cache.get(id);
  if (!p) {
    p = load();
    cache.set(id, p);
    p.catch(() => cache.delete(id));
  }
  return p;
}
