import { nodeCrypto } from '../builtins.ts';
import { hostname } from 'node:os';

/**
 * Which process runs an execution. The app and the CLI may share a vault, so "a run found running at start-up" is
 * one whose owner is gone: a process on this machine that no longer exists, or (any machine) a lease that ran out.
 * The lease bounds the damage of a recycled pid; it is renewed whenever the run records its revert context (before
 * each call that changes something — per mailbox in a domain-wide Gmail block).
 */

/** How long a claim holds without a sign of life. Longer than any capability's provider calls with their timeouts. */
export const LEASE_MS = 10 * 60_000;

export interface Owner {
  host: string;
  pid: number;
  nonce: string;
}

export function newOwner(pid: number = process.pid): Owner {
  return { host: hostname(), pid, nonce: nodeCrypto().randomBytes(6).toString('hex') };
}

export function formatOwner(o: Owner): string {
  return `${o.host}|${o.pid}|${o.nonce}`;
}

export function parseOwner(s: string | null): Owner | null {
  if (!s) return null;
  const m = /^(.*)\|(\d{1,10})\|([0-9a-f]{1,32})$/.exec(s);
  return m ? { host: m[1]!, pid: Number(m[2]), nonce: m[3]! } : null;
}

/** Does a process with this pid exist? (EPERM: it exists but belongs to someone else.) */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/**
 * Is the claim `claimedBy` (with lease `leaseUntil`) abandoned, seen from process `me`? Our own claims are abandoned
 * only when we no longer track the run (`ours` says whether we do). Another process's claim is abandoned when its
 * lease ran out, or when it ran on this machine and that process is gone.
 */
export function claimAbandoned(
  claimedBy: string | null,
  leaseUntil: string | null,
  me: Owner,
  now: Date,
  ours: boolean,
  alive: (pid: number) => boolean = pidAlive
): boolean {
  const owner = parseOwner(claimedBy);
  if (!owner) return true;
  if (owner.host === me.host && owner.pid === me.pid) {
    // Our pid with another nonce is an earlier process that had our pid (a restart that got the same pid, as in a
    // container): it cannot be alive, since we are that pid now — it must not wait out its lease.
    return owner.nonce === me.nonce ? !ours : true;
  }
  if (leaseUntil === null || Date.parse(leaseUntil) <= now.getTime()) return true;
  if (owner.host === me.host && !alive(owner.pid)) return true;
  return false;
}
