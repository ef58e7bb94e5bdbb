import type { ProviderManifest } from '../manifest.ts';
import { googleWorkspaceSpec } from './spec.ts';

export const googleWorkspace: ProviderManifest = {
  spec: googleWorkspaceSpec,
  texts: {
    summary:
      'A service account with domain-wide delegation (or an admin’s OAuth consent) for a Workspace tenant: Gmail filters and user suspension.',
    setup: 'Admin console → Security → API controls → Domain-wide delegation: authorize the service account’s client id for the scopes.'
  },
  validator: () => import('./plugin.ts').then((m) => m.plugin),
  capabilities: () => import('./capabilities.ts').then((m) => m.capabilities),
  oauth: { oauth_user: () => import('./oauth.ts').then((m) => m.googleDriver) }
};
