import type { AuditEntry } from '../vault/audit-log.ts';

/**
 * An audit entry as one RFC 5424 syslog message, for a SIEM:
 *   <PRI>1 TIMESTAMP HOSTNAME keydesk - MSGID [keydesk@32473 seq="…" actor="…" outcome="…" …] DETAIL-JSON
 * Facility 13 (log audit); severity from the outcome (ok 6 informational, denied 5 notice, failed 4 warning, error 3
 * error). MSGID is the action. The SD-ID uses 32473, the enterprise number RFC 5612 reserves for documentation, until
 * Keydesk has one of its own. Every field is printable: control characters are written as \uXXXX, so nothing a
 * credential name holds can move a terminal's cursor or forge a second line. Pure.
 */

const FACILITY_LOG_AUDIT = 13;
const SEVERITY: Record<AuditEntry['outcome'], number> = { ok: 6, denied: 5, failed: 4, error: 3 };

/** Control characters (C0, DEL, C1) and the Unicode line separators, as \uXXXX. */
function visible(s: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** RFC 5424 PARAM-VALUE: '"', '\' and ']' escaped with a backslash. */
function paramValue(s: string): string {
  return visible(s.replace(/["\\\]]/g, (c) => `\\${c}`));
}

/** RFC 5424 header fields are PRINTUSASCII without spaces, at most `max` characters; "-" when empty. */
function token(s: string, max: number): string {
  const t = s.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return t === '' ? '-' : t;
}

export function syslogLine(e: AuditEntry, hostname: string): string {
  const pri = FACILITY_LOG_AUDIT * 8 + (SEVERITY[e.outcome] ?? 5);
  const params: [string, string | null][] = [
    ['seq', String(e.seq)],
    ['actor', e.actor],
    ['outcome', e.outcome],
    ['credentialId', e.credentialId],
    ['credential', e.credentialName],
    ['mac', e.mac]
  ];
  const sd = `[keydesk@32473 ${params
    .filter((p): p is [string, string] => p[1] !== null)
    .map(([k, v]) => `${k}="${paramValue(v)}"`)
    .join(' ')}]`;
  return `<${pri}>1 ${e.at} ${token(hostname, 255)} keydesk - ${token(e.action, 32)} ${sd} ${visible(JSON.stringify(e.detail))}`;
}
