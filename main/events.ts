import type { KeydeskEvents } from '../preload/contract.ts';

type Listener<T> = (payload: T) => void;

/**
 * Typed in-process events. Services emit; the IPC layer forwards them to the renderer (the payload types live in
 * the contract, and never carry secret material). A throwing listener never breaks the emitter.
 */
export class EventBus<M extends object = KeydeskEvents> {
  #listeners = new Map<keyof M, Set<Listener<never>>>();

  on<K extends keyof M>(name: K, fn: Listener<M[K]>): () => void {
    let set = this.#listeners.get(name);
    if (!set) this.#listeners.set(name, (set = new Set()));
    set.add(fn as Listener<never>);
    return () => set.delete(fn as Listener<never>);
  }

  emit<K extends keyof M>(name: K, payload: M[K]): void {
    for (const fn of this.#listeners.get(name) ?? []) {
      try {
        (fn as Listener<M[K]>)(payload);
      } catch {
        /* a listener's failure is its own */
      }
    }
  }
}
