import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * A loopback test peer: a real HTTP(S) server on 127.0.0.1 that speaks one provider's wire protocol. Each peer
 * module supplies the protocol handler; the harness adds what every peer needs:
 * - faults a test can switch on (`peer.control.fault`): the generic ones (429 with Retry-After, 500, a hang,
 *   malformed JSON) are applied here before the handler runs; the credential ones (wrong secret, expired,
 *   revoked) are the handler's to apply, because each provider answers them in its own words;
 * - latency (for benchmarks), in-flight counting (max concurrency observed) and a request log.
 * Peers bind 127.0.0.1 only.
 */

export type Fault = 'none' | 'wrong_secret' | 'expired' | 'revoked' | 'rate_limited' | 'server_error' | 'hang' | 'malformed';

export interface RecordedRequest {
  method: string;
  path: string;
  at: number;
  /** How long the peer took to answer (latency included), once it has (benchmarks sum these as the provider's time). */
  ms?: number;
}

export interface PeerControl {
  fault: Fault;
  /** For `rate_limited`: the Retry-After seconds sent. */
  retryAfterSeconds: number;
  /** For `rate_limited`: how many requests get a 429 before the peer answers normally again (Infinity = all). */
  rateLimitCount: number;
  /** Added before every answer. */
  latencyMs: number;
  inFlight: number;
  maxInFlight: number;
  requests: RecordedRequest[];
  /**
   * A generic fault (hang, server_error, rate_limited, malformed) for the requests it picks, null for the rest: a run
   * that stops part-way (its second change hangs while the process is killed, or fails). Cleared by reset().
   */
  faultWhen: ((r: { method: string; path: string; body: string }) => Fault | null) | null;
}

export interface PeerContext {
  control: PeerControl;
  /** The request body, read fully (peers speak small JSON or form bodies). */
  body: string;
  url: URL;
  json(res: ServerResponse, status: number, value: unknown, headers?: Record<string, string>): void;
}

export type PeerHandler = (req: IncomingMessage, res: ServerResponse, ctx: PeerContext) => void | Promise<void>;

export interface Peer {
  /** Base URL, e.g. http://127.0.0.1:41234 (https:// for TLS peers). */
  url: string;
  port: number;
  control: PeerControl;
  setFault(fault: Fault, opts?: { retryAfterSeconds?: number; count?: number }): void;
  reset(): void;
  close(): Promise<void>;
}

export interface PeerOptions {
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
  latencyMs?: number;
  /**
   * The body of the generic 429 / 500 faults in the provider's own error format (a peer can speak several, e.g.
   * Google's OAuth endpoints and its APIs: hence the request path). Default: a plain `{error, message}`.
   */
  faultBody?: (fault: 'rate_limited' | 'server_error', url: URL) => unknown;
  /** For providers that do not answer JSON (STS speaks XML): the generic fault's body as raw text, instead of faultBody. */
  faultRaw?: (fault: 'rate_limited' | 'server_error', url: URL) => { contentType: string; body: string };
}

function freshControl(latencyMs = 0): PeerControl {
  return {
    fault: 'none',
    retryAfterSeconds: 1,
    rateLimitCount: Number.POSITIVE_INFINITY,
    latencyMs,
    inFlight: 0,
    maxInFlight: 0,
    requests: [],
    faultWhen: null
  };
}

function sendRaw(
  res: ServerResponse,
  status: number,
  raw: { contentType: string; body: string },
  headers: Record<string, string> = {}
): void {
  res.writeHead(status, { 'content-type': raw.contentType, 'content-length': Buffer.byteLength(raw.body), ...headers });
  res.end(raw.body);
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startPeer(handler: PeerHandler, opts: PeerOptions = {}): Promise<Peer> {
  const control = freshControl(opts.latencyMs);
  const hanging = new Set<ServerResponse>();
  const listener = async (req: IncomingMessage, res: ServerResponse) => {
    control.inFlight++;
    control.maxInFlight = Math.max(control.maxInFlight, control.inFlight);
    res.on('close', () => {
      control.inFlight--;
      hanging.delete(res);
    });
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, at: Date.now() };
    control.requests.push(recorded);
    const started = performance.now();
    res.on('finish', () => (recorded.ms = performance.now() - started));
    try {
      const body = await readBody(req);
      if (control.latencyMs > 0) await new Promise((r) => setTimeout(r, control.latencyMs));
      switch (control.faultWhen?.({ method: recorded.method, path: url.pathname, body }) ?? control.fault) {
        case 'hang':
          hanging.add(res);
          return; // never answers; closed when the client gives up or the peer closes
        case 'rate_limited':
          if (control.rateLimitCount > 0) {
            control.rateLimitCount--;
            const retryAfter = { 'retry-after': String(control.retryAfterSeconds) };
            if (opts.faultRaw) return sendRaw(res, 429, opts.faultRaw('rate_limited', url), retryAfter);
            return sendJson(
              res,
              429,
              opts.faultBody?.('rate_limited', url) ?? { error: 'rate_limited', message: 'Too many requests' },
              retryAfter
            );
          }
          break;
        case 'server_error':
          if (opts.faultRaw) return sendRaw(res, 500, opts.faultRaw('server_error', url));
          return sendJson(res, 500, opts.faultBody?.('server_error', url) ?? { error: 'internal', message: 'Internal server error' });
        case 'malformed':
          res.writeHead(200, { 'content-type': 'application/json' });
          return void res.end('{"this is not": json');
        default:
          break;
      }
      await handler(req, res, { control, body, url, json: sendJson });
    } catch {
      if (!res.headersSent) sendJson(res, 500, { error: 'peer_error' });
      else res.destroy();
    }
  };
  const server: Server = opts.tls
    ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, (q, s) => void listener(q, s))
    : createHttpServer((q, s) => void listener(q, s));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    control,
    setFault(fault, o = {}) {
      control.fault = fault;
      control.retryAfterSeconds = o.retryAfterSeconds ?? 1;
      control.rateLimitCount = o.count ?? Number.POSITIVE_INFINITY;
    },
    reset() {
      Object.assign(control, freshControl(control.latencyMs), { inFlight: control.inFlight });
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  };
}

/** The bearer token of a request, or null. */
export function bearer(req: IncomingMessage): string | null {
  const h = req.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer (\S+)$/i.exec(h) : null;
  return m?.[1] ?? null;
}
