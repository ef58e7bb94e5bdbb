// The object the preload exposes as window.keydesk. Pure (no electron import): the preload builds it over
// ipcRenderer, and the e2e harness builds the very same object over Playwright bindings.
import {
  CHANNEL_NAMES,
  EVENT_NAMES,
  type ChannelName,
  type EventName,
  type KeydeskBridge,
  type KeydeskEvents,
  type Result
} from './contract.ts';

/** Sends one call to main. Must resolve with the result envelope main answered. */
export type Invoke = (channel: ChannelName, input: unknown) => Promise<unknown>;
/** Delivers every event main forwards; returns the unsubscribe function. */
export type Subscribe = (event: EventName, listener: (payload: unknown) => void) => () => void;

const channels: ReadonlySet<string> = new Set(CHANNEL_NAMES);
const events: ReadonlySet<string> = new Set(EVENT_NAMES);

function failure(code: 'UNKNOWN_CHANNEL' | 'INTERNAL', message: string): Result<never> {
  return { ok: false, error: { code, message } };
}

/** A well-formed envelope, or an INTERNAL failure: the renderer never sees anything else. */
function asResult(v: unknown): Result<never> {
  if (v && typeof v === 'object' && 'ok' in v) {
    const r = v as { ok: unknown; value?: unknown; error?: unknown };
    if (r.ok === true) return { ok: true, value: r.value as never };
    if (r.ok === false && r.error && typeof r.error === 'object') {
      const e = r.error as { code?: unknown; message?: unknown; fields?: unknown };
      if (typeof e.code === 'string' && typeof e.message === 'string') return { ok: false, error: r.error as never };
    }
  }
  return failure('INTERNAL', 'The app answered in an unexpected shape. Nothing was changed.');
}

/**
 * Builds window.keydesk: `invoke` forwards only contract channels and never rejects; `on` subscribes only to
 * contract events. Nothing else (no ipcRenderer, no process) is reachable through it.
 */
export function createBridge(invoke: Invoke, subscribe: Subscribe): KeydeskBridge {
  const bridge: KeydeskBridge = {
    async invoke(channel, input) {
      if (typeof channel !== 'string' || !channels.has(channel))
        return failure('UNKNOWN_CHANNEL', 'No such channel in the Keydesk contract.');
      try {
        return asResult(await invoke(channel, input));
      } catch {
        return failure('INTERNAL', 'The app did not answer. Nothing was changed; try again.');
      }
    },
    on(event, listener) {
      if (typeof event !== 'string' || !events.has(event) || typeof listener !== 'function') return () => {};
      return subscribe(event, (payload) => (listener as (p: KeydeskEvents[typeof event]) => void)(payload as KeydeskEvents[typeof event]));
    }
  };
  return Object.freeze(bridge);
}
