/** Human output: plain tables and relative times. `--json` output never goes through here. */

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

export function keyValues(pairs: [string, string | null | undefined][]): string {
  const shown = pairs.filter((p): p is [string, string] => p[1] !== null && p[1] !== undefined && p[1] !== '');
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}`).join('\n') + '\n';
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
