import { CHANNELS, type ChannelName, type ChannelOutput, type ChannelParsed, type Result } from '../../preload/contract.ts';
import { KeydeskError, describeForeignError, toErrorShape } from '../errors.ts';
import { isSecret } from '../vault/secret.ts';
import { parseUnknown } from './parse.ts';

/** One channel's implementation: parsed input in, plain output out. */
export type Handler<C extends ChannelName> = (input: ChannelParsed<C>) => ChannelOutput<C> | Promise<ChannelOutput<C>>;
/** The handlers of one contract domain (`vaultChannels`, `credentialChannels`, …). */
export type DomainHandlers<M> = { [C in keyof M & ChannelName]: Handler<C> };
/** Every channel of the contract, exactly once: a missing handler does not type-check. */
export type HandlerTable = { [C in ChannelName]: Handler<C> };

export type Dispatch = (channel: unknown, input: unknown) => Promise<Result<unknown>>;

export interface DispatchOptions {
  /** A secret-free log line for failures that were not Keydesk errors (their class and code, never their text). */
  log?: (line: string) => void;
}

function isChannel(channel: unknown): channel is ChannelName {
  return typeof channel === 'string' && Object.hasOwn(CHANNELS, channel);
}

/**
 * The IPC dispatcher, pure: unknown channels are UNKNOWN_CHANNEL, every input is parsed with the contract's schema
 * (INPUT_INVALID), every failure becomes `toErrorShape` (no stack, no foreign text), and every answer is checked
 * to be plain data with no Secret in it before it leaves. The sender check happens before this, in the adapter.
 */
export function createDispatcher(table: HandlerTable, opts: DispatchOptions = {}): Dispatch {
  return async (channel, input) => {
    if (!isChannel(channel))
      return { ok: false, error: { code: 'UNKNOWN_CHANNEL', message: 'No such channel in the Keydesk contract. Nothing was done.' } };
    try {
      const parsed = parseUnknown(CHANNELS[channel].input, input, `The ${channel} request`);
      const handler = table[channel] as (i: unknown) => unknown;
      const value = await handler(parsed);
      assertPlainData(value, channel);
      return { ok: true, value };
    } catch (e) {
      if (!(e instanceof KeydeskError) || e.code === 'INTERNAL') opts.log?.(`ipc ${channel} failed: ${describeForeignError(e)}`);
      return { ok: false, error: toErrorShape(e) };
    }
  };
}

/**
 * Answers are plain JSON data: strings, finite numbers, booleans, null, arrays and plain objects. A Secret, a
 * Buffer, a function or a class instance in an answer is a bug that could leak key material, so it fails closed.
 */
export function assertPlainData(value: unknown, channel: string, depth = 0): void {
  if (depth > 32) throw new KeydeskError('INTERNAL', `The ${channel} answer is nested too deeply; it was not sent.`);
  if (value === null || value === undefined || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return;
    throw new KeydeskError('INTERNAL', `The ${channel} answer held a number that is not finite; it was not sent.`);
  }
  if (isSecret(value)) throw new KeydeskError('INTERNAL', `The ${channel} answer held secret material; it was not sent.`);
  if (Array.isArray(value)) {
    for (const v of value) assertPlainData(v, channel, depth + 1);
    return;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null)
      throw new KeydeskError('INTERNAL', `The ${channel} answer held an object that is not plain data; it was not sent.`);
    for (const v of Object.values(value)) assertPlainData(v, channel, depth + 1);
    return;
  }
  throw new KeydeskError('INTERNAL', `The ${channel} answer held a ${typeof value}; it was not sent.`);
}
