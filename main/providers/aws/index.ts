import type { ProviderManifest } from '../manifest.ts';
import { awsSpec } from './spec.ts';

export const aws: ProviderManifest = {
  spec: awsSpec,
  texts: {
    summary: 'An IAM access key pair, or a role Keydesk assumes with one; proven with STS GetCallerIdentity.',
    setup: 'IAM console → Users → Security credentials → Create access key (or a role whose trust policy names that user).'
  },
  validator: () => import('./plugin.ts').then((m) => m.plugin),
  capabilities: () => import('./capabilities.ts').then((m) => m.capabilities)
};
