import { nodeCrypto } from '../../builtins.ts';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KeydeskError } from '../../errors.ts';
import { printableText } from '../../providers/scrub.ts';
import { systemTimers, type Timers } from './timers.ts';

/**
 * The RFC 8252 loopback redirect receiver: one per flow, on 127.0.0.1 only, on a port the OS picks for this flow.
 * The decisions are the pure functions `checkRequest` and `interpretCallback` (tested on their own); the server only
 * applies them:
 * - a request with the wrong method, path or Host header, or without this flow's `state`, gets an error page and the
 *   flow goes on waiting (it could be a stray tab, a port scan or a forged request: none of them may end the flow);
 * - the first request that carries this flow's state ends it: with the code, or with the provider's error
 *   (`access_denied` → OAUTH_DENIED, anything else → OAUTH_FAILED), and the listener closes;
 * - no answer within the timeout (default 5 minutes) → OAUTH_TIMEOUT; a cancelled signal → OAUTH_CANCELLED.
 * Every answer carries `Cache-Control: no-store`, a CSP that allows nothing, and no referrer.
 */

export const DEFAULT_FLOW_TIMEOUT_MS = 5 * 60_000;
/** form_post bodies are a few hundred bytes; anything bigger is not an authorization response. */
export const MAX_CALLBACK_BODY_BYTES = 64 * 1024;

export type RedirectHost = '127.0.0.1' | 'localhost';
export type ResponseMode = 'query' | 'form_post';

export interface CallbackExpectation {
  /** The Host header the browser sends for our redirect URI: `127.0.0.1:PORT` or `localhost:PORT`. */
  host: string;
  path: string;
  responseMode: ResponseMode;
}

export interface RequestFacts {
  method: string | undefined;
  /** The request target as sent (path and query). */
  target: string | undefined;
  host: string | undefined;
  contentType: string | undefined;
}

export type RequestVerdict =
  { ok: true; query: URLSearchParams } | { ok: false; status: 400 | 404 | 405 | 415 | 421; reason: string; allow?: string };

