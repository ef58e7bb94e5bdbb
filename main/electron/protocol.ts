// Electron adapter: the app:// scheme that serves the renderer build with our CSP header. Thin: the path check
// and the policy are pure modules (main/shell/assets.ts, main/shell/csp.ts) with their own tests.
import { readFile } from 'node:fs/promises';
import { protocol } from 'electron';
import { APP_SCHEME, resolveAppAsset } from '../shell/assets.ts';
import { RENDERER_CSP } from '../shell/csp.ts';

/** Must run before `app.ready`. A standard, secure scheme gives the renderer a real origin (app://keydesk). */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: false, corsEnabled: false, stream: false } }
  ]);
}

export function serveRenderer(rootDir: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const asset = request.method === 'GET' ? resolveAppAsset(rootDir, request.url) : null;
    if (!asset) return new Response('Not found', { status: 404, headers: { 'content-type': 'text/plain' } });
    try {
      const body = await readFile(asset.path);
      return new Response(body, {
        status: 200,
        headers: {
          'content-type': asset.contentType,
          'content-security-policy': RENDERER_CSP,
          'x-content-type-options': 'nosniff',
          'cache-control': 'no-store'
        }
      });
    } catch {
      return new Response('Not found', { status: 404, headers: { 'content-type': 'text/plain' } });
    }
  });
}
