// The lifecycle of a response action as the contract names it, on its own (no zod) so that main's execution
// lifecycle and the contract's schemas share the one list. preload/contract.ts re-exports it.

/** Every status an execution can have (docs/executions.md draws the transitions). */
export const EXECUTION_STATUSES = [
  'pending',
  'running',
  'succeeded',
  'failed',
  'reverted',
  'revert_failed',
  'awaiting_reauth',
  'expired_awaiting_reauth'
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];
