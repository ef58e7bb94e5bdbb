import { KeydeskError } from '../errors.ts';
import { capabilityInfo, type CapabilityId } from '../providers/capabilities.ts';
import { echo, isWithin, normaliseDomain, normaliseMailbox } from '../routing/domains.ts';
import type { ProviderSpec } from '../providers/spec.ts';
import { parseCapability, parseHost, type Host } from '../routing/service.ts';
import { printable } from '../text.ts';

/**
 * What a run request must look like, checked before anything is recorded or any provider is called. Pure: the
 * CLI, IPC and tests all go through `validateRunRequest`.
 */

export interface RunRequestInput {
  capability: unknown;
  target: unknown;
  hostEmail?: unknown;
  hostDomain?: unknown;
  reason: unknown;
  /** A credential name or id: a cross-check for tenant capabilities; for resource ones, else the account's credential. */
  credential?: unknown;
  /** Scoped capabilities: the VPC or network ACL, network, or NSG (default: the credential's). */
  scope?: unknown;
  /** Yes/no choices the capability declares (its provider's CapabilitySpec.options). */
  options?: unknown;
}

export interface RunRequest {
  capability: CapabilityId;
  target: string;
  host: Host | null;
  reason: string;
  credential: string | null;
  scope: string | null;
  options: Record<string, boolean>;
}

export const MAX_REASON_LENGTH = 500;
/**
 * A resource as its cloud names it: a VPS number, an EC2 instance id or ARN, projects/P/zones/Z/instances/I, an Azure
 * resource id (/subscriptions/…; resource group names may hold parentheses). The provider checks the exact shape.
 */
const RESOURCE_RE = /^\/?[A-Za-z0-9][A-Za-z0-9._:/()-]{0,511}$/;
const MAX_RESOURCE = 512;

function bad(message: string, field: string, short: string): KeydeskError {
  return new KeydeskError('INPUT_INVALID', message, { fields: { [field]: short } });
}

export function validateReason(v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '')
    throw bad('A reason is required: say why this action runs (it goes to the audit log).', 'reason', 'A reason is required');
  const r = v.normalize('NFC').trim();
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(r))
    throw bad('The reason must be one line of plain text (no control characters).', 'reason', 'One line of plain text');
  if (r.length > MAX_REASON_LENGTH)
    throw bad(`The reason is at most ${MAX_REASON_LENGTH} characters.`, 'reason', `At most ${MAX_REASON_LENGTH} characters`);
  return r;
}

function optionalString(v: unknown, field: string): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string') throw bad(`${field} must be text.`, field, 'Must be text');
  return v;
}

export function validateTarget(capability: CapabilityId, v: unknown): string {
  const kind = capabilityInfo(capability).target;
  if (typeof v !== 'string' || v.trim() === '')
    throw bad(
      `${capability} needs a target (${kind === 'email' ? 'an email address' : kind === 'domain' ? 'a domain' : kind === 'ip' ? 'an IP address' : 'a resource id'}).`,
      'target',
      'A target is required'
    );
  switch (kind) {
    case 'email':
      return normaliseMailbox(v, 'target').address;
    case 'domain':
      return normaliseDomain(v, 'target');
    case 'ip':
      return normaliseIpTarget(v);
    case 'resource':
      return validateResource(v, 'target');
  }
}

export function validateResource(v: string, field: string): string {
  const s = v.trim();
  if (s.length > MAX_RESOURCE || !RESOURCE_RE.test(s) || s.includes('//') || s.includes('..'))
    throw bad(
      `"${echo(s)}" is not a resource id (letters, digits and . _ : / ( ) -, at most ${MAX_RESOURCE} characters).`,
      field,
      'A resource id'
    );
  return s;
}

/** A resource capability and its target (what executions.pickCredential takes). */
export function validateResourceTarget(capabilityInput: unknown, targetInput: unknown): { capability: CapabilityId; target: string } {
  const capability = parseCapability(capabilityInput);
  if (capabilityInfo(capability).tenant)
    throw bad(
      `${capability} is routed by the protected domain's binding (bindings.resolve), not by its target.`,
      'capability',
      'A resource capability'
    );
  return { capability, target: validateTarget(capability, targetInput) };
}

/**
 * An IPv4 or IPv6 address, or a CIDR block, normalised: IPv6 in its canonical lower-case compressed form, a CIDR with
 * its host bits clear (a block with host bits set is refused, naming the block it probably means). A block wider than
 * /8 (IPv4) or /16 (IPv6) is refused: it would cut off a large part of the internet, or everything.
 */
