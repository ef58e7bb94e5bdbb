/** Small text helpers every layer uses to talk to people. Pure. */

/** Echo a user-typed identifier (provider, mode, field name) in a message: short and printable only. */
export function printable(s: string): string {
  const clean = s.replace(/[^\x20-\x7E]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
}

const UNITS: [number, string][] = [
  [60, 's'],
  [60, 'min'],
  [24, 'h'],
  [365, 'day'],
  [Number.POSITIVE_INFINITY, 'year']
];

/** "3 min ago", "in 3 days", "just now". */
export function relativeTime(iso: string | null | undefined, now: Date): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  let delta = Math.round((t - now.getTime()) / 1000);
  const future = delta > 0;
  delta = Math.abs(delta);
  if (delta < 10) return 'just now';
  let value = delta;
  let unit = 's';
  for (const [size, name] of UNITS) {
    unit = name;
    if (value < size) break;
    value = Math.floor(value / size);
  }
  const label = unit === 'day' || unit === 'year' ? `${value} ${unit}${value === 1 ? '' : 's'}` : `${value} ${unit}`;
  return future ? `in ${label}` : `${label} ago`;
}
