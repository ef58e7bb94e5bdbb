import type { ProviderManifest } from '../manifest.ts';
import { hostingerSpec } from './spec.ts';

export const hostinger: ProviderManifest = {
  spec: hostingerSpec,
  texts: {
    summary: 'An hPanel API token; proven by listing the account’s VPS instances. Powers a VPS off and on.',
    setup: 'hPanel → Account → API → Generate token.'
  },
  validator: () => import('./plugin.ts').then((m) => m.plugin),
  capabilities: () => import('./capabilities.ts').then((m) => m.capabilities)
};
