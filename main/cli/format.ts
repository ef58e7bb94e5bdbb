/** Human output: plain tables and relative times. `--json` output never goes through here. */

/**
 * What a human table or list may print of a stored value: control characters (ESC and the rest of C0, DEL, C1) and
 * the Unicode line separators become "?", so a name edited into the vault file cannot move the cursor, retitle the
 * terminal or forge a line. (--json output escapes them as JSON does.)
 */
export function terminalSafe(s: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
}

/** A whole block of human output: the same, its newlines and tabs kept. */
export function terminalText(s: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
}

export function table(headers: string[], rows: string[][]): string {
  rows = rows.map((r) => r.map((c) => terminalSafe(c ?? '')));
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
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${terminalSafe(v)}`).join('\n') + '\n';
}

/** Relative times are shared with the views (main/text.ts). */
export { relativeTime } from '../text.ts';
