/** util.inspect.custom, without importing node:util (it is a registered symbol). */
const INSPECT_CUSTOM = Symbol.for('nodejs.util.inspect.custom');

const REDACTED = '[redacted]';

/**
 * A decrypted secret value. It prints as `[redacted]` through every path that turns a value into text
 * (JSON, string conversion, util.inspect/console.log), so a secret that slips into a log, an error or
 * an IPC answer shows up as `[redacted]` instead of the value. Call `reveal()` only at the point of use.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  get length(): number {
    return this.#value.length;
  }

  /** The last `n` characters, for the readable "…ABCD" hints of key and client ids. */
  lastChars(n: number): string {
    return this.#value.slice(-n);
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [INSPECT_CUSTOM](): string {
    return REDACTED;
  }
}

export function isSecret(v: unknown): v is Secret {
  return v instanceof Secret;
}
