import { KeydeskError } from '../errors.ts';
import { trustSystemStore } from './trust.ts';

/** Default per-request timeout for provider calls (DESIGN.md: requests have timeouts). */
export const DEFAULT_TIMEOUT_MS = 15_000;
/** Longest Retry-After we wait out inside one call; longer answers come back as "unknown, retry later". */
export const MAX_RETRY_AFTER_MS = 30_000;

export interface HttpOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** How many 429 answers to wait out (honouring Retry-After) before returning the 429. */
  retries429?: number;
  /** Injected sleep, so tests with a fake clock need not wait. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * Shared by the requests of one run (e.g. "validate all"): after one request to a host is answered 429 with a
   * Retry-After, every request of the run to that host waits it out too, instead of hammering the host.
   */
  gate?: RetryAfterGate;
}

export type ProviderHttp = (url: string | URL, init?: RequestInit) => Promise<Response>;

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason as Error);
      },
      { once: true }
    );
  });
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. null when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | null {
  if (!header) return null;
  const s = header.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : Math.max(0, t - now);
}

/** Seconds for a message: "15 s", "0.2 s". */
function seconds(ms: number): string {
  return ms >= 1000 || ms <= 0 ? `${Math.round(ms / 1000)} s` : `${Number((ms / 1000).toFixed(1))} s`;
}

/** Per-host "not before" times learned from 429 Retry-After answers, shared across the requests of one run. */
export class RetryAfterGate {
  readonly #until = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = () => Date.now()) {
    this.#now = now;
  }

  /** Records that `host` asked us to wait `ms` from now (keeps the later of two answers). */
  hold(host: string, ms: number): void {
    const t = this.#now() + ms;
    if (t > (this.#until.get(host) ?? 0)) this.#until.set(host, t);
  }

  /** Milliseconds a request to `host` must still wait (0 when it may go now). */
  remaining(host: string): number {
    const t = this.#until.get(host);
    return t === undefined ? 0 : Math.max(0, t - this.#now());
  }

  /** Waits until `host` may be asked again (re-checking a few times, in case another answer extended the wait). */
  async wait(host: string, signal?: AbortSignal, wait: (ms: number, signal?: AbortSignal) => Promise<void> = sleep): Promise<void> {
    for (let i = 0, ms = this.remaining(host); i < 5 && ms > 0; i++, ms = this.remaining(host)) await wait(ms, signal);
  }
}

function hostOf(url: string | URL): string {
  try {
    return new URL(String(url)).host;
  } catch {
    return '';
  }
}

/**
 * A network failure (refused, reset, DNS, TLS, timeout) as a Keydesk error. The message names the host and the
 * failure kind only: never the URL's query (which can hold a token) or the request body.
 */
export function unreachable(url: string | URL, e: unknown, timeoutMs: number): KeydeskError {
  let host = 'the provider';
  try {
    host = new URL(String(url)).host;
  } catch {
    /* keep the generic name */
  }
  const name = (e as { name?: string })?.name;
  const cause = (e as { cause?: { code?: string } })?.cause;
  if (name === 'TimeoutError') return new KeydeskError('PROVIDER_UNREACHABLE', `${host} did not answer within ${seconds(timeoutMs)}.`);
  if (name === 'AbortError') return new KeydeskError('PROVIDER_UNREACHABLE', `The request to ${host} was cancelled.`);
  const code = typeof cause?.code === 'string' ? cause.code : 'network error';
  return new KeydeskError('PROVIDER_UNREACHABLE', `Could not reach ${host} (${code}).`);
}

/** fetch with a timeout, a cancel signal and bounded Retry-After handling. */
export function providerHttp(opts: HttpOptions = {}): ProviderHttp {
  trustSystemStore();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retries = opts.retries429 ?? 2;
  const wait = opts.sleep ?? sleep;
  return async (url, init = {}) => {
    const host = hostOf(url);
    for (let attempt = 0; ; attempt++) {
      if (opts.gate && host) await opts.gate.wait(host, opts.signal, wait);
      const signals = [AbortSignal.timeout(timeoutMs)];
      if (opts.signal) signals.push(opts.signal);
      if (init.signal) signals.push(init.signal);
      let res: Response;
      try {
        res = await fetch(url, { ...init, redirect: init.redirect ?? 'error', signal: AbortSignal.any(signals) });
      } catch (e) {
        throw unreachable(url, e, timeoutMs);
      }
      if (res.status !== 429 || attempt >= retries) return res;
      const after = retryAfterMs(res.headers.get('retry-after'));
      if (after === null || after > MAX_RETRY_AFTER_MS) return res;
      await res.body?.cancel().catch(() => undefined);
      if (opts.gate && host) opts.gate.hold(host, after);
      else await wait(after, opts.signal);
    }
  };
}
