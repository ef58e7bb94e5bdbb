/**
 * Belt and braces for provider answers. Plugins never put a secret into an error on purpose, but a provider can
 * echo one back (an error body quoting the token it was sent, a signature error quoting the key id). Before a
 * provider's words are stored, returned, printed or emitted, they pass through here: every value of the
 * credential's secrets — and the encodings it travels in — is replaced by "[redacted]", control characters
 * (terminal escapes) are dropped and the text is bounded.
 */

export const REDACTED = '[redacted]';
/** A secret this short would match ordinary words; a message that contains one is withheld whole instead. */
export const MIN_SCRUB_LENGTH = 6;
/** Partial echoes: any run of this many characters taken from a long secret is redacted too. */
export const PARTIAL_WINDOW = 16;
export const WITHHELD = '[provider message withheld: it may quote a secret]';

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Keys of a JSON secret (a key file) whose values are secret on their own. */
const SECRET_JSON_KEY = /private_key|secret|token|password|passphrase|assertion|refresh|credential|key_id|authorization|api[-_]?key/i;

/** …but these name where or what, not a secret: token_uri, token_url, subject_token_type, revocation_endpoint. */
const READABLE_JSON_KEY = /(_uri|_url|_type|_endpoint|_format)$/i;

/**
 * The secret material inside a secret value: for a JSON document (a key file) its secret-looking members — the
 * rest of a key file (client_email, project_id, audience, token URLs) is readable and must stay readable in
 * messages; for anything else, the value itself.
 */
export function secretCores(secret: string): string[] {
  const trimmed = secret.trim();
  if (!trimmed.startsWith('{')) return [secret];
  const found: string[] = [];
  try {
    const walk = (v: unknown, key: string): void => {
      if (typeof v === 'string') {
        if (SECRET_JSON_KEY.test(key) && !READABLE_JSON_KEY.test(key)) found.push(v);
      } else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, k);
    };
    walk(JSON.parse(trimmed), '');
  } catch {
    return [secret];
  }
  return found;
}

/**
 * The base64 (and base64url) text that encodes `value` wherever it sits in an encoded stream — e.g. a client secret
 * inside `Authorization: Basic base64(client_id:client_secret)` that a provider quotes back. The value's bytes can
 * start at any of three offsets within a 3-byte group; for each, the characters that depend only on the value (not
 * on its neighbours) are returned. Pure.
 */
