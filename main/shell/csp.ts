/**
 * The renderer's Content Security Policy. Nothing loads from anywhere but the app itself; no inline script or
 * style (so no `style=` attributes in the UI either), no eval, no network (the renderer talks only to
 * window.keydesk), no plugins, frames, workers or forms. Sent as a response header by the app:// protocol and by
 * the e2e server, and also written into index.html at build time as a <meta> (defence in depth).
 */
const DIRECTIVES: readonly [string, string][] = [
  ['default-src', "'none'"],
  ['script-src', "'self'"],
  ['style-src', "'self'"],
  ['img-src', "'self'"],
  ['font-src', "'self'"],
  ['connect-src', "'none'"],
  ['media-src', "'none'"],
  ['object-src', "'none'"],
  ['frame-src', "'none'"],
  ['child-src', "'none'"],
  ['worker-src', "'none'"],
  ['manifest-src', "'none'"],
  ['base-uri', "'none'"],
  ['form-action', "'none'"],
  ['frame-ancestors', "'none'"]
];

function serialise(d: readonly [string, string][]): string {
  return d.map(([k, v]) => `${k} ${v}`).join('; ');
}

/** The policy sent as the Content-Security-Policy response header. */
export const RENDERER_CSP = serialise(DIRECTIVES);

/** The same policy for a <meta> tag: browsers ignore frame-ancestors there (and warn), so it is left out. */
export const RENDERER_CSP_META = serialise(DIRECTIVES.filter(([k]) => k !== 'frame-ancestors'));

/**
 * Development only (electron-vite dev server): Vite's client and React Refresh need an inline preamble, inline
 * styles and a websocket to the dev server. Never used by a packaged app.
 */
export function developmentCsp(devServerUrl: string): string {
  const u = new URL(devServerUrl);
  const ws = `ws://${u.host}`;
  return serialise(
    DIRECTIVES.map(([k, v]): [string, string] => {
      if (k === 'script-src') return [k, `'self' 'unsafe-inline'`];
      if (k === 'style-src') return [k, `'self' 'unsafe-inline'`];
      if (k === 'connect-src') return [k, `'self' ${ws}`];
      return [k, v];
    })
  );
}

/** Response headers with our CSP (replacing any the server sent, whatever its case). */
export function withCspHeader(headers: Record<string, string | string[]> | undefined, policy: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (k.toLowerCase() === 'content-security-policy') continue;
    out[k] = Array.isArray(v) ? v : [v];
  }
  out['Content-Security-Policy'] = [policy];
  out['X-Content-Type-Options'] = ['nosniff'];
  return out;
}

/** Parses a policy into directive → sources (tests use it to state properties rather than compare strings). */
export function parseCsp(policy: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const part of policy.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) m.set(name.toLowerCase(), sources);
  }
  return m;
}
