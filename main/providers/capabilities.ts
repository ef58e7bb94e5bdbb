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
  /** It acts inside a scope the run names (or the credential stores as its default): the VPC / ACL, network, NSG. */
  scope: boolean;
  /** It takes something away (a user's sign-in, a host's network or power): the app confirms it, naming the target. */
  destructive: boolean;
}

export const CAPABILITIES = {
  block_sender: { label: 'Block a sender', target: 'email', tenant: true, host: 'email', scope: false, destructive: false },
  block_email_domain: {
    label: 'Block an email domain',
    target: 'domain',
    tenant: true,
    host: 'email_or_domain',
    scope: false,
    destructive: false
  },
  disable_user: { label: 'Disable a user', target: 'email', tenant: true, host: 'optional', scope: false, destructive: true },
  power: { label: 'Power a host off', target: 'resource', tenant: false, host: 'none', scope: false, destructive: true },
  block_ip: { label: 'Block an IP address', target: 'ip', tenant: false, host: 'none', scope: true, destructive: false },
  isolate: { label: 'Isolate a host', target: 'resource', tenant: false, host: 'none', scope: false, destructive: true }
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
