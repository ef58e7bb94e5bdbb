/**
 * How Compute Engine names what Keydesk acts on — pure, import-free (the spec reads it on every command):
 * an instance `projects/P/zones/Z/instances/I` and a VPC network `projects/P/global/networks/N`.
 */

export const COMPUTE_BASE = 'https://compute.googleapis.com';
export const COMPUTE_SCOPE = 'https://www.googleapis.com/auth/compute';
/** The network tag isolate adds; the deny-all quarantine rules target it. */
export const QUARANTINE_TAG = 'keydesk-quarantine';

/** A project id (6–30: a letter, then lower-case letters, digits, hyphens; not ending in a hyphen), optionally domain-scoped. */
const PROJECT = '(?:[a-z][a-z0-9.-]{0,61}[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]';
const ZONE = '[a-z]+-[a-z]+[0-9]{1,2}-[a-z]';
/** RFC 1035 names, as Compute Engine requires for instances and networks. */
const NAME = '[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?';

const INSTANCE_RE = new RegExp(`^projects/(${PROJECT})/zones/(${ZONE})/instances/(${NAME})$`);
const NETWORK_RE = new RegExp(`^projects/(${PROJECT})/global/networks/(${NAME})$`);
const PROJECT_OF_RE = new RegExp(`^projects/(${PROJECT})/`);

export interface InstanceRef {
  project: string;
  zone: string;
  name: string;
  path: string;
}

export interface NetworkRef {
  project: string;
  network: string;
  path: string;
}

export function parseInstance(target: string): InstanceRef | null {
  const m = INSTANCE_RE.exec(target);
  return m ? { project: m[1]!, zone: m[2]!, name: m[3]!, path: target } : null;
}

export function parseNetwork(scope: string): NetworkRef | null {
  const m = NETWORK_RE.exec(scope);
  return m ? { project: m[1]!, network: m[2]!, path: scope } : null;
}

/** The project a target or scope names (`projects/P/…`), or null (an IP address names none). */
export function projectOf(target: string): string | null {
  return PROJECT_OF_RE.exec(target)?.[1] ?? null;
}

export const NETWORK_PATTERN = NETWORK_RE;