export function normaliseIpTarget(v: string): string {
  const s = v.trim();
  const slash = s.indexOf('/');
  const addr = slash === -1 ? s : s.slice(0, slash);
  const parsed = parseIp(addr);
  if (!parsed)
    throw bad(
      `"${echo(s)}" is not an IP address or CIDR block (e.g. 203.0.113.7, 203.0.113.0/24, 2001:db8::1, 2001:db8::/48).`,
      'target',
      'An IPv4/IPv6 address or CIDR block'
    );
  const bits = parsed.v === 4 ? 32 : 128;
  if (slash === -1) return parsed.text;
  const prefixText = s.slice(slash + 1);
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= bits))
    throw bad(`"${echo(s)}": the prefix length must be 0–${bits}.`, 'target', `A prefix length of 0–${bits}`);
  const minimum = parsed.v === 4 ? 8 : 16;
  if (prefix < minimum)
    throw bad(
      `Refusing to block ${parsed.text}/${prefix}: a block wider than /${minimum} would cut off a large part of the internet. Block narrower ranges.`,
      'target',
      `At most a /${minimum}`
    );
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  const network = parsed.value & mask;
  const text = formatIp(parsed.v, network);
  if (network !== parsed.value)
    throw bad(
      `${s} has host bits set: the block is ${text}/${prefix} (or give the single address ${parsed.text}).`,
      'target',
      'Host bits set in the CIDR block'
    );
  return `${text}/${prefix}`;
}

type ParsedIp = { v: 4 | 6; value: bigint; text: string };

function parseIp(s: string): ParsedIp | null {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    if (parts.some((p, i) => p > 255 || (v4[i + 1]!.length > 1 && v4[i + 1]!.startsWith('0')))) return null;
    const value = parts.reduce((a, p) => (a << 8n) | BigInt(p), 0n);
    return { v: 4, value, text: formatIp(4, value) };
  }
  if (!/^[0-9a-fA-F:.]{2,45}$/.test(s) || !s.includes(':')) return null;
  let head = s;
  let tail4: bigint | null = null;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    const embedded = parseIp(s.slice(lastColon + 1));
    if (!embedded || embedded.v !== 4) return null;
    tail4 = embedded.value;
    head = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  if ([...left, ...right].some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  const fill = 8 - left.length - right.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return null;
  const all = [...left, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...right];
  let value = all.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n);
  if (tail4 !== null) value = (value & ~0xffffffffn) | tail4;
  return { v: 6, value, text: formatIp(6, value) };
}

/** RFC 5952 text: lower case, the longest run of two or more zero groups compressed. */
function formatIp(v: 4 | 6, value: bigint): string {
  if (v === 4) return [24n, 16n, 8n, 0n].map((sh) => String((value >> sh) & 0xffn)).join('.');
  const g = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best === -1) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** A scope as a provider names it (a VPC or network ACL id, a network path, an NSG resource id), or null. */
export function validateScope(v: unknown): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string') throw bad('The scope must be text.', 'scope', 'Must be text');
  return validateResource(v, 'scope');
}

/** Yes/no options: an object of booleans with snake_case names (the provider says which names it knows). */
export function validateOptions(v: unknown): Record<string, boolean> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw bad('Options are yes/no choices by name.', 'options', 'Yes/no choices');
  const out: Record<string, boolean> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (!/^[a-z][a-z0-9_]{0,63}$/.test(k)) throw bad(`"${echo(k)}" is not an option name.`, 'options', 'Unknown option');
    if (typeof x !== 'boolean') throw bad(`Option ${k} is yes or no (true or false).`, 'options', `${k}: yes or no`);
    out[k] = x;
  }
  return out;
}

/**
 * Checks and normalises a run request: a known capability, a target of the capability's kind, the host the
 * capability needs (and no host where it takes none), a one-line reason, and a credential where one must be named.
 * Refuses requests that would turn an action on the tenant it protects (blocking the protected domain itself, or a
 * mailbox blocking itself).
 */
