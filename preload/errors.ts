// The contract's error vocabulary, on its own so that code which only raises and prints errors (the CLI) does not
// load the contract's schemas (and zod) to do it. preload/contract.ts re-exports all of it.

/** Stable error codes. Scripts and the UI branch on these; the message is for people. */
export const ERROR_CODES = [
  'INPUT_INVALID',
  'NOT_FOUND',
  'NAME_TAKEN',
  'UNSUPPORTED',
  'VAULT_NOT_FOUND',
  'VAULT_EXISTS',
  'VAULT_LOCKED',
  'VAULT_TOO_NEW',
  'VAULT_CORRUPT',
  'VAULT_BUSY',
  'KEY_ROTATED',
  'WRONG_PASSPHRASE',
  'PASSPHRASE_REQUIRED',
  'KEY_MISMATCH',
  'KEY_NOT_FOUND',
  'KEYCHAIN_UNAVAILABLE',
  'KEYCHAIN_LOCKED',
  'SECRET_TAMPERED',
  'SECRET_SWAPPED',
  'HEADER_TAMPERED',
  'AUDIT_TAMPERED',
  'BINDING_TAMPERED',
  'EXECUTION_TAMPERED',
  'BACKUP_INVALID',
  'BACKUP_TAMPERED',
  'BACKUP_EXISTS',
  'NO_BINDING',
  'AMBIGUOUS_BINDING',
  'CREDENTIAL_NOT_READY',
  'PROVIDER_REJECTED',
  'PROVIDER_EXPIRED',
  'PROVIDER_UNREACHABLE',
  'PROVIDER_ERROR',
  'OAUTH_FAILED',
  'OAUTH_DENIED',
  'OAUTH_TIMEOUT',
  'OAUTH_CANCELLED',
  'CANCELLED',
  'EXECUTION_CONFLICT',
  'REVERT_DRIFT',
  'FORBIDDEN_SENDER',
  'UNKNOWN_CHANNEL',
  'INTERNAL'
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorShape {
  code: ErrorCode;
  message: string;
  /** Per-field messages for form input (field name → what is wrong). Never contains a submitted value. */
  fields?: Record<string, string>;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorShape };
