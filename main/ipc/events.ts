import type { KeydeskEvents } from '../../preload/contract.ts';

type Change = KeydeskEvents['vault.changed'];

export interface HeadWatcherOptions {
  /** `SELECT max(seq) FROM audit_log`: cheap, so it can run every few seconds. */
  readHead(): number;
  /** The entries after `seq`, oldest first (only read when the head moved). */
  readAfter(seq: number): Change[];
  emit(change: Change): void;
}

/**
 * Notices writes made by another process on the same vault (the CLI, a second app instance) so the UI refreshes.
 * Every write is audited, so the audit head moving is the signal. Writes made by this process are reported with
 * `observe` (they already produced their own events) and are not emitted twice.
 */
export function createHeadWatcher(opts: HeadWatcherOptions): { observe(seq: number): void; check(): number } {
  let seen = opts.readHead();
  return {
    observe(seq) {
      if (seq > seen) seen = seq;
    },
    check() {
      const head = opts.readHead();
      if (head > seen) {
        const after = opts.readAfter(seen);
        seen = head;
        for (const c of after) opts.emit(c);
        return after.length;
      }
      if (head < seen) {
        // The vault file was replaced or rolled back under us: everything cached is suspect.
        seen = head;
        opts.emit({ seq: head, action: 'vault.replaced', credentialId: null });
        return 1;
      }
      return 0;
    }
  };
}