export function validateRunRequest(input: RunRequestInput): RunRequest {
  const capability = parseCapability(input.capability);
  const shape = capabilityInfo(capability);
  const target = validateTarget(capability, input.target);
  const reason = validateReason(input.reason);
  const credential = optionalString(input.credential, 'credential');
  const scope = validateScope(input.scope);
  const options = validateOptions(input.options);
  if (scope !== null && !shape.scope)
    throw bad(`${capability} takes no scope (only block_ip acts inside a VPC, network or NSG).`, 'scope', 'No scope for this capability');
  if (shape.tenant && Object.keys(options).length > 0)
    throw bad(`${capability} takes no options.`, 'options', 'No options for this capability');
  const hostEmail = optionalString(input.hostEmail, 'host_email');
  const hostDomain = optionalString(input.hostDomain, 'host_domain');
  let host: Host | null = null;

  if (shape.host === 'none') {
    if (hostEmail || hostDomain)
      throw bad(
        `${capability} acts on a resource, not a tenant: it takes no host_email or host_domain.`,
        'host',
        'No host for this capability'
      );
  } else if (shape.host === 'email') {
    if (hostDomain || !hostEmail)
      throw bad(
        `${capability} acts on one protected mailbox: give host_email (the mailbox to protect), not host_domain.`,
        'host_email',
        'The protected mailbox is required'
      );
    host = parseHost({ hostEmail });
  } else if (shape.host === 'email_or_domain') {
    host = parseHost({ hostEmail, hostDomain });
  } else {
    const targetDomain = target.slice(target.lastIndexOf('@') + 1);
    host = hostEmail || hostDomain ? parseHost({ hostEmail, hostDomain }) : { kind: 'domain', value: targetDomain, domain: targetDomain };
    if (!isWithin(targetDomain, host.domain)) {
      throw bad(
        `${target} is not in ${host.domain}: ${capability} acts on the tenant that owns the user's own domain. Give host_domain ${targetDomain} (or leave the host out).`,
        'target',
        'Not in the host domain'
      );
    }
  }

  if (capability === 'block_email_domain' && host && isWithin(host.domain, target)) {
    throw bad(
      `Refusing to block ${target} into ${host.value}: that is the protected tenant's own domain.`,
      'target',
      'The protected domain itself'
    );
  }
  if (capability === 'block_sender' && host && host.value === target)
    throw bad(`Refusing to block ${target} into its own mailbox.`, 'target', 'The protected mailbox itself');
  return { capability, target, host, reason, credential, scope, options };
}

/**
 * Two runs are identical when they would do the same thing: same capability, credential, target and host (and scope,
 * for a scoped capability: blocking an address in two network ACLs is two actions). Options do not make a run
 * different: isolating a host twice, with or without cutting connections, is isolating it once.
 */
export function dedupeKey(
  r: { capability: string; target: string; host: Host | null; scope?: string | null },
  credentialId: string
): string {
  const key: (string | null)[] = [r.capability, credentialId, r.target, r.host ? `${r.host.kind}:${r.host.value}` : null];
  if (r.scope) key.push(r.scope);
  return JSON.stringify(key);
}

/**
 * The scope and options a run acts with, once its credential is known: the scope named, else the credential's stored
 * default (a scoped capability without either is refused); every option the provider declares, with the value asked
 * or its default (an option it does not declare is refused).
 */
export function runParams(
  spec: ProviderSpec,
  req: Pick<RunRequest, 'capability' | 'scope' | 'options'>,
  cred: { name: string; metadata: Readonly<Record<string, string>> }
): { scope: string | null; options: Record<string, boolean> } {
  const cap = spec.capabilities.find((c) => c.id === req.capability);
  let scope = req.scope;
  // A provider that acts inside a scope declares it (CapabilitySpec.scope); one that does not takes none.
  if (cap?.scope) {
    const field = cap.scope.field;
    if (scope === null && cred.metadata[field]) scope = validateResource(cred.metadata[field], 'scope');
    if (scope === null)
      throw bad(
        `${req.capability} acts inside a ${cap.scope.label}: name it (--scope ${cap.scope.placeholder}), or store a default on "${printable(cred.name)}" (${field}).`,
        'scope',
        'A scope is required'
      );
  } else if (scope !== null) {
    throw bad(`${spec.label} ${req.capability} takes no scope.`, 'scope', 'No scope for this provider');
  }
  const declared = cap?.options ?? [];
  for (const name of Object.keys(req.options)) {
    if (!declared.some((o) => o.name === name))
      throw bad(
        `${spec.label} ${req.capability} has no option ${name}${declared.length ? ` (it has ${declared.map((o) => o.name).join(', ')})` : ''}.`,
        'options',
        'Unknown option'
      );
  }
  const options: Record<string, boolean> = {};
  for (const o of declared) options[o.name] = req.options[o.name] ?? o.default;
  return { scope, options };
}

/** The params column of a run: null when it has no scope and no options (its MAC is then as before schema 5). */
export function paramsJson(scope: string | null, options: Readonly<Record<string, boolean>>): string | null {
  if (scope === null && Object.keys(options).length === 0) return null;
  const sorted = Object.fromEntries(Object.entries(options).sort(([a], [b]) => (a < b ? -1 : 1)));
  return JSON.stringify({ scope, options: sorted });
}
