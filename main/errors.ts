import { ERROR_CODES, type ErrorCode, type ErrorShape } from '../preload/errors.ts';

/**
 * The one error type Keydesk raises on purpose. `message` is written for an analyst and must never
 * contain secret material; `fields` names form fields with what is wrong, never their values.
 */
export class KeydeskError extends Error {
  readonly code: ErrorCode;
  readonly fields?: Record<string, string>;

  constructor(code: ErrorCode, message: string, options?: { fields?: Record<string, string>; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KeydeskError';
    this.code = code;
    if (options?.fields) this.fields = options.fields;
  }
}

export function isKeydeskError(e: unknown, code?: ErrorCode): e is KeydeskError {
  return e instanceof KeydeskError && (code === undefined || e.code === code);
}

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/**
 * The shape that crosses a boundary (IPC, CLI --json). Anything that is not a KeydeskError becomes
 * INTERNAL with a fixed message: a foreign error's text can quote a request or a key, so it never leaves.
 */
export function toErrorShape(e: unknown): ErrorShape {
  if (e instanceof KeydeskError && KNOWN_CODES.has(e.code)) {
    return e.fields ? { code: e.code, message: e.message, fields: { ...e.fields } } : { code: e.code, message: e.message };
  }
  return { code: 'INTERNAL', message: 'An internal error occurred. Nothing was changed; see the app log for the error type.' };
}

/** A short, secret-free description of a foreign error for the log: its class and code, never its text. */
export function describeForeignError(e: unknown): string {
  if (e instanceof KeydeskError) return `${e.code}: ${e.message}`;
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' || typeof code === 'number' ? `${e.name} (${String(code)})` : e.name;
  }
  return typeof e;
}
