import type { CapabilityId } from '../providers/capabilities.ts';
import { canonical, hmac, type SymmetricKey } from '../vault/crypto.ts';

/**
 * The pure half of routing: when two bindings would make resolution ambiguous, and which binding a host resolves to.
 * What a credential can run comes from the provider registry (`CapabilityTable`). The service (service.ts) feeds
 * these from the vault and verifies MACs.
 */

/** What a credential of a provider and mode can run (the provider registry answers this). */
export interface CapabilityTable {
  capabilitiesOf(provider: string, mode: string): CapabilityId[];
  supports(provider: string, mode: string, capability: CapabilityId): boolean;
}

export interface BindingFacts {
  id: string;
  credentialId: string;
  domain: string;
  subdomains: boolean;
}

/** MAC over a binding row under the vault's binding key: re-pointing it at another credential, domain or scope breaks it. */
export function bindingMac(key: SymmetricKey, b: BindingFacts): Buffer {
  return hmac(key, canonical('keydesk/v1/binding', b.id, b.credentialId, b.domain, b.subdomains));
}

export interface BoundCredential {
  credentialId: string;
  credentialName: string;
  provider: string;
  mode: string;
}

/**
 * Would binding `candidate` to `domain` make some resolution ambiguous? Two credentials bound to the same domain
 * both match that exact host at the same (most specific) level, so they conflict as soon as they share a
 * capability; bindings to different domains never tie (the more specific one wins). Returns the first conflict.
 */
export function findConflict(
  caps: CapabilityTable,
  candidate: BoundCredential,
  sameDomain: readonly BoundCredential[]
): { other: BoundCredential; capability: CapabilityId } | null {
  const mine = caps.capabilitiesOf(candidate.provider, candidate.mode);
  for (const other of sameDomain) {
    if (other.credentialId === candidate.credentialId) continue;
    const shared = caps.capabilitiesOf(other.provider, other.mode).find((c) => mine.includes(c));
    if (shared) return { other, capability: shared };
  }
  return null;
}

export interface Candidate extends BoundCredential {
  bindingId: string;
  domain: string;
  subdomains: boolean;
}

export type BindingPick =
  | { kind: 'match'; chosen: Candidate; matched: 'exact' | 'parent' }
  | { kind: 'none'; reason: 'no_binding' | 'no_capable_binding'; boundTo: Candidate[] }
  | { kind: 'ambiguous'; tied: Candidate[] };

/**
 * Chooses the binding for `host`: among bindings whose credential supports `capability`, the most specific bound
 * domain wins — the host itself first, then each parent, where a parent counts only if its binding covers
 * subdomains. Two credentials at that level are a tie (refused at bind time, so only a changed file gets here).
 * `candidates` are the bindings of the host and its parents (any order).
 */
export function pickBinding(caps: CapabilityTable, host: string, capability: CapabilityId, candidates: readonly Candidate[]): BindingPick {
  let best: Candidate | null = null;
  let tied: Candidate[] | null = null;
  let matched = 0;
  const unable: Candidate[] = [];
  for (const c of candidates) {
    if (!(
      c.domain === host ||
      (c.subdomains && host.length > c.domain.length && host.endsWith(c.domain) && host[host.length - c.domain.length - 1] === '.')
    ))
      continue;
    matched++;
    if (!caps.supports(c.provider, c.mode, capability)) {
      unable.push(c);
      continue;
    }
    // The most specific bound domain is the longest one the host is within.
    if (best === null || c.domain.length > best.domain.length) {
      best = c;
      tied = null;
    } else if (c.domain === best.domain && c.credentialId !== best.credentialId) {
      tied = [...(tied ?? [best]), c];
    }
  }
  if (matched === 0) return { kind: 'none', reason: 'no_binding', boundTo: [] };
  if (best === null) return { kind: 'none', reason: 'no_capable_binding', boundTo: unable };
  if (tied) return { kind: 'ambiguous', tied };
  return { kind: 'match', chosen: best, matched: best.domain === host ? 'exact' : 'parent' };
}
