import { KeydeskError } from '../../errors.ts';
import { modeSpec } from '../../providers/catalog.ts';
import type { DriverDeps, FlowDriver, OAuthSource } from './types.ts';

export type { AuthorizationRequest, DriverDeps, FlowDriver, LoopbackShape, OAuthSource } from './types.ts';

/** The OAuth modes and the library that speaks for each. Loaded lazily: each pulls in its SDK. */
export const OAUTH_MODES: Record<string, () => Promise<(s: OAuthSource, d: DriverDeps) => Promise<FlowDriver>>> = {
  'oauth/authorization_code': () => import('./generic.ts').then((m) => m.genericDriver),
  'google_workspace/oauth_user': () => import('./google.ts').then((m) => m.googleDriver),
  'microsoft_365/oauth_delegated': () => import('./microsoft.ts').then((m) => m.microsoftDriver)
};

export function isOAuthMode(provider: string, mode: string): boolean {
  return `${provider}/${mode}` in OAUTH_MODES;
}

/** The driver for a credential's provider and mode; UNSUPPORTED for a mode that is not OAuth. */
export async function driverFor(source: OAuthSource, deps: DriverDeps): Promise<FlowDriver> {
  const load = OAUTH_MODES[`${source.provider}/${source.mode}`];
  if (!load || !modeSpec(source.provider, source.mode).oauth) {
    throw new KeydeskError(
      'UNSUPPORTED',
      `${source.provider}/${source.mode} is not an OAuth mode: its secrets are entered, not obtained by signing in. OAuth modes: ${Object.keys(OAUTH_MODES).join(', ')}.`
    );
  }
  return (await load())(source, deps);
}
