import { extname, join, normalize, sep } from 'node:path';

export const APP_SCHEME = 'app';
export const APP_HOST = 'keydesk';
export const APP_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json'
};

/**
 * Maps an app:// request to a file under the renderer's build folder, or null: another host, an encoded or
 * literal `..`, a NUL, a backslash, or a file type the app does not ship are all refused.
 */
export function resolveAppAsset(rootDir: string, requestUrl: string): { path: string; contentType: string } | null {
  let u: URL;
  try {
    u = new URL(requestUrl);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.hostname !== APP_HOST || u.username || u.password) return null;
  let pathname: string;
  try {
    pathname = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  if (pathname === '/' || pathname === '') pathname = '/index.html';
  if (pathname.includes('\0') || pathname.includes('\\') || pathname.split('/').some((s) => s === '..' || s === '.')) return null;
  const contentType = TYPES[extname(pathname).toLowerCase()];
  if (!contentType) return null;
  const root = normalize(rootDir);
  const full = normalize(join(root, pathname));
  if (!full.startsWith(root.endsWith(sep) ? root : root + sep)) return null;
  return { path: full, contentType };
}
