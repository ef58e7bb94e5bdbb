import type { Database } from 'better-sqlite3';
import { canonical, equalBytes, hmac, type SymmetricKey } from './crypto.ts';
import { stmt } from './db.ts';
import { KeydeskError } from '../errors.ts';

/**
 * The tamper-evident audit log. Each entry's MAC is HMAC(audit key, previous entry's MAC ‖ canonical content),
 * so editing, removing, inserting or reordering entries breaks the chain at the first affected entry. The
 * sequence number is storage order only (not MAC'd): that is what lets `verify` tell a moved entry from an
 * edited one. Entries never carry secret material: details are ids, names, codes and counts.
 */

export type AuditOutcome = 'ok' | 'error' | 'failed' | 'denied';

export interface AuditEventInput {
  action: string;
  outcome: AuditOutcome;
  credentialId?: string | null;
  credentialName?: string | null;
  detail?: Record<string, unknown>;
  /** Overrides the vault handle's actor (e.g. "agent:triage-bot"). */
  actor?: string;
}

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  credentialId: string | null;
  credentialName: string | null;
  outcome: AuditOutcome;
  detail: Record<string, unknown>;
  /** Hex MAC, for export and external anchoring. */
  mac: string;
}

interface Row {
  seq: number;
  at: string;
  actor: string;
  action: string;
  credential_id: string | null;
  credential_name: string | null;
  outcome: string;
  detail: string;
  mac: Buffer;
}

const GENESIS = Buffer.alloc(32);

function contentOf(r: Pick<Row, 'at' | 'actor' | 'action' | 'credential_id' | 'credential_name' | 'outcome' | 'detail'>): Buffer {
  return canonical('keydesk/v1/audit', r.at, r.actor, r.action, r.credential_id, r.credential_name, r.outcome, r.detail);
}

function macFor(key: SymmetricKey, prev: Buffer, r: Parameters<typeof contentOf>[0]): Buffer {
  return hmac(key, prev, contentOf(r));
}

/** Canonical JSON (sorted keys) so the same detail always MACs the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

// ------------------------------------------------------------------------------------------------ the head record
//
// Every vault keeps its chain's head (seq and MAC of the newest entry) in audit_head, outside the log table, with a
// tag keyed from the audit key (the passphrase-derived key, for a passphrase vault): written in the transaction of
// every append, so cutting the log short, deleting its last entries or putting back an older copy of the table no
// longer matches it. The migration that added it recorded an untagged head (no key at migration time); the first
// append after it tags it. A keychain vault also anchors the head in the OS keychain (a file rolled back as a whole).

interface HeadRow {
  seq: number;
  mac: Buffer;
  tag: Buffer | null;
}

function headTag(key: SymmetricKey, seq: number, mac: Buffer): Buffer {
  return hmac(key, canonical('keydesk/v1/audit-head', seq, mac.toString('hex')));
}

/** What is wrong with the log against its head record, or null when they agree. */
/** The action recorded when a vault from before the head record gets its first tagged one. */
export const HEAD_ANCHORED_ACTION = 'audit.head_anchored';

/**
 * An untagged head record is only ever the one the schema-6 migration wrote, before the vault's first write since:
 * never in a vault created with the head record (its vault.init says `audit_head: true`) nor in one whose log
 * records the first tagging. Anyone could write an untagged record; this is what keeps that from passing. Failure
 * path only (it scans the log).
 */
function untaggedAllowed(db: Database): boolean {
  return !stmt(
    db,
    `SELECT 1 FROM audit_log WHERE action = '${HEAD_ANCHORED_ACTION}' OR (seq = 1 AND action = 'vault.init' AND json_extract(detail, '$.audit_head') = 1) LIMIT 1`
  ).get();
}

function headProblem(
  db: Database,
  key: SymmetricKey,
  head: HeadRow | undefined,
  last: { seq: number; mac: Buffer } | undefined
): { firstBadSeq: number; message: string } | null {
  if (!head)
    return last ? { firstBadSeq: 1, message: 'the audit log’s head record is missing (it was deleted from the vault file)' } : null;
  if (head.tag === null && !untaggedAllowed(db))
    return { firstBadSeq: head.seq, message: 'the audit log’s head record lost its tag in the vault file' };
  if (head.tag !== null && !equalBytes(head.tag, headTag(key, head.seq, head.mac)))
    return { firstBadSeq: head.seq, message: 'the audit log’s head record was edited in the vault file' };
  const lastSeq = last?.seq ?? 0;
  if (lastSeq < head.seq)
    return {
      firstBadSeq: lastSeq + 1,
      message: `the head record names entry ${head.seq}, but the log ends at ${lastSeq} (entries were cut off, or the log was rolled back)`
    };
  if (lastSeq > head.seq)
    return {
      firstBadSeq: head.seq + 1,
      message: `the log runs to entry ${lastSeq}, past its head record at ${head.seq} (the head record was rolled back)`
    };
  if (!last || !equalBytes(last.mac, head.mac))
    return { firstBadSeq: head.seq, message: `entry ${head.seq} is not the one its head record names (the log was replaced)` };
  return null;
}

