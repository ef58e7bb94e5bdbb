import type { ProviderManifest } from '../manifest.ts';
import { agentsocMailBlockSpec } from './spec.ts';

export const agentsocMailBlock: ProviderManifest = {
  spec: agentsocMailBlockSpec,
  texts: {
    summary: 'A bearer token for the AgentSOC mail blocklist service; blocks sender domains (docs/blocklist-api.md).',
    setup: 'The blocklist service’s administrator issues the token (with write access to block domains).'
  },
  validator: () => import('./plugin.ts').then((m) => m.plugin),
  capabilities: () => import('./capabilities.ts').then((m) => m.capabilities)
};
