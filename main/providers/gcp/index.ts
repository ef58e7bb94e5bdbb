import type { ProviderManifest } from '../manifest.ts';
import { gcpSpec } from './spec.ts';

export const gcp: ProviderManifest = {
  spec: gcpSpec,
  texts: {
    summary: 'A service account key or a workload identity federation configuration; proven by a token exchange and a project lookup.',
    setup: 'Google Cloud console → IAM & Admin → Service accounts → Keys (or Workload Identity Federation → the pool’s configuration).'
  },
  validator: () => import('./plugin.ts').then((m) => m.plugin),
  capabilities: () => import('./capabilities.ts').then((m) => m.capabilities)
};