function readHead(db: Database): HeadRow | undefined {
  return stmt(db, 'SELECT seq, mac, tag FROM audit_head WHERE id = 1').get() as HeadRow | undefined;
}

/**
 * Throws AUDIT_TAMPERED when this log does not hold `anchor` (the head recorded outside the file): the file is older
 * than its anchor, or was replaced. Writes and anchoring refuse such a log.
 */
export function assertHolds(db: Database, anchor: AuditAnchor): void {
  if (anchor.seq === 0) return;
  const at = stmt(db, 'SELECT mac FROM audit_log WHERE seq = ?').get(anchor.seq) as { mac: Buffer } | undefined;
  if (at && at.mac.toString('hex') === anchor.mac) return;
  throw new KeydeskError(
    'AUDIT_TAMPERED',
    at
      ? `The vault file does not hold the audit entry ${anchor.seq} anchored in the OS keychain (the file was replaced or rolled back). Nothing was written; run keydesk audit verify, and restore the genuine vault file.`
      : `The vault file’s audit log ends before entry ${anchor.seq}, anchored in the OS keychain (the file was rolled back or the log cut short). Nothing was written; run keydesk audit verify, and restore the genuine vault file.`
  );
}

/**
 * Before the first append of a write transaction: throws AUDIT_TAMPERED when the log does not end where its head
 * record says (cut short, rolled back, or the record edited), so nothing is written onto such a log.
 */
