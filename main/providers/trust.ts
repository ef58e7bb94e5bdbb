import type * as Tls from 'node:tls';

/**
 * Which certificate authorities Keydesk's provider calls trust: Node's bundled roots, NODE_EXTRA_CA_CERTS (both in
 * Node's "default" set) and the operating system's trust store — where an organisation installs the CA of its
 * TLS-inspecting proxy, or a private CA for a sovereign-cloud or proxy endpoint. There is deliberately no
 * per-credential "trust this CA" setting: an endpoint override is only as trusted as the machine's own trust.
 *
 * Node's fetch (and every library that uses Node's TLS defaults: MSAL through Keydesk's network module, gaxios,
 * the AWS SDK) picks this up; it is applied once, before the first provider request.
 */

/** The union of two CA lists, in order, each certificate once. Pure. */
export function mergeCaLists(defaults: readonly string[], system: readonly string[]): string[] {
  return [...new Set([...defaults, ...system])];
}

type TlsTrustApi = Pick<typeof Tls, 'getCACertificates' | 'setDefaultCACertificates'>;

/** node:tls, loaded when the first provider request is prepared (not by every command that imports this module). */
const nodeTls = (): typeof Tls => process.getBuiltinModule('node:tls');

let applied = false;

/**
 * Adds the OS trust store to Node's default CAs (once per process). Returns whether the system store is in use;
 * false where this Node has no API for it (then Node's bundled roots and NODE_EXTRA_CA_CERTS still apply).
 */
export function trustSystemStore(api: Partial<TlsTrustApi> = nodeTls()): boolean {
  const real = api === nodeTls();
  if (real && applied) return true;
  if (typeof api.getCACertificates !== 'function' || typeof api.setDefaultCACertificates !== 'function') return false;
  try {
    api.setDefaultCACertificates(mergeCaLists(api.getCACertificates('default'), api.getCACertificates('system')));
    if (real) applied = true;
  } catch {
    return false;
  }
  return true;
}
