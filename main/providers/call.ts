import { KeydeskError, describeForeignError } from '../errors.ts';
import type { Secret } from '../vault/secret.ts';
import { DEFAULT_TIMEOUT_MS, providerHttp, type ProviderHttp, type RetryAfterGate } from './http.ts';
import { ActionError, type ActionFailureKind } from './plugin.ts';
import { cleanErrorCode, cleanProviderText, makeScrubber, scrubDeep, type Scrubber } from './scrub.ts';

/**
 * The one way Keydesk calls a provider: validation, response actions and OAuth all open a ProviderCall and hand its
 * `http` to the plugin, handler or driver. It owns the plumbing those three used to write each on their own — the
 * per-request timeout (from the app's config), cancellation, 429 Retry-After handling, the scrubber for the secrets
 * in play, and the mapping of a failed action's error to an execution outcome.
 */

export const MIN_TIMEOUT_MS = 100;
export const MAX_TIMEOUT_MS = 120_000;

/** What every call of one process shares: built once by the composition root from AppConfig.providerTimeoutMs. */
export interface CallSettings {
  /** Per-request timeout, ms. */
  timeoutMs: number;
  /** Injected wait for Retry-After (tests with a fake clock). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Settings with the timeout checked (INPUT_INVALID outside 0.1 s – 120 s). */
export function callSettings(opts: { timeoutMs?: number | undefined; sleep?: CallSettings['sleep'] } = {}): CallSettings {
  return { timeoutMs: checkTimeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS), ...(opts.sleep ? { sleep: opts.sleep } : {}) };
}

export function checkTimeout(ms: number): number {
  if (!Number.isFinite(ms) || ms < MIN_TIMEOUT_MS || ms > MAX_TIMEOUT_MS) {
    throw new KeydeskError('INPUT_INVALID', `The request timeout is from ${MIN_TIMEOUT_MS / 1000} s to ${MAX_TIMEOUT_MS / 1000} s.`);
  }
  return ms;
}

export interface CallOptions {
  /** The secrets that may travel in this call (they are redacted from every word the provider sends back). */
  secrets?: Iterable<Secret | string | null | undefined>;
  /** Cancels the call (one signal, or several: any of them). */
  signal?: AbortSignal | readonly (AbortSignal | undefined)[];
  /** This call's timeout, when it differs from the settings' (validate --timeout). */
  timeoutMs?: number;
  /** Shared by the calls of one run: a host's Retry-After holds them all. */
  gate?: RetryAfterGate;
  /** Runs before every request (an OAuth refresh checks it still holds its lease); throwing stops the request. */
  guard?: () => void;
}

export interface ProviderCall {
  /** fetch with the timeout, the cancel signal and Retry-After handling built in; network errors are secret-free. */
  readonly http: ProviderHttp;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly scrubber: Scrubber;
  /** A provider's words for an analyst: secrets redacted, control characters dropped, at most `max` characters. */
  text(v: unknown, max?: number): string;
  /** A provider's error code, as a short token. */
  code(v: unknown): string;
  /** Redacts the secrets in play anywhere in a JSON-like value (results, revert contexts, observed facts). */
  clean<T>(v: T): T;
}

export function openCall(settings: CallSettings, opts: CallOptions = {}): ProviderCall {
  const secrets: string[] = [];
  for (const s of opts.secrets ?? []) {
    const v = typeof s === 'string' ? s : s?.reveal();
    if (v) secrets.push(v);
  }
  const scrubber = makeScrubber(secrets);
  const signals = (Array.isArray(opts.signal) ? opts.signal : [opts.signal]).filter((s): s is AbortSignal => s !== undefined);
  const signal = signals.length === 0 ? new AbortController().signal : signals.length === 1 ? signals[0]! : AbortSignal.any(signals);
  const timeoutMs = opts.timeoutMs === undefined ? settings.timeoutMs : checkTimeout(opts.timeoutMs);
  const base = providerHttp({
    timeoutMs,
    signal,
    ...(opts.gate ? { gate: opts.gate } : {}),
    ...(settings.sleep ? { sleep: settings.sleep } : {})
  });
  const guard = opts.guard;
  const http: ProviderHttp = guard
    ? (url, init) => {
        guard();
        return base(url, init);
      }
    : base;
  return {
    http,
    timeoutMs,
    signal,
    scrubber,
    text: (v, max = 500) => cleanProviderText(v, scrubber, max),
    code: (v) => cleanErrorCode(v, scrubber),
    clean: <T>(v: T) => scrubDeep(v, scrubber) as T
  };
}

/** A failed action in the execution's terms: wait for re-authentication, or one of the failure reasons. */
export interface ActionFailure {
  kind: ActionFailureKind;
  code: string;
  message: string;
  /** For `reauth`: what the credential's status becomes. */
  credentialStatus: 'failed' | 'expired';
}

/**
 * What a capability handler threw, as an execution outcome. Its own ActionError says exactly; Keydesk's errors from
 * the call plumbing map by code (a refresh the provider refused → re-authenticate; an unreachable provider → a cloud
 * API error); anything else is an unexpected failure whose effect is unknown. Messages are scrubbed.
 */
export function actionFailure(e: unknown, call: Pick<ProviderCall, 'text' | 'code'>): ActionFailure {
  if (e instanceof ActionError) {
    return { kind: e.kind, code: call.code(e.providerCode), message: call.text(e.message), credentialStatus: e.credentialStatus };
  }
  if (e instanceof KeydeskError) {
    const message = call.text(e.message);
    switch (e.code) {
      case 'PROVIDER_EXPIRED':
        return { kind: 'reauth', code: e.code, message, credentialStatus: 'expired' };
      case 'PROVIDER_REJECTED':
        return { kind: 'reauth', code: e.code, message, credentialStatus: 'failed' };
      case 'INPUT_INVALID':
        return { kind: 'input_invalid', code: e.code, message, credentialStatus: 'failed' };
      case 'NOT_FOUND':
        return { kind: 'inventory_not_found', code: e.code, message, credentialStatus: 'failed' };
      default:
        return { kind: 'cloud_api_error', code: e.code, message, credentialStatus: 'failed' };
    }
  }
  return {
    kind: 'cloud_api_error',
    code: 'INTERNAL',
    message: `The action stopped on an unexpected error (${describeForeignError(e)}); its effect is unknown. Check the provider before running it again.`,
    credentialStatus: 'failed'
  };
}
