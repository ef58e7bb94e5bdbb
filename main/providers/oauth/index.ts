import type { ProviderManifest } from '../manifest.ts';
import { oauthSpec } from './spec.ts';

export const oauth: ProviderManifest = {
  spec: oauthSpec,
  texts: {
    summary:
      'Any OAuth 2.0 provider (presets for Google, Microsoft, GitHub, Slack, or its URLs or discovery document); tokens come from a browser sign-in.',
    setup: 'Register a native (desktop) client with the provider and allow a loopback redirect (docs/oauth.md).'
  },
  oauth: { authorization_code: () => import('./oauth.ts').then((m) => m.genericDriver) }
};
