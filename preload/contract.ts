// THE contract between the renderer and the main process: error codes, result envelopes, channels, events.
// It loads in main (Node), in the preload and in the renderer, so it depends on nothing but zod.

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
  'EXECUTION_CONFLICT',
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

// ---------------------------------------------------------------------------------------------
// Events (main → renderer). Payloads are ids, names, codes and counts: never secret material.

export interface KeydeskEvents {
  /** A write committed in this process: one per audit entry, after the commit. */
  'vault.changed': { seq: number; action: string; credentialId: string | null };
  /** The vault was locked or unlocked. */
  'vault.lock': { locked: boolean };
}
export type EventName = keyof KeydeskEvents;
