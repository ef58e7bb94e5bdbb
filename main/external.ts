import { KeydeskError } from './errors.ts';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const MAX_URL_LENGTH = 8192;

/**
 * The only URLs Keydesk hands to the OS: https anywhere, plain http only to this machine (OAuth loopback
 * redirects, local peers). No user info in the URL, no other scheme (file:, javascript:, custom handlers).
 * Returns the normalised URL string.
 */
export function checkExternalUrl(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_URL_LENGTH) {
    throw new KeydeskError('INPUT_INVALID', 'A link to open must be a URL of at most 8,192 characters.');
  }
  if ([...value].some((ch) => ch.charCodeAt(0) < 0x21 || ch.charCodeAt(0) === 0x7f) || /\s/.test(value))
    throw new KeydeskError('INPUT_INVALID', 'A link to open must not contain spaces or control characters.');
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new KeydeskError('INPUT_INVALID', 'A link to open must be an absolute URL.');
  }
  if (u.username || u.password) throw new KeydeskError('INPUT_INVALID', 'A link to open must not carry a user name or password.');
  if (u.protocol === 'https:' && u.hostname !== '') return u.href;
  if (u.protocol === 'http:' && LOOPBACK.has(u.hostname)) return u.href;
  throw new KeydeskError('INPUT_INVALID', 'Keydesk opens only https links (plain http only to 127.0.0.1 or localhost).');
}

/** Opens a checked URL with the given opener (Electron's shell.openExternal); anything else is refused first. */
export async function openExternalUrl(value: unknown, open: (url: string) => Promise<void>): Promise<void> {
  await open(checkExternalUrl(value));
}
