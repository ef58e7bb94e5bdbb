// Pure display helpers (no React, no bridge).

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 86_400_000],
  ['month', 30 * 86_400_000],
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000]
];

const ABBR: Partial<Record<Intl.RelativeTimeFormatUnit, string>> = { minute: 'min', hour: 'h' };

/** "3 min ago", "in 3 days", "just now". */
export function relative(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'unknown';
  const diff = t - now;
  const abs = Math.abs(diff);
  // Within a minute either way is "just now": the window's clock reading may be a few seconds behind main's.
  if (abs < 60_000) return 'just now';
  for (const [unit, ms] of UNITS) {
    if (abs >= ms) {
      const n = Math.floor(abs / ms);
      const label = ABBR[unit] ? ABBR[unit] : n === 1 ? unit : `${unit}s`;
      return diff < 0 ? `${n} ${label} ago` : `in ${n} ${label}`;
    }
  }
  return iso;
}

/** A local date and time for titles and detail lists. */
export function dateTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Human label for a metadata or field key: "api_base_url" → "API base URL". */
export function keyLabel(key: string): string {
  const words = key.split('_').map((w) => (['id', 'url', 'api', 'arn', 'sts', 'arm'].includes(w) ? w.toUpperCase() : w));
  const s = words.join(' ').replace(/ last4$/i, ' (last 4)');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const ISO_IN_TEXT = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})/g;

/**
 * A message from main for people: any ISO timestamp in it ("Waiting for re-authentication until
 * 2026-11-21T23:01:05.743Z.") reads as a local date and time instead. The same messages stay ISO for the CLI's --json.
 */
export function readableTimes(text: string): string {
  return text.replace(ISO_IN_TEXT, (iso) => dateTime(iso));
}
