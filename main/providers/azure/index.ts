import type { ProviderManifest } from '../manifest.ts';
import { azureSpec } from './spec.ts';

export const azure: ProviderManifest = {
  spec: azureSpec,
  texts: {
    summary:
      'A service principal (client secret or certificate) and its subscription; proven with an MSAL token and a subscription lookup. Isolates a VM, blocks an IP in an NSG, powers a VM off.',
    setup: 'Entra admin center → App registrations → Certificates & secrets; give the app a role on the subscription.'
  },
  validator: () => import('./plugin.ts').then((m) => m.plugin),
  capabilities: () => import('./capabilities.ts').then((m) => m.capabilities)
};
