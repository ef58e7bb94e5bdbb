import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { manualClock } from '../../testing/fixtures.ts';
import { DEFAULT_FLOW_TIMEOUT_MS, checkRequest, interpretCallback, startLoopback, type LoopbackOptions } from './loopback.ts';

// Guards DESIGN.md "OAuth": a loopback redirect on 127.0.0.1 with a port per flow; method, path, Host and state
// checked; a request that fails them gets an error page and does not use up the flow; the first valid callback ends
// it and the listener closes; Cache-Control: no-store; a timeout; errors shown, not swallowed.

const STATE = 'state-for-this-flow-0123456789abcdefghijklmno';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request (fetch cannot set the Host header), to an address and port of our choosing. */
function raw(
  port: number,
  opts: { method?: string; path?: string; host?: string; body?: string; contentType?: string; address?: string } = {}
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: opts.address ?? '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.path ?? '/callback',
        setHost: false,
        headers: {
          host: opts.host ?? `127.0.0.1:${port}`,
          ...(opts.contentType ? { 'content-type': opts.contentType } : {}),
          ...(opts.body !== undefined ? { 'content-length': Buffer.byteLength(opts.body) } : {})
        }
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      }
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

async function flow(extra: Partial<LoopbackOptions> = {}) {
  const f = await startLoopback({ expectedState: STATE, timeoutMs: 20_000, ...extra });
  return f;
}

const cb = (params: Record<string, string>) => `/callback?${new URLSearchParams(params)}`;

describe('loopback redirect: pure checks', () => {
  const expect_ = { host: '127.0.0.1:5000', path: '/callback', responseMode: 'query' as const };

  it('accepts GET to the callback path on our Host', () => {
    expect(
      checkRequest({ method: 'GET', target: '/callback?code=a&state=b', host: '127.0.0.1:5000', contentType: undefined }, expect_)
    ).toMatchObject({ ok: true });
  });

  it('refuses another Host (DNS rebinding), path or method', () => {
    expect(checkRequest({ method: 'GET', target: '/callback', host: 'evil.example:5000', contentType: undefined }, expect_)).toMatchObject({
      ok: false,
      status: 421
    });
    expect(checkRequest({ method: 'GET', target: '/callback', host: '127.0.0.1:5001', contentType: undefined }, expect_)).toMatchObject({
      ok: false,
      status: 421
    });
    expect(checkRequest({ method: 'GET', target: '/callback', host: undefined, contentType: undefined }, expect_)).toMatchObject({
      ok: false,
      status: 421
    });
    expect(checkRequest({ method: 'GET', target: '/other?code=a', host: '127.0.0.1:5000', contentType: undefined }, expect_)).toMatchObject(
      { ok: false, status: 404 }
    );
    expect(
      checkRequest({ method: 'GET', target: 'http://127.0.0.1:5000/callback', host: '127.0.0.1:5000', contentType: undefined }, expect_)
    ).toMatchObject({ ok: false, status: 400 });
    expect(checkRequest({ method: 'POST', target: '/callback', host: '127.0.0.1:5000', contentType: undefined }, expect_)).toMatchObject({
      ok: false,
      status: 405,
      allow: 'GET'
    });
  });

  it('the path is the redirect path exactly as sent: no other authority, dot segments or encodings that normalise into it', () => {
    for (const target of [
      '//evil.example/callback?code=a',
      '/x/../callback?code=a',
      '/%63allback?code=a',
      '/callback/?code=a',
      '/./callback'
    ]) {
      expect(checkRequest({ method: 'GET', target, host: '127.0.0.1:5000', contentType: undefined }, expect_), target).toMatchObject({
        ok: false
      });
    }
  });

  it('form_post: POST with a form body only', () => {
    const fp = { host: 'localhost:5000', path: '/', responseMode: 'form_post' as const };
    expect(
      checkRequest(
        { method: 'POST', target: '/', host: 'localhost:5000', contentType: 'application/x-www-form-urlencoded; charset=utf-8' },
        fp
      )
    ).toMatchObject({ ok: true });
    expect(checkRequest({ method: 'GET', target: '/?code=a', host: 'localhost:5000', contentType: undefined }, fp)).toMatchObject({
      ok: false,
      status: 405,
      allow: 'POST'
    });
    expect(checkRequest({ method: 'POST', target: '/', host: 'localhost:5000', contentType: 'application/json' }, fp)).toMatchObject({
      ok: false,
      status: 415
    });
  });

  it('state must be exactly one and ours; then one error or one code', () => {
    const p = (o: string) => new URLSearchParams(o);
    expect(interpretCallback(p(`code=abc&state=${STATE}`), STATE)).toMatchObject({ kind: 'code' });
    expect(interpretCallback(p('code=abc&state=other'), STATE)).toMatchObject({ kind: 'reject' });
    expect(interpretCallback(p('code=abc'), STATE)).toMatchObject({ kind: 'reject' });
    expect(interpretCallback(p(`code=abc&state=${STATE}&state=${STATE}`), STATE)).toMatchObject({ kind: 'reject' });
    expect(interpretCallback(p(`state=${STATE}`), STATE)).toMatchObject({ kind: 'reject' });
    expect(interpretCallback(p(`code=a&code=b&state=${STATE}`), STATE)).toMatchObject({ kind: 'reject' });
    expect(interpretCallback(p(`error=access_denied&error_description=User+said+no&state=${STATE}`), STATE)).toEqual({
      kind: 'error',
      code: 'OAUTH_DENIED',
      error: 'access_denied',
      description: 'User said no'
    });
    expect(interpretCallback(p(`error=server_error&state=${STATE}`), STATE)).toMatchObject({
      kind: 'error',
      code: 'OAUTH_FAILED',
      error: 'server_error'
    });
    // An error answer with someone else's state is not ours either.
    expect(interpretCallback(p('error=access_denied&state=other'), STATE)).toMatchObject({ kind: 'reject' });
  });
});

