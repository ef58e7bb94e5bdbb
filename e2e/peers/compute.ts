import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { googleFaultBody, type GooglePeer, type IssuedToken } from './google.ts';
import { bearer, startPeer, type Peer, type PeerContext, type PeerOptions } from './harness.ts';

/**
 * A loopback Compute Engine REST v1 (test support only): instances get / setTags / stop / start, firewalls list /
 * get / insert / delete, zone and global operations get, and Cloud Resource Manager `projects.testIamPermissions`.
 *
 * It accepts only the bearer tokens the Google peer (`startGooglePeer`) issued — it reads that peer's issued-token
 * table, so a token's principal, scopes and expiry are the ones Google's token endpoint, STS or IAM Credentials
 * recorded. An unknown or expired token gets Google's 401 UNAUTHENTICATED. Every call checks the exact IAM permission
 * the real API checks against the principal's grants (`grant`), answering 403 with Google's "Required '…' permission
 * for '…'" error. Mutating calls answer an Operation that is RUNNING until it has been polled `operationPolls` times,
 * then DONE; a stop leaves the instance STOPPING until its operation is DONE, then TERMINATED (start: STAGING →
 * RUNNING). setTags with a stale fingerprint answers 412 conditionNotMet.
 *
 * Routes: `/compute/v1/projects/{p}/…` and `POST /v1/projects/{p}:testIamPermissions` (also installed on the Google
 * peer, where the credential's Cloud Resource Manager base URL points).
 */

export const COMPUTE_SCOPE = 'https://www.googleapis.com/auth/compute';
export const COMPUTE_READ_SCOPE = 'https://www.googleapis.com/auth/compute.readonly';
const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';
const CLOUD_PLATFORM_READ = 'https://www.googleapis.com/auth/cloud-platform.read-only';
export const COMPUTE_URL = 'https://www.googleapis.com/compute/v1';

export interface ComputeInterface {
  network: string;
  networkIP: string;
  ipv6Address?: string;
}

export interface ComputeInstance {
  id: string;
  name: string;
  zone: string;
  status: 'RUNNING' | 'STOPPING' | 'TERMINATED' | 'STAGING' | 'PROVISIONING' | 'SUSPENDED';
  networkInterfaces: ComputeInterface[];
  tags: { items: string[]; fingerprint: string };
}

export interface ComputeFirewall {
  id: string;
  name: string;
  description?: string;
  network: string;
  priority: number;
  direction: 'INGRESS' | 'EGRESS';
  denied?: { IPProtocol: string; ports?: string[] }[];
  allowed?: { IPProtocol: string; ports?: string[] }[];
  sourceRanges?: string[];
  destinationRanges?: string[];
  targetTags?: string[];
  disabled: boolean;
}

interface Operation {
  id: string;
  name: string;
  operationType: string;
  targetLink: string;
  zone?: string;
  pollsLeft: number;
  done?: () => void;
  status: 'RUNNING' | 'DONE';
}

export interface ComputeProject {
  instances: Map<string, ComputeInstance>;
  firewalls: Map<string, ComputeFirewall>;
  networks: Set<string>;
}

export interface ComputePeer extends Peer {
  projects: Map<string, ComputeProject>;
  /** Per principal (service account email or `principal://…`): the IAM permissions granted on every project. */
  grants: Map<string, Set<string>>;
  /** Authorized calls: method, path, and the scopes of the token (least-privilege checks). */
  apiCalls: { method: string; path: string; principal: string; scopes: string[] }[];
  /** How many polls an operation stays RUNNING (0: DONE at once; default 1, or `operationPolls`). */
  setOperationPolls(n: number): void;
  addNetwork(project: string, network: string): void;
  addInstance(
    project: string,
    i: {
      name: string;
      zone: string;
      network?: string;
      status?: ComputeInstance['status'];
      tags?: string[];
      networkIP?: string;
      ipv6Address?: string;
    }
  ): ComputeInstance;
  grant(principal: string, permissions: readonly string[]): void;
  revokePermission(principal: string, permission: string): void;
  instance(project: string, zone: string, name: string): ComputeInstance | undefined;
  /** Another tool edits an instance's tags (a new fingerprint), as a console user would. */
  setTagsOutOfBand(project: string, zone: string, name: string, items: string[]): void;
  /** A deep copy of one project's instances and firewalls, for before/after comparisons. */
  snapshot(project: string): { instances: ComputeInstance[]; firewalls: ComputeFirewall[] };
}

