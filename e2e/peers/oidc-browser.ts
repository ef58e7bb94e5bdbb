/**
 * A minimal browser for oidc-provider's development login and consent pages: it follows redirects with a cookie jar,
 * submits the login form (any login, any password) and the consent form, or presses "Cancel" (access_denied), and
 * finally delivers the authorization response to wherever the server sends it (our loopback redirect), by GET for
 * query responses or by POST for form_post ones, exactly as a browser would. Test support only.
 *
 * Run as a program (`node e2e/peers/oidc-browser.ts URL`) it signs in as "alice" and approves: the CLI tests use it as
 * the KEYDESK_BROWSER command. With KEYDESK_BROWSER_ENV_LOG=path it also writes the environment it was started
 * with to that file, so a test can prove the vault passphrase never reaches a child process.
 */

export interface SignInOptions {
  login?: string;
  /** `deny` presses the login page's "Cancel" link (the server answers access_denied). */
  decision?: 'approve' | 'deny';
}

export interface SignInResult {
  /** Where the authorization response went (the loopback redirect), without its query. */
  deliveredTo: string;
  /** The loopback server's answer to the browser. */
  status: number;
  body: string;
  /** The authorization response parameters the server sent (for tests that replay or tamper with them). */
  params: URLSearchParams;
  method: 'GET' | 'POST';
}

class CookieJar {
  #jar = new Map<string, Map<string, string>>();

  store(url: URL, res: Response): void {
    let host = this.#jar.get(url.host);
    if (!host) this.#jar.set(url.host, (host = new Map()));
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (pair && eq > 0) host.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }

  header(url: URL): string | undefined {
    const host = this.#jar.get(url.host);
    return host && host.size ? [...host].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
  }
}

function decodeHtml(s: string): string {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_m, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_m, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function isLoopbackRedirect(u: URL): boolean {
  return u.protocol === 'http:' && (u.hostname === '127.0.0.1' || u.hostname === 'localhost');
}

function isIssuer(u: URL, issuer: URL): boolean {
  return u.origin === issuer.origin;
}

/** The first form of a page: its action, method and inputs. */
function firstForm(html: string, base: URL): { action: URL; method: string; inputs: URLSearchParams } | null {
  const m = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (!m) return null;
  const attrs = m[1] ?? '';
  const action = /action="([^"]*)"/i.exec(attrs)?.[1];
  const method = /method="([^"]*)"/i.exec(attrs)?.[1] ?? 'get';
  const inputs = new URLSearchParams();
  for (const im of (m[2] ?? '').matchAll(/<input\b([^>]*)>/gi)) {
    const a = im[1] ?? '';
    const name = /name="([^"]*)"/i.exec(a)?.[1];
    const value = /value="([^"]*)"/i.exec(a)?.[1] ?? '';
    if (name) inputs.append(decodeHtml(name), decodeHtml(value));
  }
  return { action: new URL(decodeHtml(action ?? base.href), base), method: method.toLowerCase(), inputs };
}

/**
 * Opens `authorizationUrl` and goes through sign-in and consent until the server hands the browser to a loopback
 * redirect; delivers it there and returns what the loopback answered.
 */
export async function signIn(authorizationUrl: string, opts: SignInOptions = {}): Promise<SignInResult> {
  const issuer = new URL(authorizationUrl);
  const jar = new CookieJar();
  let url = new URL(authorizationUrl);
  let method: 'GET' | 'POST' = 'GET';
  let body: URLSearchParams | undefined;
  for (let step = 0; step < 30; step++) {
    if (isLoopbackRedirect(url) && !isIssuer(url, issuer)) {
      const params = method === 'POST' && body ? new URLSearchParams(body) : new URLSearchParams(url.search);
      const target = new URL(url.href);
      const res = await fetch(target, {
        method,
        redirect: 'manual',
        ...(body ? { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {})
      });
      target.search = '';
      return { deliveredTo: target.href, status: res.status, body: await res.text(), params, method };
    }
    const headers: Record<string, string> = {};
    const cookie = jar.header(url);
    if (cookie) headers.cookie = cookie;
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(url, { method, redirect: 'manual', headers, ...(body ? { body } : {}) });
    jar.store(url, res);
    if (res.status >= 300 && res.status < 400) {
      const loc = res.headers.get('location');
      await res.body?.cancel();
      if (!loc) throw new Error(`redirect without a location at ${url.pathname}`);
      url = new URL(loc, url);
      method = 'GET';
      body = undefined;
      continue;
    }
    const html = await res.text();
    if (res.status >= 400 && !/<form/i.test(html))
      throw new Error(`the authorization server answered ${res.status} at ${url.pathname}: ${html.slice(0, 200)}`);
    const form = firstForm(html, url);
    if (!form) throw new Error(`no form on the page at ${url.pathname}`);
    const prompt = form.inputs.get('prompt');
    if (prompt === 'login') {
      if (opts.decision === 'deny') {
        const abort = /<a href="([^"]*\/abort)"/i.exec(html)?.[1];
        if (!abort) throw new Error('no cancel link on the login page');
        url = new URL(decodeHtml(abort), url);
        method = 'GET';
        body = undefined;
        continue;
      }
      form.inputs.set('login', opts.login ?? 'alice');
      form.inputs.set('password', 'any-password');
    }
    // Login, consent, or the form_post page that carries the authorization response to the redirect URI.
    url = form.action;
    method = form.method === 'post' ? 'POST' : 'GET';
    body = method === 'POST' ? form.inputs : undefined;
    if (method === 'GET') for (const [k, v] of form.inputs) url.searchParams.append(k, v);
  }
  throw new Error('too many steps without reaching the redirect URI');
}

if (import.meta.main) {
  const target = process.argv[2];
  const envLog = process.env.KEYDESK_BROWSER_ENV_LOG;
  if (envLog) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(envLog, JSON.stringify(Object.keys(process.env).sort()));
  }
  if (!target) {
    process.stderr.write('usage: node e2e/peers/oidc-browser.ts AUTHORIZATION_URL\n');
    process.exit(2);
  }
  const r = await signIn(target, { decision: process.env.KEYDESK_BROWSER_DECISION === 'deny' ? 'deny' : 'approve' });
  process.exit(r.status === 200 ? 0 : 1);
}