describe('loopback redirect: the listener', () => {
  it('listens on 127.0.0.1 only: the same port on another local address refuses the connection', async () => {
    const f = await flow();
    try {
      expect(f.redirectUri).toBe(`http://127.0.0.1:${f.port}/callback`);
      const others = [
        '127.0.0.2',
        '::1',
        ...Object.values(networkInterfaces()).flatMap((l) => (l ?? []).filter((i) => !i.internal).map((i) => i.address))
      ];
      for (const address of others) {
        await expect(raw(f.port, { address, path: cb({ code: 'x', state: STATE }) }), address).rejects.toMatchObject({
          code: expect.stringMatching(/ECONNREFUSED|EADDRNOTAVAIL|ENETUNREACH|EHOSTUNREACH/)
        });
      }
      const ok = await raw(f.port, { path: cb({ code: 'the-code', state: STATE }) });
      expect(ok.status).toBe(200);
    } finally {
      await f.close();
    }
  });

  it('a wrong state, path, method or Host gets an error page, and the correct callback after them still succeeds', async () => {
    const rejected: number[] = [];
    const f = await flow({ onRejected: (s) => rejected.push(s) });
    const mismatch = await raw(f.port, { path: cb({ code: 'attacker-code', state: 'forged' }) });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body).toContain('still waiting');
    expect((await raw(f.port, { path: '/favicon.ico' })).status).toBe(404);
    const post = await raw(f.port, { method: 'POST', path: cb({ code: 'c', state: STATE }) });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET');
    expect((await raw(f.port, { host: `rebound.example:${f.port}`, path: cb({ code: 'c', state: STATE }) })).status).toBe(421);
    const good = await raw(f.port, { path: cb({ code: 'the-code', state: STATE }) });
    expect(good.status).toBe(200);
    expect(good.body).toContain('You can close this tab');
    const params = await f.result;
    expect(params.get('code')).toBe('the-code');
    expect(rejected).toEqual([400, 404, 405, 421]);
  });

  it('the first valid callback ends the flow and closes the listener: a second one cannot connect', async () => {
    const f = await flow();
    await raw(f.port, { path: cb({ code: 'first', state: STATE }) });
    expect((await f.result).get('code')).toBe('first');
    await expect(raw(f.port, { path: cb({ code: 'second', state: STATE }) })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('every answer says Cache-Control: no-store and allows no script, frame or referrer', async () => {
    const f = await flow();
    const answers = [
      await raw(f.port, { path: '/nope' }),
      await raw(f.port, { path: cb({ code: 'c', state: 'x' }) }),
      await raw(f.port, { path: cb({ code: 'c', state: STATE }) })
    ];
    for (const a of answers) {
      expect(a.headers['cache-control']).toBe('no-store');
      expect(a.headers['content-security-policy']).toContain("default-src 'none'");
      expect(a.headers['referrer-policy']).toBe('no-referrer');
      expect(a.headers['x-frame-options']).toBe('DENY');
    }
  });

  it('access_denied ends the flow with OAUTH_DENIED, shown to the user; other errors with OAUTH_FAILED', async () => {
    const f = await flow();
    const page = await raw(f.port, { path: cb({ error: 'access_denied', error_description: 'The user <b>declined</b>', state: STATE }) });
    expect(page.status).toBe(200);
    expect(page.body).toContain('Sign-in refused');
    expect(page.body).toContain('access_denied: The user &#60;b&#62;declined&#60;/b&#62;');
    await expect(f.result).rejects.toMatchObject({
      code: 'OAUTH_DENIED',
      message: expect.stringContaining('access_denied: The user <b>declined</b>')
    });
    const g = await flow();
    await raw(g.port, { path: cb({ error: 'temporarily_unavailable', state: STATE }) });
    await expect(g.result).rejects.toMatchObject({ code: 'OAUTH_FAILED', message: expect.stringContaining('temporarily_unavailable') });
  });

  it('times out with OAUTH_TIMEOUT and closes the listener', async () => {
    // The default timeout (5 minutes) on a manual clock the test moves: real time never gets there in this test.
    const time = manualClock();
    const f = await flow({ timeoutMs: DEFAULT_FLOW_TIMEOUT_MS, timers: time });
    time.advance(DEFAULT_FLOW_TIMEOUT_MS);
    await expect(f.result).rejects.toMatchObject({ code: 'OAUTH_TIMEOUT' });
    await expect(raw(f.port, { path: cb({ code: 'late', state: STATE }) })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('a cancelled signal ends the flow with OAUTH_CANCELLED', async () => {
    const ac = new AbortController();
    const f = await flow({ signal: ac.signal });
    ac.abort();
    await expect(f.result).rejects.toMatchObject({ code: 'OAUTH_CANCELLED' });
    await expect(startLoopback({ expectedState: STATE, signal: ac.signal })).rejects.toMatchObject({ code: 'OAUTH_CANCELLED' });
  });

  it('form_post on localhost (as Entra expects): the answer arrives as a form body; oversized bodies are refused', async () => {
    const f = await flow({ redirectHost: 'localhost', path: '/', responseMode: 'form_post' });
    expect(f.redirectUri).toBe(`http://localhost:${f.port}/`);
    const host = `localhost:${f.port}`;
    expect((await raw(f.port, { host, path: `/?code=c&state=${STATE}` })).status).toBe(405);
    expect((await raw(f.port, { host, method: 'POST', path: '/', contentType: 'text/plain', body: `code=c&state=${STATE}` })).status).toBe(
      415
    );
    expect(
      (
        await raw(f.port, {
          host,
          method: 'POST',
          path: '/',
          contentType: 'application/x-www-form-urlencoded',
          body: `code=${'x'.repeat(70_000)}&state=${STATE}`
        })
      ).status
    ).toBe(413);
    const ok = await raw(f.port, {
      host,
      method: 'POST',
      path: '/',
      contentType: 'application/x-www-form-urlencoded',
      body: `code=posted&state=${STATE}`
    });
    expect(ok.status).toBe(200);
    expect((await f.result).get('code')).toBe('posted');
  });

  it('each flow gets its own port', async () => {
    const a = await flow();
    const b = await flow();
    try {
      expect(a.port).not.toBe(b.port);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