/** Method, path and Host of a request to the loopback listener. Pure. */
export function checkRequest(req: RequestFacts, expect: CallbackExpectation): RequestVerdict {
  const method = (req.method ?? '').toUpperCase();
  const allowed = expect.responseMode === 'form_post' ? 'POST' : 'GET';
  if ((req.host ?? '').toLowerCase() !== expect.host.toLowerCase()) {
    // DNS rebinding: a web page that resolves its own name to 127.0.0.1 reaches us with its own Host header.
    return { ok: false, status: 421, reason: 'This address is not the one Keydesk gave the sign-in page.' };
  }
  const target = req.target ?? '';
  // Origin-form only ("/path?query"); "//host/path" would parse as another authority's path.
  if (!target.startsWith('/') || target.startsWith('//'))
    return { ok: false, status: 400, reason: 'This request is not one Keydesk can read.' };
  let url: URL;
  try {
    url = new URL(target, `http://${expect.host}`);
  } catch {
    return { ok: false, status: 400, reason: 'This request is not one Keydesk can read.' };
  }
  // The path exactly as sent: no dot segments or percent-encoding that a URL parser would normalise into ours.
  const rawPath = target.split(/[?#]/, 1)[0];
  if (url.pathname !== expect.path || rawPath !== expect.path)
    return { ok: false, status: 404, reason: 'Nothing here: this is not the sign-in answer address.' };
  if (method !== allowed) return { ok: false, status: 405, reason: `The sign-in answer must arrive by ${allowed}.`, allow: allowed };
  if (allowed === 'POST') {
    const ct = (req.contentType ?? '').split(';')[0]?.trim().toLowerCase();
    if (ct !== 'application/x-www-form-urlencoded')
      return { ok: false, status: 415, reason: 'The sign-in answer must be a form submission.' };
  }
  return { ok: true, query: url.searchParams };
}

export type CallbackVerdict =
  | { kind: 'code'; params: URLSearchParams }
  | { kind: 'error'; code: 'OAUTH_DENIED' | 'OAUTH_FAILED'; error: string; description: string | null }
  | { kind: 'reject'; reason: string };

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && nodeCrypto().timingSafeEqual(x, y);
}

/**
 * Printable, bounded text from a provider (error codes and descriptions are shown to the analyst). Invisible
 * characters are removed rather than replaced, so a secret interleaved with them stays whole for the scrubber.
 */
export function printableProviderText(s: string, max = 300): string {
  const clean = printableText(s)
    .replace(/[^\x20-\x7E]/g, '?')
    .trim();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

const ERROR_CODE_RE = /^[\x20-\x21\x23-\x5B\x5D-\x7E]{1,100}$/;

/**
 * What an authorization response means for this flow. Pure. Exactly one `state`, equal to ours (constant-time),
 * or it is not ours (rejected, the flow goes on). Then exactly one `error` (the provider refused) or exactly one
 * `code` (success); anything else is malformed (rejected).
 */
export function interpretCallback(params: URLSearchParams, expectedState: string): CallbackVerdict {
  const states = params.getAll('state');
  if (states.length !== 1 || !sameSecret(states[0] ?? '', expectedState)) {
    return { kind: 'reject', reason: 'This sign-in answer does not belong to the sign-in Keydesk started (its state does not match).' };
  }
  const errors = params.getAll('error');
  if (errors.length > 0) {
    const error = errors[0] ?? '';
    if (errors.length !== 1 || !ERROR_CODE_RE.test(error)) return { kind: 'reject', reason: 'The sign-in answer is malformed.' };
    const desc = params.get('error_description');
    return {
      kind: 'error',
      code: error === 'access_denied' ? 'OAUTH_DENIED' : 'OAUTH_FAILED',
      error,
      description: desc ? printableProviderText(desc) : null
    };
  }
  const codes = params.getAll('code');
  if (codes.length !== 1 || !/^[\x21-\x7E]{1,4096}$/.test(codes[0] ?? ''))
    return { kind: 'reject', reason: 'The sign-in answer has no usable authorization code.' };
  return { kind: 'code', params };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page the browser shows. Text only; nothing from the request except the provider's printable error. */
export function callbackPage(title: string, text: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Keydesk — ${escapeHtml(title)}</title><style>body{font:16px system-ui,sans-serif;margin:4rem auto;max-width:36rem;color:#222}h1{font-size:1.4rem}</style></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>`;
}

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  connection: 'close'
} as const;

export interface LoopbackOptions {
  expectedState: string;
  /** 127.0.0.1 unless the provider insists on localhost (Entra's registered `http://localhost`). The listener binds 127.0.0.1 either way. */
  redirectHost?: RedirectHost;
  path?: string;
  responseMode?: ResponseMode;
  timeoutMs?: number;
  /** Runs the timeout (default: the system timers). */
  timers?: Timers;
  signal?: AbortSignal;
  /** Each request that was turned away (for progress events and tests); never carries request data. */
  onRejected?: (status: number) => void;
}

export interface LoopbackFlow {
  redirectUri: string;
  port: number;
  /** The authorization response parameters (with the code), or an OAUTH_* KeydeskError. */
  result: Promise<URLSearchParams>;
  /** Closes the listener now (idempotent); a pending result rejects with OAUTH_CANCELLED. */
  close(): Promise<void>;
}

/** The request body up to `limit` bytes; null beyond (the rest is read and dropped, so a 413 can still be sent). */
function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(size > limit ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(null));
  });
}

