// The renderer's only way to the app: window.keydesk (the preload's bridge). Nothing here can reach Node.
import type { ChannelInput, ChannelName, ChannelOutput, ErrorCode, ErrorShape, KeydeskBridge } from '../../../preload/contract.ts';
import { readableTimes } from '../format.ts';

declare global {
  interface Window {
    keydesk?: KeydeskBridge;
  }
}

/** A failed call: the stable code, the message for people and, for form input, per-field messages. */
export class CallError extends Error {
  readonly code: ErrorCode;
  readonly fields: Record<string, string>;

  constructor(shape: ErrorShape) {
    super(shape.message);
    this.name = 'CallError';
    this.code = shape.code;
    this.fields = shape.fields ?? {};
  }
}

export function bridge(): KeydeskBridge {
  const b = window.keydesk;
  if (!b) throw new CallError({ code: 'INTERNAL', message: 'Keydesk’s bridge to the app is missing; restart Keydesk.' });
  return b;
}

/** Calls one channel; resolves with its value or throws a CallError. */
export async function call<C extends ChannelName>(channel: C, input?: ChannelInput<C>): Promise<ChannelOutput<C>> {
  const r = await bridge().invoke(channel, input);
  if (r.ok) return r.value;
  throw new CallError(r.error);
}

export function isCallError(e: unknown, code?: ErrorCode): e is CallError {
  return e instanceof CallError && (code === undefined || e.code === code);
}

/** A message for any failure, for people. */
export function messageOf(e: unknown): string {
  if (e instanceof CallError) return readableTimes(e.message);
  return 'Something went wrong in the window. Nothing was changed; try again.';
}