type Handler = (req: IncomingMessage, res: ServerResponse, ctx: PeerContext, m: string[]) => void;

const NAME_RE = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;

export function networkUrl(project: string, network: string): string {
  return `${COMPUTE_URL}/projects/${project}/global/networks/${network}`;
}

function fingerprint(): string {
  return randomBytes(8).toString('base64');
}

function numericId(): string {
  return String(BigInt(`0x${randomBytes(7).toString('hex')}`));
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

export async function startComputePeer(google: GooglePeer, opts: PeerOptions & { operationPolls?: number } = {}): Promise<ComputePeer> {
  const projects = new Map<string, ComputeProject>();
  const grants = new Map<string, Set<string>>();
  const operations = new Map<string, Operation>();
  const apiCalls: ComputePeer['apiCalls'] = [];
  const self = { operationPolls: opts.operationPolls ?? 1 };

  const apiError = (ctx: PeerContext, res: ServerResponse, code: number, status: string, message: string, reason: string) =>
    ctx.json(res, code, { error: { code, message, errors: [{ message, domain: 'global', reason }], status } });

  const project = (p: string): ComputeProject => {
    let x = projects.get(p);
    if (!x) {
      x = { instances: new Map(), firewalls: new Map(), networks: new Set() };
      projects.set(p, x);
    }
    return x;
  };

  /** The issued token, with one of `scopes`, whose principal holds `permission` on `resource`; else answers itself. */
  function authorize(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: PeerContext,
    scopes: readonly string[],
    permission: string | null,
    resource: string
  ): IssuedToken | null {
    const fault = ctx.control.fault;
    const t = bearer(req);
    const issued = t ? google.tokens.get(t) : undefined;
    if (
      fault === 'expired' ||
      fault === 'revoked' ||
      fault === 'wrong_secret' ||
      !issued ||
      issued.expiresAt < Math.floor(Date.now() / 1000)
    ) {
      apiError(
        ctx,
        res,
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
        'authError'
      );
      return null;
    }
    if (!scopes.some((s) => issued.scopes.has(s))) {
      apiError(ctx, res, 403, 'PERMISSION_DENIED', 'Request had insufficient authentication scopes.', 'insufficientPermissions');
      return null;
    }
    if (permission && !grants.get(issued.principal)?.has(permission)) {
      apiError(ctx, res, 403, 'PERMISSION_DENIED', `Required '${permission}' permission for '${resource}'`, 'forbidden');
      return null;
    }
    apiCalls.push({ method: req.method ?? 'GET', path: ctx.url.pathname, principal: issued.principal, scopes: [...issued.scopes].sort() });
    return issued;
  }

  const WRITE = [COMPUTE_SCOPE, CLOUD_PLATFORM];
  const READ = [COMPUTE_SCOPE, COMPUTE_READ_SCOPE, CLOUD_PLATFORM, CLOUD_PLATFORM_READ];

  const notFound = (ctx: PeerContext, res: ServerResponse, resource: string) =>
    apiError(ctx, res, 404, 'NOT_FOUND', `The resource '${resource}' was not found`, 'notFound');
  const invalid = (ctx: PeerContext, res: ServerResponse, message: string) =>
    apiError(ctx, res, 400, 'INVALID_ARGUMENT', message, 'invalid');

  function operation(p: string, type: string, target: string, zone: string | null, done?: () => void): Record<string, unknown> {
    const id = numericId();
    const name = `operation-${Date.now()}-${randomBytes(6).toString('hex')}`;
    const op: Operation = {
      id,
      name,
      operationType: type,
      targetLink: target,
      ...(zone ? { zone } : {}),
      pollsLeft: self.operationPolls,
      status: 'RUNNING',
      ...(done ? { done } : {})
    };
    operations.set(`${p}/${zone ?? 'global'}/${name}`, op);
    if (op.pollsLeft <= 0) finish(op);
    return opJson(p, op);
  }
  function finish(op: Operation) {
    op.status = 'DONE';
    op.done?.();
    delete op.done;
  }
  function opJson(p: string, op: Operation): Record<string, unknown> {
    const where = op.zone ? `zones/${op.zone}` : 'global';
    return {
      kind: 'compute#operation',
      id: op.id,
      name: op.name,
      operationType: op.operationType,
      targetLink: op.targetLink,
      status: op.status,
      progress: op.status === 'DONE' ? 100 : 0,
      ...(op.zone ? { zone: `${COMPUTE_URL}/projects/${p}/zones/${op.zone}` } : {}),
      selfLink: `${COMPUTE_URL}/projects/${p}/${where}/operations/${op.name}`
    };
  }

  const instanceJson = (p: string, i: ComputeInstance) => ({
    kind: 'compute#instance',
    id: i.id,
    name: i.name,
    zone: `${COMPUTE_URL}/projects/${p}/zones/${i.zone}`,
    status: i.status,
    networkInterfaces: i.networkInterfaces.map((n, k) => ({ kind: 'compute#networkInterface', name: `nic${k}`, ...n })),
    tags: i.tags.items.length ? { items: [...i.tags.items], fingerprint: i.tags.fingerprint } : { fingerprint: i.tags.fingerprint },
    selfLink: `${COMPUTE_URL}/projects/${p}/zones/${i.zone}/instances/${i.name}`
  });
  const firewallJson = (p: string, f: ComputeFirewall) => ({
    kind: 'compute#firewall',
    ...clone(f),
    creationTimestamp: '2026-01-01T00:00:00.000-07:00',
    selfLink: `${COMPUTE_URL}/projects/${p}/global/firewalls/${f.name}`
  });

  const routes: { method: string; pattern: RegExp; handler: Handler }[] = [];
  const on = (method: string, pattern: RegExp, handler: Handler) => routes.push({ method, pattern, handler });
  const P = '/compute/v1/projects/([^/]+)';

  // --- instances ----------------------------------------------------------------------------------------
  const withInstance =
    (
      permission: string,
      scopes: readonly string[],
      then: (p: string, i: ComputeInstance, req: IncomingMessage, res: ServerResponse, ctx: PeerContext) => void
    ): Handler =>
    (req, res, ctx, [p, z, name]) => {
      const resource = `projects/${p}/zones/${z}/instances/${name}`;
      if (!authorize(req, res, ctx, scopes, permission, resource)) return;
      const i = projects.get(p!)?.instances.get(`${z}/${name}`);
      if (!i) return notFound(ctx, res, resource);
      then(p!, i, req, res, ctx);
    };

  on(
    'GET',
    new RegExp(`^${P}/zones/([^/]+)/instances/([^/]+)$`),
    withInstance('compute.instances.get', READ, (p, i, _q, res, ctx) => ctx.json(res, 200, instanceJson(p, i)))
  );
  on(
    'POST',
    new RegExp(`^${P}/zones/([^/]+)/instances/([^/]+)/setTags$`),
    withInstance('compute.instances.setTags', WRITE, (p, i, _q, res, ctx) => {
      let body: { items?: unknown; fingerprint?: unknown };
      try {
        body = JSON.parse(ctx.body) as typeof body;
      } catch {
        return invalid(ctx, res, 'Invalid JSON payload received.');
      }
      const items = Array.isArray(body.items) ? body.items : [];
      if (!items.every((t): t is string => typeof t === 'string' && NAME_RE.test(t)))
        return invalid(ctx, res, "Invalid value for field 'resource.items'.");
      if (body.fingerprint !== i.tags.fingerprint)
        return apiError(
          ctx,
          res,
          412,
          'FAILED_PRECONDITION',
          'Supplied fingerprint does not match current metadata fingerprint.',
          'conditionNotMet'
        );
      i.tags = { items: [...new Set(items)], fingerprint: fingerprint() };
      ctx.json(res, 200, operation(p, 'setTags', instanceJson(p, i).selfLink, i.zone));
    })
  );
  on(
    'POST',
    new RegExp(`^${P}/zones/([^/]+)/instances/([^/]+)/stop$`),
    withInstance('compute.instances.stop', WRITE, (p, i, _q, res, ctx) => {
      if (i.status === 'RUNNING' || i.status === 'STAGING' || i.status === 'PROVISIONING') i.status = 'STOPPING';
      ctx.json(
        res,
        200,
        operation(p, 'stop', instanceJson(p, i).selfLink, i.zone, () => {
          i.status = 'TERMINATED';
        })
      );
    })
  );
  on(
    'POST',
    new RegExp(`^${P}/zones/([^/]+)/instances/([^/]+)/start$`),
    withInstance('compute.instances.start', WRITE, (p, i, _q, res, ctx) => {
      if (i.status !== 'RUNNING') i.status = 'STAGING';
      ctx.json(
        res,
        200,
        operation(p, 'start', instanceJson(p, i).selfLink, i.zone, () => {
          i.status = 'RUNNING';
        })
      );
    })
  );

  // --- firewalls ----------------------------------------------------------------------------------------
  on('GET', new RegExp(`^${P}/global/firewalls$`), (req, res, ctx, [p]) => {
    if (!authorize(req, res, ctx, READ, 'compute.firewalls.list', `projects/${p}`)) return;
    const items = [...(projects.get(p!)?.firewalls.values() ?? [])].map((f) => firewallJson(p!, f));
    ctx.json(res, 200, {
      kind: 'compute#firewallList',
      id: `projects/${p}/global/firewalls`,
      ...(items.length ? { items } : {}),
      selfLink: `${COMPUTE_URL}/projects/${p}/global/firewalls`
    });
  });
  on('GET', new RegExp(`^${P}/global/firewalls/([^/]+)$`), (req, res, ctx, [p, name]) => {
    const resource = `projects/${p}/global/firewalls/${name}`;
    if (!authorize(req, res, ctx, READ, 'compute.firewalls.get', resource)) return;
    const f = projects.get(p!)?.firewalls.get(name!);
    if (!f) return notFound(ctx, res, resource);
    ctx.json(res, 200, firewallJson(p!, f));
  });
  on('POST', new RegExp(`^${P}/global/firewalls$`), (req, res, ctx, [p]) => {
    if (!authorize(req, res, ctx, WRITE, 'compute.firewalls.create', `projects/${p}/global/firewalls`)) return;
    let b: Partial<ComputeFirewall> & Record<string, unknown>;
    try {
      b = JSON.parse(ctx.body) as typeof b;
    } catch {
      return invalid(ctx, res, 'Invalid JSON payload received.');
    }
    const net =
      typeof b.network === 'string'
        ? /(?:^|\/)projects\/([^/]+)\/global\/networks\/([^/]+)$|^global\/networks\/([^/]+)$/.exec(b.network)
        : null;
    if (!net) return invalid(ctx, res, "Invalid value for field 'resource.network'.");
    const netProject = net[1] ?? p!;
    const netName = (net[2] ?? net[3])!;
    if (!projects.get(netProject)?.networks.has(netName)) return notFound(ctx, res, `projects/${netProject}/global/networks/${netName}`);
    if (!grants.get(google.tokens.get(bearer(req)!)!.principal)?.has('compute.networks.updatePolicy'))
      return apiError(
        ctx,
        res,
        403,
        'PERMISSION_DENIED',
        `Required 'compute.networks.updatePolicy' permission for 'projects/${netProject}/global/networks/${netName}'`,
        'forbidden'
      );
    if (typeof b.name !== 'string' || !NAME_RE.test(b.name)) return invalid(ctx, res, "Invalid value for field 'resource.name'.");
    const direction = b.direction ?? 'INGRESS';
    if (direction !== 'INGRESS' && direction !== 'EGRESS') return invalid(ctx, res, "Invalid value for field 'resource.direction'.");
    const priority = b.priority ?? 1000;
    if (!Number.isInteger(priority) || priority < 0 || priority > 65535)
      return invalid(ctx, res, "Invalid value for field 'resource.priority'.");
    if (!!b.denied === !!b.allowed) return invalid(ctx, res, 'Exactly one of allowed or denied must be set.');
    const ranges = direction === 'INGRESS' ? b.sourceRanges : b.destinationRanges;
    if (!Array.isArray(ranges) || ranges.length === 0 || !ranges.every((r) => typeof r === 'string' && /^[0-9a-f.:]+\/\d{1,3}$/i.test(r)))
      return invalid(ctx, res, `Invalid value for field 'resource.${direction === 'INGRESS' ? 'sourceRanges' : 'destinationRanges'}'.`);
    const v6 = ranges.filter((r) => r.includes(':')).length;
    if (v6 !== 0 && v6 !== ranges.length) return invalid(ctx, res, 'IPv4 and IPv6 ranges cannot be mixed in one firewall rule.');
    const proj = project(p!);
    if (proj.firewalls.has(b.name))
      return apiError(
        ctx,
        res,
        409,
        'ALREADY_EXISTS',
        `The resource 'projects/${p}/global/firewalls/${b.name}' already exists`,
        'alreadyExists'
      );
    const f: ComputeFirewall = {
      id: numericId(),
      name: b.name,
      ...(typeof b.description === 'string' ? { description: b.description } : {}),
      network: networkUrl(netProject, netName),
      priority,
      direction,
      ...(b.denied ? { denied: clone(b.denied) } : {}),
      ...(b.allowed ? { allowed: clone(b.allowed) } : {}),
      ...(direction === 'INGRESS' ? { sourceRanges: [...ranges] } : { destinationRanges: [...ranges] }),
      ...(Array.isArray(b.targetTags) ? { targetTags: [...(b.targetTags as string[])] } : {}),
      disabled: b.disabled === true
    };
    proj.firewalls.set(f.name, f);
    ctx.json(res, 200, operation(p!, 'insert', firewallJson(p!, f).selfLink, null));
  });
  on('DELETE', new RegExp(`^${P}/global/firewalls/([^/]+)$`), (req, res, ctx, [p, name]) => {
    const resource = `projects/${p}/global/firewalls/${name}`;
    if (!authorize(req, res, ctx, WRITE, 'compute.firewalls.delete', resource)) return;
    const proj = projects.get(p!);
    const f = proj?.firewalls.get(name!);
    if (!proj || !f) return notFound(ctx, res, resource);
    if (!grants.get(google.tokens.get(bearer(req)!)!.principal)?.has('compute.networks.updatePolicy'))
      return apiError(
        ctx,
        res,
        403,
        'PERMISSION_DENIED',
        `Required 'compute.networks.updatePolicy' permission for '${f.network.slice(COMPUTE_URL.length + 1)}'`,
        'forbidden'
      );
    proj.firewalls.delete(f.name);
    ctx.json(res, 200, operation(p!, 'delete', `${COMPUTE_URL}/${resource}`, null));
  });

  // --- operations ---------------------------------------------------------------------------------------
  const pollOperation =
    (zoned: boolean): Handler =>
    (req, res, ctx, m) => {
      const [p, zone, name] = zoned ? m : [m[0], null, m[1]];
      const resource = `projects/${p}/${zone ? `zones/${zone}` : 'global'}/operations/${name}`;
      if (!authorize(req, res, ctx, READ, zoned ? 'compute.zoneOperations.get' : 'compute.globalOperations.get', resource)) return;
      const op = operations.get(`${p}/${zone ?? 'global'}/${name}`);
      if (!op) return notFound(ctx, res, resource);
      if (op.status === 'RUNNING' && --op.pollsLeft <= 0) finish(op);
      ctx.json(res, 200, opJson(p!, op));
    };
  on('GET', new RegExp(`^${P}/zones/([^/]+)/operations/([^/]+)$`), pollOperation(true));
  on('GET', new RegExp(`^${P}/global/operations/([^/]+)$`), pollOperation(false));

  // --- Cloud Resource Manager: projects.testIamPermissions ------------------------------------------------
  const testIam: Handler = (req, res, ctx, [p]) => {
    const issued = authorize(req, res, ctx, [CLOUD_PLATFORM, CLOUD_PLATFORM_READ], null, `projects/${p}`);
    if (!issued) return;
    if (!projects.has(p!)) return apiError(ctx, res, 403, 'PERMISSION_DENIED', 'The caller does not have permission', 'forbidden');
    let body: { permissions?: unknown };
    try {
      body = JSON.parse(ctx.body) as typeof body;
    } catch {
      return invalid(ctx, res, 'Invalid JSON payload received.');
    }
    const asked = Array.isArray(body.permissions) ? body.permissions.filter((x): x is string => typeof x === 'string') : [];
    if (asked.length === 0 || asked.length > 100) return invalid(ctx, res, 'Request contains an invalid argument.');
    const held = grants.get(issued.principal) ?? new Set<string>();
    const granted = asked.filter((x) => held.has(x));
    ctx.json(res, 200, granted.length ? { permissions: granted } : {});
  };
  on('POST', /^\/v1\/projects\/([^/:]+):testIamPermissions$/, testIam);
  const removeGoogleRoute = google.route('POST', /^\/v1\/projects\/([^/:]+):testIamPermissions$/, (req, res, ctx, m) =>
    testIam(req, res, ctx, m)
  );

  const peer = await startPeer(
    (req, res, ctx) => {
      for (const r of routes) {
        if (r.method !== req.method) continue;
        const m = r.pattern.exec(ctx.url.pathname);
        if (m)
          return r.handler(
            req,
            res,
            ctx,
            m.slice(1).map((x) => decodeURIComponent(x))
          );
      }
      apiError(ctx, res, 404, 'NOT_FOUND', `The requested URL ${ctx.url.pathname} was not found on this server.`, 'notFound');
    },
    { ...opts, faultBody: googleFaultBody }
  );

  const compute: ComputePeer = Object.assign(peer, {
    projects,
    grants,
    apiCalls,
    setOperationPolls(n: number) {
      self.operationPolls = n;
    },
    addNetwork(p: string, network: string) {
      project(p).networks.add(network);
    },
    addInstance(p: string, i: Parameters<ComputePeer['addInstance']>[1]) {
      const network = i.network ?? 'default';
      project(p).networks.add(network);
      const inst: ComputeInstance = {
        id: numericId(),
        name: i.name,
        zone: i.zone,
        status: i.status ?? 'RUNNING',
        networkInterfaces: [
          {
            network: networkUrl(p, network),
            networkIP: i.networkIP ?? `10.128.0.${2 + project(p).instances.size}`,
            ...(i.ipv6Address ? { ipv6Address: i.ipv6Address } : {})
          }
        ],
        tags: { items: [...(i.tags ?? [])], fingerprint: fingerprint() }
      };
      project(p).instances.set(`${i.zone}/${i.name}`, inst);
      return inst;
    },
    grant(principal: string, permissions: readonly string[]) {
      const s = grants.get(principal) ?? new Set<string>();
      for (const x of permissions) s.add(x);
      grants.set(principal, s);
    },
    revokePermission(principal: string, permission: string) {
      grants.get(principal)?.delete(permission);
    },
    instance(p: string, zone: string, name: string) {
      return projects.get(p)?.instances.get(`${zone}/${name}`);
    },
    setTagsOutOfBand(p: string, zone: string, name: string, items: string[]) {
      const i = projects.get(p)?.instances.get(`${zone}/${name}`);
      if (!i) throw new Error(`no instance ${p}/${zone}/${name}`);
      i.tags = { items: [...items], fingerprint: fingerprint() };
    },
    snapshot(p: string) {
      const x = projects.get(p);
      return {
        instances: clone([...(x?.instances.values() ?? [])]).map((i) => ({ ...i, tags: { ...i.tags, fingerprint: '' } })),
        firewalls: clone([...(x?.firewalls.values() ?? [])]).map((f) => ({ ...f, id: '' }))
      };
    }
  });
  const close = peer.close.bind(peer);
  const reset = peer.reset.bind(peer);
  compute.close = async () => {
    removeGoogleRoute();
    await close();
  };
  compute.reset = () => {
    reset();
    apiCalls.length = 0;
  };
  return compute;
}