export function base64Cores(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const out: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const buf = Buffer.concat([Buffer.alloc(offset), bytes]);
    const full = Math.floor(buf.length / 3) * 4;
    const core = buf.toString('base64').slice(offset > 0 ? 4 : 0, full);
    if (core.length >= 8) out.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

/** Percent-encoding as application/x-www-form-urlencoded does it (URLSearchParams: `~` `!` `*` `(` … escaped too). */
function formEncoded(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/**
 * The values a secret can travel as: itself, URL/form-encoded (either case of hex digits), JSON-escaped, XML-escaped,
 * hex, base64 at any alignment; for a JSON secret (a key file) also its secret-looking members, and for a PEM its
 * base64 body and each of its lines.
 */
export function secretVariants(secret: string): string[] {
  const parts = new Set<string>([secret, ...secretCores(secret)]);
  for (const p of [...parts]) {
    if (p.includes('-----BEGIN')) {
      const body = p
        .split(/\r?\n|\\n/)
        .filter((l) => !l.startsWith('-----') && l.trim() !== '')
        .map((l) => l.trim());
      for (const line of body) parts.add(line);
      if (body.length) parts.add(body.join(''));
    }
  }
  const out = new Set<string>();
  for (const p of parts) {
    if (p === '') continue;
    out.add(p);
    for (const e of [encodeURIComponent(p), formEncoded(p)]) {
      out.add(e);
      out.add(e.replace(/%20/g, '+'));
      out.add(e.replace(/%[0-9A-F]{2}/g, (x) => x.toLowerCase()));
    }
    out.add(JSON.stringify(p).slice(1, -1));
    out.add(xmlEscape(p));
    const hex = Buffer.from(p, 'utf8').toString('hex');
    out.add(hex);
    out.add(hex.toUpperCase());
    for (const b of base64Cores(p)) out.add(b);
  }
  return [...out];
}

export interface Scrubber {
  /** The text with every secret replaced by [redacted] (or withheld whole when a very short secret appears in it). */
  scrub(text: string): string;
}

/** Prepares the variants and partial windows of a credential's secrets once, for many texts. Pure. */
export function makeScrubber(secrets: readonly string[]): Scrubber {
  const values = secrets.filter((s) => typeof s === 'string' && s.length > 0);
  const short = values.filter((s) => s.length < MIN_SCRUB_LENGTH);
  const long = values.filter((s) => s.length >= MIN_SCRUB_LENGTH);
  const variants = [...new Set(long.flatMap(secretVariants))]
    .filter((v) => v.length >= MIN_SCRUB_LENGTH)
    .sort((a, b) => b.length - a.length);
  const windows = new Set<string>();
  for (const s of long.flatMap(secretCores)) {
    if (s.length < PARTIAL_WINDOW + 8 || /\s/.test(s)) continue;
    for (let i = 0; i + PARTIAL_WINDOW <= s.length; i++) windows.add(s.slice(i, i + PARTIAL_WINDOW));
  }
  return {
    scrub(text: string): string {
      let out = text;
      for (const v of variants) if (out.includes(v)) out = out.split(v).join(REDACTED);
      out = redactPartials(out, windows);
      if (short.some((s) => out.includes(s))) return WITHHELD;
      return out;
    }
  };
}

/** Replaces every occurrence of every secret (and its encodings) with [redacted]. Pure. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  return makeScrubber(secrets).scrub(text);
}

/** Redacts any PARTIAL_WINDOW-long run of characters copied from a long, single-line secret (a truncated echo). */
function redactPartials(text: string, windows: ReadonlySet<string>): string {
  if (windows.size === 0 || text.length < PARTIAL_WINDOW) return text;
  const hit = new Uint8Array(text.length);
  let any = false;
  for (let i = 0; i + PARTIAL_WINDOW <= text.length; i++) {
    if (windows.has(text.slice(i, i + PARTIAL_WINDOW))) {
      hit.fill(1, i, i + PARTIAL_WINDOW);
      any = true;
    }
  }
  if (!any) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (hit[i]) {
      out += REDACTED;
      while (i + 1 < text.length && hit[i + 1]) i++;
    } else out += text[i];
  }
  return out;
}

/**
 * A provider's words made safe to show: secrets scrubbed, control characters and escape sequences removed,
 * whitespace collapsed, at most `max` characters.
 */
export function cleanProviderText(text: unknown, secrets: Scrubber | readonly string[], max = 300): string {
  if (typeof text !== 'string') return '';
  const scrubber = asScrubber(secrets);
  // Scrub before anything else changes the text, so no edit can split a secret and hide it from the scrubber…
  const scrubbed = scrubber.scrub(text);
  // …and again after, so no invisible character (a UTF-16 echo's NULs, zero-width spaces) can hide one either.
  const printable = scrubber.scrub(printableText(scrubbed));
  const collapsed = printable.replace(/\s+/g, ' ').trim();
  return collapsed.length > max ? `${collapsed.slice(0, max - 1)}…` : collapsed;
}

/**
 * Text as a terminal or a page may show it: escape sequences dropped, line breaks and tabs as spaces, every other
 * control or invisible formatting character removed (not replaced: a secret interleaved with NULs — a UTF-16 echo
 * read as UTF-8 — or zero-width spaces comes back whole, where a scrubber can find it). Pure.
 */
export function printableText(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '')
      .replace(/[\t\n\v\f\r\u0085\u2028\u2029]+/g, ' ')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g, '')
  );
}

/** A provider error code made safe to store: a short token of letters, digits and ._:-, else PROVIDER_ERROR. */
export function cleanErrorCode(code: unknown, secrets: Scrubber | readonly string[]): string {
  if (typeof code !== 'string') return 'PROVIDER_ERROR';
  const c = code.trim();
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(c)) return 'PROVIDER_ERROR';
  return asScrubber(secrets).scrub(c) === c ? c : 'PROVIDER_ERROR';
}

function asScrubber(s: Scrubber | readonly string[]): Scrubber {
  return Array.isArray(s) ? makeScrubber(s) : (s as Scrubber);
}

/** Every string inside a JSON-like value cleaned (observed identity, suggestions, readiness notes). */
export function scrubDeep(value: unknown, secrets: Scrubber | readonly string[], depth = 0): unknown {
  if (depth > 8) return null;
  if (depth === 0) secrets = asScrubber(secrets);
  if (typeof value === 'string') return cleanProviderText(value, secrets, 512);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  if (Array.isArray(value)) return value.slice(0, 200).map((v) => scrubDeep(v, secrets, depth + 1));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>).slice(0, 200)) {
      const key = cleanProviderText(k, secrets, 64);
      if (key) out[key] = scrubDeep(v, secrets, depth + 1);
    }
    return out;
  }
  return null;
}
