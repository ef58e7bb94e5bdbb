import { createContext, useContext } from 'react';

/** Where the window is. A small state router: the app never navigates (the CSP and the shell forbid it). */
export type Route =
  { name: 'credentials' } | { name: 'credential'; id: string } | { name: 'domains' } | { name: 'executions' } | { name: 'audit' };

export interface RouteApi {
  route: Route;
  go(route: Route): void;
  /** True when the vault is locked and the analyst browses read-only. */
  locked: boolean;
  /** Shows the unlock screen. */
  requestUnlock(): void;
}

export const RouteContext = createContext<RouteApi | null>(null);

export function useRoute(): RouteApi {
  const r = useContext(RouteContext);
  if (!r) throw new Error('useRoute outside RouteContext');
  return r;
}
