import type { ProviderManifest } from '../manifest.ts';
import { microsoft365Spec } from './spec.ts';

export const microsoft365: ProviderManifest = {
  spec: microsoft365Spec,
  texts: {
    summary:
      'An Entra app registration (client secret or certificate, or delegated consent) for a Microsoft 365 tenant: inbox rules, the Tenant Allow/Block List, sign-in blocks.',
    setup:
      'Entra admin center → App registrations → API permissions (Graph application permissions, admin consent) → Certificates & secrets.'
  },
  validator: () => import('./plugin.ts').then((m) => m.plugin),
  capabilities: () => import('./capabilities.ts').then((m) => m.capabilities),
  oauth: { oauth_delegated: () => import('./oauth.ts').then((m) => m.microsoftDriver) }
};
