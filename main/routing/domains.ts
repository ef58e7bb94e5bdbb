import { domainToASCII, domainToUnicode } from 'node:url';
import { KeydeskError } from '../errors.ts';

/**
 * Domain and mailbox normalisation and validation. Pure functions: routing decides which tenant an action hits
 * from these strings, so every input path (CLI, IPC, suggestions from a provider) goes through here first.
 *
 * A domain is normalised to lower case, without its trailing dot, IDNA to ASCII with the platform's own
 * `url.domainToASCII` (WHATWG URL's UTS #46 processing), and then checked as a DNS host name: 2+ labels of
 * 1–63 letters, digits or hyphens (no leading or trailing hyphen), at most 253 characters, an alphabetic or
 * punycode top-level label, and any `xn--` label must be valid punycode.
 */

export const MAX_DOMAIN_LENGTH = 253;
export const MAX_LOCAL_PART_LENGTH = 64;
export const MAX_MAILBOX_LENGTH = 254;

/** Characters that never belong in a host name but that `domainToASCII` would silently strip or accept. */
const FORBIDDEN_RAW = /[\s/\\?#@:[\]%*,;"'<>|`^{}=&!$()+~]/u;
const LABEL_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const LDH_RE = /^[a-z0-9.-]+$/;
const TLD_RE = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

function invalid(what: string, field: string, why: string): KeydeskError {
  return new KeydeskError('INPUT_INVALID', `${what} ${why}.`, { fields: { [field]: why.charAt(0).toUpperCase() + why.slice(1) } });
}

/** A short, printable echo of what was typed, for error messages (domains and addresses are not secret). */
export function echo(s: string): string {
  const clean = s.replace(/[^\x20-\x7E]/g, '?');
  return clean.length > 60 ? `${clean.slice(0, 60)}…` : clean;
}

/** Why `value` is not a valid domain, or null when it is (value already normalised). */
export function domainProblem(ascii: string): string | null {
  if (ascii.length === 0) return 'is empty';
  if (ascii.length > MAX_DOMAIN_LENGTH) return `is longer than ${MAX_DOMAIN_LENGTH} characters`;
  const labels = ascii.split('.');
  if (labels.length < 2) return 'needs at least two labels (e.g. corp.example)';
  for (const label of labels) {
    if (label.length === 0) return 'has an empty label (two dots in a row, or a leading dot)';
    if (label.length > 63) return 'has a label longer than 63 characters';
    if (!LABEL_RE.test(label)) return 'may contain only letters, digits and hyphens (not at the start or end of a label)';
    if (label.startsWith('xn--') && domainToUnicode(label) === label) return 'has an xn-- label that is not valid punycode';
  }
  if (!TLD_RE.test(labels[labels.length - 1]!)) return 'must end in an alphabetic top-level domain (IP addresses are not domains)';
  return null;
}

/**
 * Normalises and validates a domain. Throws INPUT_INVALID (naming `field`) with a message that says what is
 * expected. Returns the ASCII form that bindings store and resolution compares.
 */
export function normaliseDomain(input: unknown, field = 'domain'): string {
  if (typeof input !== 'string') throw invalid('A domain', field, 'is required');
  const raw = input.trim();
  if (raw.length === 0) throw invalid('A domain', field, 'is required');
  const what = () => `"${echo(raw)}"`;
  if (raw.length > MAX_DOMAIN_LENGTH + 1) throw invalid(what(), field, `is longer than ${MAX_DOMAIN_LENGTH} characters`);
  if (FORBIDDEN_RAW.test(raw)) throw invalid(what(), field, 'is not a domain name (no spaces, @, /, :, wildcards or other punctuation)');
  const withoutDot = raw.endsWith('.') ? raw.slice(0, -1) : raw;
  if (withoutDot.endsWith('.')) throw invalid(what(), field, 'has an empty label (two dots in a row, or a leading dot)');
  const lower = withoutDot.toLowerCase();
  // Plain lower-case ASCII letters, digits, dots and hyphens are their own ASCII form (domainToASCII would return them
  // unchanged, or refuse bad punycode, which domainProblem checks); anything else goes through the platform's IDNA.
  const ascii = LDH_RE.test(lower) ? lower : domainToASCII(lower);
  if (ascii === '') throw invalid(what(), field, 'is not a valid internationalised domain name');
  const problem = domainProblem(ascii);
  if (problem) throw invalid(what(), field, problem);
  return ascii;
}

const DOT_ATOM = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/**
 * Normalises and validates a mailbox (an email address): a dot-atom local part (ASCII, no quoted strings, no
 * leading, trailing or doubled dots, at most 64 characters) and a domain as above. The whole address is lower
 * case: Google Workspace and Exchange Online treat local parts case-insensitively, and Keydesk compares runs by it.
 */
export function normaliseMailbox(input: unknown, field = 'email'): { address: string; local: string; domain: string } {
  if (typeof input !== 'string') throw invalid('An email address', field, 'is required');
  const raw = input.trim();
  if (raw.length === 0) throw invalid('An email address', field, 'is required');
  const what = () => `"${echo(raw)}"`;
  if (raw.length > MAX_MAILBOX_LENGTH + 1) throw invalid(what(), field, `is longer than ${MAX_MAILBOX_LENGTH} characters`);
  const at = raw.lastIndexOf('@');
  if (at <= 0 || at === raw.length - 1 || raw.indexOf('@') !== at)
    throw invalid(what(), field, 'is not an email address (expected name@domain)');
  const local = raw.slice(0, at).toLowerCase();
  if (local.length > MAX_LOCAL_PART_LENGTH)
    throw invalid(what(), field, `has a local part longer than ${MAX_LOCAL_PART_LENGTH} characters`);
  if (!DOT_ATOM.test(local)) {
    if (local.split('.').some((p) => p.length === 0))
      throw invalid(what(), field, 'has a local part with a leading, trailing or doubled dot');
    throw invalid(what(), field, 'has a local part with characters an address cannot contain');
  }
  let domain: string;
  try {
    domain = normaliseDomain(raw.slice(at + 1), field);
  } catch (e) {
    if (e instanceof KeydeskError)
      throw invalid(what(), field, `has an invalid domain: ${e.fields?.[field]?.toLowerCase() ?? 'not a domain'}`);
    throw e;
  }
  const address = `${local}@${domain}`;
  if (address.length > MAX_MAILBOX_LENGTH) throw invalid(what(), field, `is longer than ${MAX_MAILBOX_LENGTH} characters`);
  return { address, local, domain };
}

/** The domain itself, then each parent that still has two labels: a.b.corp.example → [a.b.corp.example, b.corp.example, corp.example]. */
export function domainAndParents(ascii: string): string[] {
  const out = [ascii];
  // Each parent starts after a dot; stop before the last label (a top-level domain alone is never bound).
  for (let i = ascii.indexOf('.'); i !== -1; i = ascii.indexOf('.', i + 1)) {
    const rest = ascii.slice(i + 1);
    if (rest.indexOf('.') === -1) break;
    out.push(rest);
  }
  return out;
}

/** True when `host` is `domain` or lies under it (label-wise: evilcorp.example is not under corp.example). */
export function isWithin(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}
