import { sameAppOrigin } from '../ipc/sender.ts';
import { checkExternalUrl } from '../external.ts';

/** The window never leaves the app: a navigation elsewhere is cancelled. */
export function isAllowedNavigation(url: string, appUrl: string): boolean {
  return sameAppOrigin(url, appUrl);
}

/**
 * `window.open` / target=_blank never opens an Electron window. A link that passes the openExternal check goes to
 * the system browser instead; anything else is dropped.
 */
export function windowOpenDecision(url: string): { action: 'deny'; external: string | null } {
  try {
    return { action: 'deny', external: checkExternalUrl(url) };
  } catch {
    return { action: 'deny', external: null };
  }
}
