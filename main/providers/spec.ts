import { nodeCrypto } from '../builtins.ts';
import type { CapabilityId } from './capabilities.ts';

/**
 * The static half of a provider (its manifest's `spec`): what Keydesk needs to accept, store and describe a
 * credential — auth modes, their fields and the rules for each field — and what it can do. The behaviour (validate,
 * execute, revert, sign in) is loaded lazily by the manifest beside each spec.
 *
 * Field rules are plain functions, not schemas from a validation library: a spec is loaded by every command (even
 * `keydesk list`, which only reads labels and rotation policies), and a library's import would be paid there.
 */

export type FieldKind = 'text' | 'url' | 'email' | 'json' | 'pem' | 'number' | 'uuid' | 'scopes';

export interface FieldSpec {
  name: string;
  label: string;
  /** Secret fields are encrypted and write-only: never returned, never logged. */
  secret: boolean;
  required: boolean;
  multiline?: boolean;
  kind: FieldKind;
  /** Show the last four characters as readable metadata (key and client ids). */
  last4?: boolean;
  /** An endpoint override: steers where a secret is sent, so changing it requires the secret fields again. */
  endpoint?: boolean;
  help?: string;
  placeholder?: string;
  /** Checks the trimmed, non-empty value: the message for its first problem, or null. Messages never quote the value. */
  rule: FieldRule;
}

export interface ModeSpec {
  id: string;
  label: string;
  fields: FieldSpec[];
  /** OAuth modes get their tokens from a flow (or pasted + refreshed), not from the form. */
  oauth?: boolean;
  /** Days after which the secret is due for rotation (PROVIDERS.md, "Rotation schedules"). */
  rotationDays: number;
  /** Readable, non-secret facts derived from the field values (display copy only: never trusted to steer). */
  describe?: (values: Readonly<Record<string, string>>) => Record<string, string | undefined>;
  /** Rules across fields (field name → message); run after each field's own rule passed. */
  check?: (values: Readonly<Record<string, string>>) => Record<string, string | undefined>;
  /** When the secret itself says when it stops working (a certificate's notAfter), as an ISO date. */
  expiry?: (values: Readonly<Record<string, string>>) => string | null;
}

export interface CapabilitySpec {
  id: CapabilityId;
  label: string;
  /** The exact provider permissions (scopes, roles, IAM actions) the capability needs. */
  permissions: string[];
  /** Modes that can perform it at all (e.g. a Google oauth_user cannot filter other people's mailboxes). */
  modes?: string[];
  note?: string;
  /** How the provider names the target, for the run form and errors ("an EC2 instance id or ARN"). */
  target?: { label: string; placeholder: string };
  /** For a capability that acts inside a scope: what the scope is, and the credential field holding its default. */
  scope?: { label: string; placeholder: string; field: string };
  /** Yes/no choices a run can make (all default as given): "cut existing connections", "deallocate". */
  options?: CapabilityOption[];
}

export interface CapabilityOption {
  /** snake_case; the CLI flag is --NAME with dashes (and --no-NAME for a default of true). */
  name: string;
  label: string;
  help: string;
  default: boolean;
}

export interface ProviderSpec {
  /** A lower-case identifier ([a-z][a-z0-9_]*), unique in the registry. */
  id: string;
  label: string;
  /** Tenant-scoped providers act on a domain's tenant and need domain bindings. */
  tenantScoped: boolean;
  modes: ModeSpec[];
  capabilities: CapabilitySpec[];
  /** Permissions validation itself needs. */
  validationPermissions: string[];
  /**
   * Resource providers: the account / project / subscription a target names (null when the target does not say, e.g.
   * a bare EC2 instance id), and the one a credential acts in (from its readable fields or what validation observed).
   * A run that names no credential is routed to the one credential whose account matches the target's.
   */
  accounts?: {
    ofTarget(target: string): string | null;
    ofCredential(fields: Readonly<Record<string, string>>, identity: Readonly<Record<string, string>>): string | null;
  };
}

// ---------------------------------------------------------------------------------------------
// Field rules. Each message says what is expected, never what was received.

/** The message for a value's first problem, or null when it is acceptable. */
export type FieldRule = (value: string) => string | null;

/** The rules in order: the first message wins. */
export function allOf(...rules: FieldRule[]): FieldRule {
  return (v) => {
    for (const r of rules) {
      const m = r(v);
      if (m !== null) return m;
    }
    return null;
  };
}

const nonEmpty = (label: string, max = 4096): FieldRule =>
  allOf(
    (v) => (v.length < 1 ? `${label} is required` : null),
    (v) => (v.length > max ? `${label} is too long (at most ${max} characters)` : null)
  );

const matching =
  (re: RegExp, message: string): FieldRule =>
  (v) =>
    re.test(v) ? null : message;

export function isLoopbackHost(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

/** An endpoint override: https, or plain http only to 127.0.0.1/localhost; no user info, no fragment. */
export const endpointUrl = (label: string): FieldRule =>
  allOf(nonEmpty(label, 2048), (v) => {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      return `${label} must be an absolute URL`;
    }
    if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopbackHost(u.hostname))) {
      return `${label} must use https (plain http only to 127.0.0.1 or localhost)`;
    }
    if (u.username || u.password) return `${label} must not contain a user name or password`;
    if (u.hash) return `${label} must not contain a #fragment`;
    return null;
  });

const EMAIL_RE =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
export const emailAddress = (label: string): FieldRule =>
  allOf(nonEmpty(label, 320), matching(EMAIL_RE, `${label} must be an email address`));

const GUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const guid = (label: string): FieldRule =>
  allOf(nonEmpty(label, 36), matching(GUID_RE, `${label} must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`));

