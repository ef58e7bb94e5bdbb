/**
 * Timers, injectable so tests can move time instead of waiting for it (the lease's polling and heartbeat, a
 * sign-in's timeout). Production uses `systemTimers`; a test passes a manual clock that is also a `Timers`
 * (main/testing/fixtures.ts) and advances it.
 */
export interface Timers {
  /** Calls `fn` once, `ms` from now. The returned function cancels it. */
  after(ms: number, fn: () => void): () => void;
  /** Calls `fn` every `ms` until the returned function is called. Never keeps the process alive on its own. */
  every(ms: number, fn: () => void): () => void;
}

export const systemTimers: Timers = {
  after(ms, fn) {
    const h = setTimeout(fn, ms);
    return () => clearTimeout(h);
  },
  every(ms, fn) {
    const h = setInterval(fn, ms);
    h.unref();
    return () => clearInterval(h);
  }
};

/** Resolves `ms` from now, on `timers`. */
export function sleepOn(timers: Timers): (ms: number) => Promise<void> {
  return (ms) => new Promise<void>((resolve) => void timers.after(ms, resolve));
}
