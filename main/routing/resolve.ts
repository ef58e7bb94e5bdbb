import { providerSpec } from '../providers/catalog.ts';
import { CAPABILITY_IDS, type CapabilityId } from '../providers/spec.ts';
import { canonical, hmac, type SymmetricKey } from '../vault/crypto.ts';
import { domainAndParents } from './domains.ts';

/**
 * The pure half of routing: what a credential can do, when two bindings would make resolution ambiguous, and
 * which binding a host resolves to. The service (service.ts) feeds these from the vault and verifies MACs.
 */

export function isCapabilityId(v: unknown): v is CapabilityId {
  return typeof v === 'string' && (CAPABILITY_IDS as readonly string[]).includes(v);
}

/** The capabilities a credential of this provider and auth mode can perform (CapabilitySpec.modes narrows by mode). */
export function credentialCapabilities(provider: string, mode: string): CapabilityId[] {
  let spec;
  try {
    spec = providerSpec(provider);
  } catch {
    return [];
  }
  return spec.capabilities.filter((c) => !c.modes || c.modes.includes(mode)).map((c) => c.id);
}

export function supportsCapability(provider: string, mode: string, capability: CapabilityId): boolean {
  return credentialCapabilities(provider, mode).includes(capability);
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
export function findConflict(candidate: BoundCredential, sameDomain: readonly BoundCredential[]): { other: BoundCredential; capability: CapabilityId } | null {
  const mine = credentialCapabilities(candidate.provider, candidate.mode);
  for (const other of sameDomain) {
    if (other.credentialId === candidate.credentialId) continue;
    const shared = credentialCapabilities(other.provider, other.mode).find((c) => mine.includes(c));
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
export function pickBinding(host: string, capability: CapabilityId, candidates: readonly Candidate[]): BindingPick {
  const matching = candidates.filter((c) => c.domain === host || (c.subdomains && host.endsWith(`.${c.domain}`)));
  if (matching.length === 0) return { kind: 'none', reason: 'no_binding', boundTo: [] };
  const capable = matching.filter((c) => supportsCapability(c.provider, c.mode, capability));
  if (capable.length === 0) return { kind: 'none', reason: 'no_capable_binding', boundTo: matching };
  for (const level of domainAndParents(host)) {
    const here = capable.filter((c) => c.domain === level);
    const credentials = new Set(here.map((c) => c.credentialId));
    if (credentials.size > 1) return { kind: 'ambiguous', tied: here };
    if (here.length > 0) return { kind: 'match', chosen: here[0]!, matched: level === host ? 'exact' : 'parent' };
  }
  return { kind: 'none', reason: 'no_binding', boundTo: [] };
}