/** Entra tenant: a GUID or a verified domain such as contoso.onmicrosoft.com. */
export const tenantId = (label: string): FieldRule =>
  allOf(nonEmpty(label, 253), (v) =>
    GUID_RE.test(v) || /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(v)
      ? null
      : `${label} must be a GUID or the tenant's domain`
  );

function parseJsonObject(v: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(v);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export const jsonObject = (label: string): FieldRule =>
  allOf(nonEmpty(label, 65536), (v) => (parseJsonObject(v) !== null ? null : `${label} must be a JSON object`));

/** A Google service account key file ("type": "service_account"). */
export const serviceAccountJson = (label: string): FieldRule =>
  allOf(nonEmpty(label, 65536), (v) => {
    const o = parseJsonObject(v);
    if (!o) return `${label} must be the JSON key file of a service account`;
    if (o.type !== 'service_account') return `${label}: "type" must be "service_account"`;
    for (const k of ['client_email', 'private_key', 'private_key_id', 'project_id'] as const) {
      if (typeof o[k] !== 'string' || o[k] === '') return `${label}: "${k}" is missing`;
    }
    try {
      nodeCrypto().createPrivateKey(o.private_key as string);
    } catch {
      return `${label}: "private_key" is not a readable PEM private key`;
    }
    if (!EMAIL_RE.test(o.client_email as string)) return `${label}: "client_email" is not an email address`;
    return null;
  });

/** Workload identity federation ("type": "external_account"): url or file sources only, never executable. */
export const externalAccountJson = (label: string): FieldRule =>
  allOf(nonEmpty(label, 65536), (v) => {
    const o = parseJsonObject(v);
    if (!o) return `${label} must be an external_account JSON configuration`;
    if (o.type !== 'external_account') return `${label}: "type" must be "external_account"`;
    for (const k of ['audience', 'subject_token_type', 'token_url'] as const) {
      if (typeof o[k] !== 'string' || o[k] === '') return `${label}: "${k}" is missing`;
    }
    const src = o.credential_source;
    if (src === null || typeof src !== 'object' || Array.isArray(src)) return `${label}: "credential_source" is missing`;
    const s = src as Record<string, unknown>;
    if ('executable' in s) {
      return `${label}: executable credential sources are refused (Keydesk runs no external command); use a url or file source`;
    }
    if (!('url' in s) && !('file' in s)) return `${label}: "credential_source" must have a "url" or a "file"`;
    if (typeof s.url === 'string') {
      const m = endpointUrl(`${label} credential_source.url`)(s.url);
      if (m !== null) return m;
    }
    for (const k of ['token_url', 'service_account_impersonation_url'] as const) {
      if (typeof o[k] === 'string') {
        const m = endpointUrl(`${label} ${k}`)(o[k]);
        if (m !== null) return m;
      }
    }
    return null;
  });

/** A PEM bundle holding one certificate and its private key. */
export const certificatePem = (label: string): FieldRule =>
  allOf(nonEmpty(label, 65536), (v) => {
    if (!/-----BEGIN CERTIFICATE-----/.test(v)) return `${label} must contain the certificate (BEGIN CERTIFICATE)`;
    if (!/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(v)) return `${label} must contain the private key (BEGIN PRIVATE KEY)`;
    try {
      const cert = new (nodeCrypto().X509Certificate)(v);
      const key = nodeCrypto().createPrivateKey(v);
      if (!cert.checkPrivateKey(key)) return `${label}: the private key does not belong to the certificate`;
    } catch {
      return `${label} is not a readable certificate and private key`;
    }
    return null;
  });

export const integerIn = (label: string, min: number, max: number): FieldRule =>
  allOf(nonEmpty(label, 12), (v) =>
    /^\d+$/.test(v) && Number(v) >= min && Number(v) <= max ? null : `${label} must be a whole number from ${min} to ${max}`
  );

export const scopeList = (label: string): FieldRule =>
  allOf(
    nonEmpty(label, 4096),
    matching(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, `${label} must be scope names separated by single spaces`)
  );

export const pattern = (label: string, re: RegExp, expected: string, max = 2048): FieldRule =>
  allOf(nonEmpty(label, max), matching(re, `${label} must be ${expected}`));

export function jsonField(value: string | undefined): Record<string, unknown> | null {
  return value === undefined ? null : parseJsonObject(value);
}

export function certificateFacts(pem: string): { thumbprint: string; notAfter: string; subject: string } | null {
  try {
    const cert = new (nodeCrypto().X509Certificate)(pem);
    return {
      thumbprint: cert.fingerprint.replace(/:/g, ''),
      notAfter: new Date(cert.validTo).toISOString(),
      subject: cert.subject.replace(/\n/g, ', ')
    };
  } catch {
    return null;
  }
}

// Shared field builders --------------------------------------------------------------------------

export function field(
  spec: Omit<FieldSpec, 'required' | 'secret' | 'kind'> & Partial<Pick<FieldSpec, 'required' | 'secret' | 'kind'>>
): FieldSpec {
  return { required: true, secret: false, kind: 'text', ...spec };
}

export function endpointField(name: string, label: string, help: string, placeholder?: string): FieldSpec {
  return field({
    name,
    label,
    kind: 'url',
    required: false,
    endpoint: true,
    help,
    rule: endpointUrl(label),
    ...(placeholder ? { placeholder } : {})
  });
}

/** An Entra client secret (the "Value" column, not the secret's ID). */
export const clientSecretRule = pattern('Client secret', /^\S{8,512}$/, 'a client secret value (8–512 characters, no spaces)', 512);
