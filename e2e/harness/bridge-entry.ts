// Runs in the page (Playwright init script), standing in for preload/index.ts: the same createBridge, over
// Playwright bindings instead of ipcRenderer. Bundled by e2e/harness/build.ts.
import { createBridge } from '../../preload/bridge.ts';
import type { EventName } from '../../preload/contract.ts';

type Binding = (...args: unknown[]) => Promise<unknown>;
// Typed without the DOM library (this folder is checked with the Node tsconfig).
const w = globalThis as unknown as Record<string, unknown> & { top?: unknown };
const invokeBinding = w.__keydeskInvoke as Binding;
const nextEvents = w.__keydeskNextEvents as Binding;

const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
async function pump(): Promise<void> {
  for (;;) {
    const batch = (await nextEvents()) as { name: EventName; payload: unknown }[] | null;
    if (batch === null) return;
    for (const e of batch) for (const fn of listeners.get(e.name) ?? []) fn(e.payload);
  }
}

if (typeof invokeBinding === 'function' && typeof nextEvents === 'function' && w.top === globalThis) {
  void pump();
  Object.defineProperty(globalThis, 'keydesk', {
    value: createBridge(
      (channel, input) => invokeBinding(channel, input),
      (event, fn) => {
        let set = listeners.get(event);
        if (!set) listeners.set(event, (set = new Set()));
        set.add(fn);
        return () => void set.delete(fn);
      }
    ),
    writable: false,
    configurable: false
  });
}
