import { describe, expect, it } from 'vitest';
import { RENDERER_CSP, RENDERER_CSP_META, developmentCsp, parseCsp, withCspHeader } from './csp.ts';

// Guards: "a compromised renderer can never run injected script or send data anywhere" — the CSP is the backstop.
describe('renderer CSP', () => {
  const p = parseCsp(RENDERER_CSP);

  it('denies everything by default and allows only the app’s own scripts and styles', () => {
    expect(p.get('default-src')).toEqual(["'none'"]);
    expect(p.get('script-src')).toEqual(["'self'"]);
    expect(p.get('style-src')).toEqual(["'self'"]);
  });

  it('allows no inline code, no eval, no wildcard and no data: scripts anywhere', () => {
    for (const bad of [
      "'unsafe-inline'",
      "'unsafe-eval'",
      "'unsafe-hashes'",
      "'wasm-unsafe-eval'",
      '*',
      'data:',
      'blob:',
      'http:',
      'https:'
    ]) {
      for (const [directive, sources] of p) expect(sources, `${directive} allows ${bad}`).not.toContain(bad);
    }
  });

  it('gives the renderer no network, frames, plugins, workers, forms or base changes', () => {
    for (const d of [
      'connect-src',
      'object-src',
      'frame-src',
      'child-src',
      'worker-src',
      'form-action',
      'base-uri',
      'frame-ancestors',
      'media-src',
      'manifest-src'
    ]) {
      expect(p.get(d), d).toEqual(["'none'"]);
    }
  });

  it('the <meta> copy is the same policy minus frame-ancestors (ignored in meta)', () => {
    const m = parseCsp(RENDERER_CSP_META);
    expect(m.has('frame-ancestors')).toBe(false);
    for (const [k, v] of m) expect(p.get(k)).toEqual(v);
    expect(m.size).toBe(p.size - 1);
  });

  it('the header helper replaces a server’s own CSP, whatever its case, and adds nosniff', () => {
    const h = withCspHeader({ 'content-security-policy': 'default-src *', 'Content-Type': 'text/html' }, RENDERER_CSP);
    expect(h).toEqual({ 'Content-Type': ['text/html'], 'Content-Security-Policy': [RENDERER_CSP], 'X-Content-Type-Options': ['nosniff'] });
  });

  it('the development policy loosens only what the dev server needs, and only for that server', () => {
    const d = parseCsp(developmentCsp('http://localhost:5173/'));
    expect(d.get('connect-src')).toEqual(["'self'", 'ws://localhost:5173']);
    expect(d.get('default-src')).toEqual(["'none'"]);
    expect(d.get('object-src')).toEqual(["'none'"]);
  });
});