export function assertAuditHead(db: Database, key: SymmetricKey): { untagged: boolean } {
  const last = stmt(db, 'SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; mac: Buffer } | undefined;
  const head = readHead(db);
  const problem = headProblem(db, key, head, last);
  if (problem)
    throw new KeydeskError('AUDIT_TAMPERED', `Audit log broken: ${problem.message}. Nothing was written; run keydesk audit verify.`);
  return { untagged: head !== undefined && head.tag === null };
}

/** After the last append of a write transaction, inside it: the head record names the new last entry. */
export function recordAuditHead(db: Database, key: SymmetricKey): void {
  const last = stmt(db, 'SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; mac: Buffer } | undefined;
  if (!last) return;
  stmt(
    db,
    'INSERT INTO audit_head (id, seq, mac, tag) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, mac = excluded.mac, tag = excluded.tag'
  ).run(last.seq, last.mac, headTag(key, last.seq, last.mac));
}

/**
 * Appends one entry. Call inside the write transaction of the change it records, after `assertAuditHead` and before
 * `recordAuditHead` (Vault.write does both, once per transaction).
 */
export function appendAudit(db: Database, key: SymmetricKey, e: AuditEventInput & { actor: string; at: string }): number {
  const last = stmt(db, 'SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; mac: Buffer } | undefined;
  const row = {
    at: e.at,
    actor: e.actor,
    action: e.action,
    credential_id: e.credentialId ?? null,
    credential_name: e.credentialName ?? null,
    outcome: e.outcome,
    detail: canonicalJson(e.detail ?? {})
  };
  const seq = (last?.seq ?? 0) + 1;
  const mac = macFor(key, last?.mac ?? GENESIS, row);
  stmt(
    db,
    'INSERT INTO audit_log (seq, at, actor, action, credential_id, credential_name, outcome, detail, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'
  ).run(seq, row.at, row.actor, row.action, row.credential_id, row.credential_name, row.outcome, row.detail, mac);
  return seq;
}

function toEntry(r: Row): AuditEntry {
  let detail: Record<string, unknown>;
  try {
    detail = JSON.parse(r.detail) as Record<string, unknown>;
  } catch {
    detail = { unreadable: true };
  }
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    action: r.action,
    credentialId: r.credential_id,
    credentialName: r.credential_name,
    outcome: r.outcome as AuditOutcome,
    detail,
    mac: r.mac.toString('hex')
  };
}

export interface AuditQuery {
  credentialId?: string;
  limit?: number;
  /** Newest first when true (the UI); oldest first otherwise (export). */
  newestFirst?: boolean;
  afterSeq?: number;
}

/** Reads entries without any key: offline inspection. */
export function readAudit(db: Database, q: AuditQuery = {}): AuditEntry[] {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.credentialId) {
    where.push('credential_id = ?');
    args.push(q.credentialId);
  }
  if (q.afterSeq !== undefined) {
    where.push('seq > ?');
    args.push(q.afterSeq);
  }
  const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ${q.newestFirst ? 'DESC' : 'ASC'}${q.limit ? ' LIMIT ?' : ''}`;
  if (q.limit) args.push(q.limit);
  return (db.prepare(sql).all(...args) as Row[]).map(toEntry);
}

export function* iterateAudit(db: Database): Generator<AuditEntry> {
  for (const r of db.prepare('SELECT * FROM audit_log ORDER BY seq ASC').iterate() as IterableIterator<Row>) yield toEntry(r);
}

export function auditHead(db: Database): { seq: number; mac: Buffer } | null {
  return (db.prepare('SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; mac: Buffer } | undefined) ?? null;
}

export type AuditProblem = 'edited' | 'removed' | 'reordered' | 'truncated';

export type AuditVerifyResult =
  | { ok: true; entries: number; headSeq: number; anchor: { seq: number } | null }
  | { ok: false; entries: number; firstBadSeq: number; problem: AuditProblem; message: string };

export interface AuditAnchor {
  seq: number;
  mac: string;
}

/**
 * Walks the chain. Names the first entry that was edited, removed or moved, and — where an anchor from the OS
 * keychain is given — a log that was truncated or a vault file rolled back to before the anchor.
 */
export function verifyAudit(db: Database, key: SymmetricKey, anchor: AuditAnchor | null = null): AuditVerifyResult {
  const rows = db.prepare('SELECT * FROM audit_log ORDER BY seq ASC').all() as Row[];
  let prev: Buffer = GENESIS;
  let expected = 1;
  for (const r of rows) {
    if (r.seq !== expected) {
      const missing = r.seq - expected === 1 ? `entry ${expected} is missing` : `entries ${expected}–${r.seq - 1} are missing`;
      return {
        ok: false,
        entries: rows.length,
        firstBadSeq: expected,
        problem: 'removed',
        message: `Audit log broken: ${missing} (removed).`
      };
    }
    if (!equalBytes(macFor(key, prev, r), r.mac)) {
      // Does this entry chain from some other entry (or from the start)? Then it was moved, not edited.
      const candidates = [GENESIS, ...rows.map((x) => x.mac)];
      const movedFrom = candidates.some((c) => !c.equals(prev) && equalBytes(macFor(key, c, r), r.mac));
      if (movedFrom) {
        return {
          ok: false,
          entries: rows.length,
          firstBadSeq: r.seq,
          problem: 'reordered',
          message: `Audit log broken: entry ${r.seq} is out of order (entries were reordered or inserted).`
        };
      }
      const hint = r.seq > 1 ? ' (or the entry before it was removed and the rest renumbered)' : '';
      return {
        ok: false,
        entries: rows.length,
        firstBadSeq: r.seq,
        problem: 'edited',
        message: `Audit log broken: entry ${r.seq} was edited${hint}.`
      };
    }
    prev = r.mac;
    expected++;
  }
  const headSeq = rows.length ? rows[rows.length - 1]!.seq : 0;
  const last = rows.at(-1);
  const head = headProblem(db, key, readHead(db), last ? { seq: last.seq, mac: last.mac } : undefined);
  if (head)
    return {
      ok: false,
      entries: rows.length,
      firstBadSeq: head.firstBadSeq,
      problem: 'truncated',
      message: `Audit log broken: ${head.message}.`
    };
  if (anchor) {
    if (anchor.seq > headSeq) {
      return {
        ok: false,
        entries: rows.length,
        firstBadSeq: headSeq + 1,
        problem: 'truncated',
        message: `Audit log broken: the OS keychain anchor records entry ${anchor.seq}, but the log ends at ${headSeq} (entries were cut off, or the vault file was rolled back).`
      };
    }
    const at = rows.find((r) => r.seq === anchor.seq);
    if (anchor.seq > 0 && (!at || at.mac.toString('hex') !== anchor.mac)) {
      return {
        ok: false,
        entries: rows.length,
        firstBadSeq: anchor.seq,
        problem: 'truncated',
        message: `Audit log broken: entry ${anchor.seq} differs from the one anchored in the OS keychain (the vault file was replaced or rolled back).`
      };
    }
  }
  return { ok: true, entries: rows.length, headSeq, anchor: anchor ? { seq: anchor.seq } : null };
}
