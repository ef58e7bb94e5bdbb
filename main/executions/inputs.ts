import { KeydeskError } from '../errors.ts';
import { capabilityInfo, type CapabilityId } from '../providers/capabilities.ts';
import { echo, isWithin, normaliseDomain, normaliseMailbox } from '../routing/domains.ts';
import { parseCapability, parseHost, type Host } from '../routing/service.ts';

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
  /** A credential name or id: required for resource capabilities, a cross-check for tenant ones. */
  credential?: unknown;
}

export interface RunRequest {
  capability: CapabilityId;
  target: string;
  host: Host | null;
  reason: string;
  credential: string | null;
}

export const MAX_REASON_LENGTH = 500;
const RESOURCE_RE = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

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
    case 'ip': {
      const s = v.trim();
      if (!IPV4_RE.test(s)) throw bad(`"${echo(s)}" is not an IPv4 address.`, 'target', 'An IPv4 address');
      return s;
    }
    case 'resource': {
      const s = v.trim();
      if (!RESOURCE_RE.test(s))
        throw bad(`"${echo(s)}" is not a resource id (letters, digits and . _ : / -, at most 128 characters).`, 'target', 'A resource id');
      return s;
    }
  }
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
    if (!credential)
      throw bad(
        `${capability} acts on a resource: name the credential to run it with (--credential NAME).`,
        'credential',
        'Name the credential'
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
  return { capability, target, host, reason, credential };
}

/** Two runs are identical when they would do the same thing: same capability, credential, target and host. */
export function dedupeKey(r: { capability: string; target: string; host: Host | null }, credentialId: string): string {
  return JSON.stringify([r.capability, credentialId, r.target, r.host ? `${r.host.kind}:${r.host.value}` : null]);
}
