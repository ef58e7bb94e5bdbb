import type { z } from 'zod';
import { KeydeskError } from '../errors.ts';

/**
 * Validates anything that crosses the IPC boundary (Signal's `parseUnknown`): it accepts only `unknown`, so no
 * caller can skip the schema by already "knowing" the type. Failures are INPUT_INVALID with one message per field;
 * no message ever quotes a submitted value (inputs carry secrets), and path segments that are not plain
 * identifiers are masked, so a hostile key cannot echo back either.
 */
export function parseUnknown<S extends z.ZodType>(schema: S, value: unknown, what = 'The request'): z.output<S> {
  const r = schema.safeParse(value, { error: valueFreeMessage });
  if (r.success) return r.data;
  const fields: Record<string, string> = {};
  for (const issue of r.error.issues) {
    const key = fieldKey(issue.path);
    if (!(key in fields)) fields[key] = issue.message;
  }
  const list = Object.entries(fields)
    .slice(0, 5)
    .map(([k, m]) => `${k}: ${m}`)
    .join('; ');
  const more = Object.keys(fields).length > 5 ? ` (and ${Object.keys(fields).length - 5} more)` : '';
  throw new KeydeskError('INPUT_INVALID', `${what} is not valid — ${list}${more}. Nothing was changed.`, { fields });
}

const SAFE_SEGMENT = /^[A-Za-z0-9_]{1,64}$/;

/** "values.api_token", "name"; the whole input is "input". */
export function fieldKey(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'input';
  return path.map((s) => (typeof s === 'number' ? String(s) : typeof s === 'string' && SAFE_SEGMENT.test(s) ? s : '…')).join('.');
}

type Issue = Parameters<z.core.$ZodErrorMap>[0];

/**
 * Messages for issues whose schema gave none. Zod's defaults do not quote inputs either, but this map is ours
 * to keep that way across zod versions, and it speaks to an analyst rather than a developer.
 */
export function valueFreeMessage(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'Required';
      return issue.expected === 'string'
        ? 'Must be text'
        : issue.expected === 'object'
          ? 'Must be an object'
          : `Must be ${article(String(issue.expected))}`;
    case 'too_big':
      return issue.origin === 'string'
        ? `Too long (at most ${String(issue.maximum)} characters)`
        : `Too large (at most ${String(issue.maximum)})`;
    case 'too_small':
      return issue.origin === 'string'
        ? issue.minimum === 1
          ? 'Required'
          : `Too short (at least ${String(issue.minimum)} characters)`
        : `Too small (at least ${String(issue.minimum)})`;
    case 'unrecognized_keys':
      return issue.keys.length === 1
        ? 'Has a field this request does not take'
        : `Has ${issue.keys.length} fields this request does not take`;
    case 'invalid_value':
      return `Must be one of: ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'invalid_key':
      return 'Has a field name that is not allowed';
    case 'invalid_format':
      return 'Not in the expected format';
    case 'invalid_union':
      return 'Not a valid value';
    case 'not_multiple_of':
      return 'Not a valid number';
    default:
      return 'Not valid';
  }
}

function article(t: string): string {
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}