/** Starts the listener for one flow. Resolves once it listens (so the redirect URI is known). */
export async function startLoopback(opts: LoopbackOptions): Promise<LoopbackFlow> {
  const redirectHost = opts.redirectHost ?? '127.0.0.1';
  const path = opts.path ?? '/callback';
  const responseMode = opts.responseMode ?? 'query';
  const timeoutMs = opts.timeoutMs ?? DEFAULT_FLOW_TIMEOUT_MS;
  if (opts.signal?.aborted) throw new KeydeskError('OAUTH_CANCELLED', 'The sign-in was cancelled before it started.');

  let settle!: { resolve: (p: URLSearchParams) => void; reject: (e: KeydeskError) => void };
  const result = new Promise<URLSearchParams>((resolve, reject) => (settle = { resolve, reject }));
  result.catch(() => undefined); // the caller may close before awaiting
  let done = false;
  let expect: CallbackExpectation | null = null;
  let cancelTimeout = (): void => undefined;

  // node:http is loaded when a sign-in starts: importing it loads Node's fetch stack too, which most commands never use.
  const { createServer } = await import('node:http');
  const server: Server = createServer({ requestTimeout: 30_000, headersTimeout: 15_000 });
  const send = (
    res: ServerResponse,
    status: number,
    title: string,
    text: string,
    extra: Record<string, string> = {},
    after?: () => void
  ) => {
    res.writeHead(status, { ...SECURITY_HEADERS, ...extra });
    res.end(callbackPage(title, text), after);
  };
  const shutdown = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  const onAbort = () => {
    finish({ err: new KeydeskError('OAUTH_CANCELLED', 'The sign-in was cancelled; nothing was stored.') });
    void shutdown();
  };
  const finish = (outcome: { ok: URLSearchParams } | { err: KeydeskError }) => {
    if (done) return;
    done = true;
    cancelTimeout();
    opts.signal?.removeEventListener('abort', onAbort);
    if ('ok' in outcome) settle.resolve(outcome.ok);
    else settle.reject(outcome.err);
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      if (done || !expect) return send(res, 410, 'Sign-in already finished', 'This sign-in is over. You can close this tab.');
      const verdict = checkRequest(
        { method: req.method, target: req.url, host: req.headers.host, contentType: req.headers['content-type'] },
        expect
      );
      if (!verdict.ok) {
        opts.onRejected?.(verdict.status);
        return send(res, verdict.status, 'Not a sign-in answer', verdict.reason, verdict.allow ? { allow: verdict.allow } : {});
      }
      let params = verdict.query;
      if (responseMode === 'form_post') {
        const body = await readBody(req, MAX_CALLBACK_BODY_BYTES);
        if (body === null) {
          opts.onRejected?.(413);
          return send(res, 413, 'Not a sign-in answer', 'The request is too large to be a sign-in answer.');
        }
        params = new URLSearchParams(body);
      }
      if (done) return send(res, 410, 'Sign-in already finished', 'This sign-in is over. You can close this tab.');
      const answer = interpretCallback(params, opts.expectedState);
      if (answer.kind === 'reject') {
        opts.onRejected?.(400);
        return send(res, 400, 'Not a sign-in answer', `${answer.reason} Keydesk is still waiting for the sign-in it started.`);
      }
      if (answer.kind === 'error') {
        const detail = `${answer.error}${answer.description ? `: ${answer.description}` : ''}`;
        finish({
          err: new KeydeskError(
            answer.code,
            answer.code === 'OAUTH_DENIED'
              ? `The sign-in was refused (${detail}). Nothing was stored.`
              : `The authorization server answered with an error (${detail}). Nothing was stored.`
          )
        });
        return send(
          res,
          200,
          answer.code === 'OAUTH_DENIED' ? 'Sign-in refused' : 'Sign-in failed',
          `Keydesk received the answer "${detail}". You can close this tab.`,
          {},
          () => void shutdown()
        );
      }
      finish({ ok: answer.params });
      send(res, 200, 'Signed in', 'Keydesk received the sign-in. You can close this tab and return to Keydesk.', {}, () => void shutdown());
    })();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) =>
      reject(
        new KeydeskError(
          'OAUTH_FAILED',
          `Keydesk could not open a local port for the sign-in answer (${(e as { code?: string }).code ?? 'error'}).`
        )
      )
    );
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  expect = { host: `${redirectHost}:${port}`, path, responseMode };

  cancelTimeout = (opts.timers ?? systemTimers).after(timeoutMs, () => {
    finish({
      err: new KeydeskError(
        'OAUTH_TIMEOUT',
        `No sign-in answer arrived within ${Math.round(timeoutMs / 1000)} s; the sign-in was abandoned and nothing was stored. Start it again when ready.`
      )
    });
    void shutdown();
  });
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  return {
    redirectUri: `http://${redirectHost}:${port}${path}`,
    port,
    result,
    async close() {
      finish({ err: new KeydeskError('OAUTH_CANCELLED', 'The sign-in was cancelled; nothing was stored.') });
      await shutdown();
    }
  };
}
