import { KeydeskError } from '../errors.ts';

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
}

export type ProviderHttp = (url: string | URL, init?: RequestInit) => Promise<Response>;

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason as Error);
    }, { once: true });
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
  if (name === 'TimeoutError') return new KeydeskError('PROVIDER_UNREACHABLE', `${host} did not answer within ${Math.round(timeoutMs / 1000)} s.`);
  if (name === 'AbortError') return new KeydeskError('PROVIDER_UNREACHABLE', `The request to ${host} was cancelled.`);
  const code = typeof cause?.code === 'string' ? cause.code : 'network error';
  return new KeydeskError('PROVIDER_UNREACHABLE', `Could not reach ${host} (${code}).`);
}

/** fetch with a timeout, a cancel signal and bounded Retry-After handling. */
export function providerHttp(opts: HttpOptions = {}): ProviderHttp {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retries = opts.retries429 ?? 2;
  const wait = opts.sleep ?? sleep;
  return async (url, init = {}) => {
    for (let attempt = 0; ; attempt++) {
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
      await wait(after, opts.signal);
    }
  };
}
