// Test support: renders a piece of the window the way App does — the app's own react-query client and defaults, the
// event subscription that keeps queries fresh, and the route context views read. DOM only; window.keydesk comes
// from the tests' Keydesk ('#keydesk').
import { QueryClientProvider, type QueryClient } from '@tanstack/react-query';
import { render, renderHook, type RenderHookResult, type RenderResult } from '@testing-library/react';
import type { ReactElement, ReactNode } from 'react';
import { onTestFinished } from 'vitest';
import { useKeydeskEvents } from '../api/events.ts';
import { createQueryClient } from '../api/queryClient.ts';
import { RouteContext, type Route, type RouteApi } from '../app/route.tsx';

export interface WindowOptions {
  /** The vault is locked and the analyst browses read-only (the views' `useRoute().locked`). */
  locked?: boolean;
}

export interface TestWindow {
  client: QueryClient;
  /** Where the views asked to go (`useRoute().go`), in order. */
  went: Route[];
  /** How often a view asked for the unlock screen. */
  unlockRequests: number;
  wrapper: (props: { children: ReactNode }) => ReactElement;
}

function LiveEvents() {
  useKeydeskEvents();
  return null;
}

function makeWindow(opts: WindowOptions): TestWindow {
  const client = createQueryClient();
  onTestFinished(() => client.clear());
  const w: TestWindow = {
    client,
    went: [],
    unlockRequests: 0,
    wrapper: ({ children }) => (
      <QueryClientProvider client={client}>
        <LiveEvents />
        <RouteContext.Provider value={route}>{children}</RouteContext.Provider>
      </QueryClientProvider>
    )
  };
  const route: RouteApi = {
    route: { name: 'credentials' },
    go: (r) => void w.went.push(r),
    locked: opts.locked ?? false,
    requestUnlock: () => void w.unlockRequests++
  };
  return w;
}

/** Renders `ui` inside the window's providers. */
export function renderInWindow(ui: ReactElement, opts: WindowOptions = {}): RenderResult & TestWindow {
  const w = makeWindow(opts);
  return Object.assign(render(ui, { wrapper: w.wrapper }), w);
}

/** Runs a hook inside the window's providers. */
export function renderHookInWindow<T>(hook: () => T, opts: WindowOptions = {}): RenderHookResult<T, unknown> & TestWindow {
  const w = makeWindow(opts);
  return Object.assign(renderHook(hook, { wrapper: w.wrapper }), w);
}

/** Everything a user could read back from the page: its HTML and what every field holds (an uncontrolled input's
 * value is not in the HTML). */
export function pageText(): string {
  const values = [...document.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>('input, textarea')].map((e) => e.value);
  return `${document.body.innerHTML}\n${values.join('\n')}`;
}
