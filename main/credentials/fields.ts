import { KeydeskError } from '../errors.ts';
import type { ModeSpec } from '../providers/spec.ts';
import { printable } from '../text.ts';

/**
 * What a credential's input must look like before the vault stores it: its name, an expiry the analyst gives, and
 * every field value against its mode's spec (each field's rule, then the mode's rules across fields). Pure; messages
 * name fields, never values.
 */

const NAME_RE = /^[\p{L}\p{N}][\p{L}\p{N} ._@()+:/-]{0,63}$/u;

export function validateName(name: unknown): string {
  if (typeof name !== 'string')
    throw new KeydeskError('INPUT_INVALID', 'A credential name is required.', { fields: { name: 'Name is required' } });
  const n = name.normalize('NFC').trim();
  if (!NAME_RE.test(n)) {
    throw new KeydeskError(
      'INPUT_INVALID',
      'A credential name is 1–64 characters: letters, digits, spaces and . _ @ ( ) + : / -, starting with a letter or digit.',
      {
        fields: { name: 'Use 1–64 letters, digits, spaces or . _ @ ( ) + : / - (starting with a letter or digit)' }
      }
    );
  }
  return n;
}

const ISO_DATE_RE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

export function validateExpiry(v: unknown): string | null {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v !== 'string' || !ISO_DATE_RE.test(v) || Number.isNaN(Date.parse(v))) {
    throw new KeydeskError('INPUT_INVALID', 'An expiry date is YYYY-MM-DD or an ISO 8601 time.', {
      fields: { expires_at: 'Use YYYY-MM-DD or an ISO 8601 time' }
    });
  }
  // Date.parse rolls a day the month does not have over into the next month (2026-02-30 → 2 March): refuse it.
  const [y, m, d] = v.slice(0, 10).split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) {
    throw new KeydeskError('INPUT_INVALID', `An expiry date must be a real day: ${v.slice(0, 10)} does not exist.`, {
      fields: { expires_at: 'Not a day of the calendar' }
    });
  }
  return new Date(v).toISOString();
}

/**
 * Checks a complete set of field values against the mode's spec. Messages name fields, never values.
 * Returns the trimmed values (empty optional fields dropped).
 */
export function validateValues(mode: ModeSpec, values: Readonly<Record<string, unknown>>): Record<string, string> {
  const errors: Record<string, string> = {};
  const out: Record<string, string> = {};
  for (const key of Object.keys(values)) {
    if (!mode.fields.some((f) => f.name === key)) errors[printable(key)] = `Unknown field for ${mode.id}`;
  }
  for (const f of mode.fields) {
    const raw = values[f.name];
    if (raw === undefined || raw === null || raw === '') {
      if (f.required) errors[f.name] = `${f.label} is required`;
      continue;
    }
    if (typeof raw !== 'string') {
      errors[f.name] = `${f.label} must be text`;
      continue;
    }
    const v = f.multiline ? raw.replace(/\r\n/g, '\n').trim() : raw.trim();
    if (v === '') {
      if (f.required) errors[f.name] = `${f.label} is required`;
      continue;
    }
    const problem = f.rule(v);
    if (problem !== null) errors[f.name] = problem;
    else out[f.name] = v;
  }
  if (Object.keys(errors).length === 0 && mode.check)
    for (const [k, m] of Object.entries(mode.check(out))) if (m !== undefined) errors[k] = m;
  if (Object.keys(errors).length > 0) {
    const list = Object.entries(errors)
      .map(([k, m]) => `${k}: ${m}`)
      .join('; ');
    throw new KeydeskError('INPUT_INVALID', `Invalid ${mode.id} credential — ${list}.`, { fields: errors });
  }
  return out;
}
