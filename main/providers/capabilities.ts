/**
 * The capability model (PROVIDERS.md): every response action Keydesk knows, what it acts on and how it is routed.
 * A provider's manifest says which of these it can perform (its spec's `capabilities`) and loads the handlers that
 * perform them; the catalog, the run form, routing and input checks all read this one list. Adding a capability is
 * one entry here plus a handler in each provider that can perform it.
 */

export interface CapabilityInfo {
  /** What the action does, for people ("Block a sender"). */
  label: string;
  /** What the target is. */
  target: 'email' | 'domain' | 'resource' | 'ip';
  /** Tenant capabilities are routed by host through domain bindings; resource capabilities name their credential. */
  tenant: boolean;
  /** Which host a tenant capability accepts (`optional`: defaults to the target's own domain). */
  host: 'email' | 'email_or_domain' | 'optional' | 'none';
}

export const CAPABILITIES = {
  block_sender: { label: 'Block a sender', target: 'email', tenant: true, host: 'email' },
  block_email_domain: { label: 'Block an email domain', target: 'domain', tenant: true, host: 'email_or_domain' },
  disable_user: { label: 'Disable a user', target: 'email', tenant: true, host: 'optional' },
  power: { label: 'Power a host off', target: 'resource', tenant: false, host: 'none' },
  block_ip: { label: 'Block an IP address', target: 'ip', tenant: false, host: 'none' },
  isolate: { label: 'Isolate a host', target: 'resource', tenant: false, host: 'none' }
} as const satisfies Record<string, CapabilityInfo>;

export type CapabilityId = keyof typeof CAPABILITIES;

/** Every capability id, in the catalog's order. */
export const CAPABILITY_IDS = Object.keys(CAPABILITIES) as readonly CapabilityId[];

export function isCapabilityId(v: unknown): v is CapabilityId {
  return typeof v === 'string' && Object.hasOwn(CAPABILITIES, v);
}

export function capabilityInfo(id: CapabilityId): CapabilityInfo {
  return CAPABILITIES[id];
}
