import { nodeCrypto } from '../../builtins.ts';
import { answer, bearerJson, joinUrl, type Answer } from '../answers.ts';
import {
  ActionError,
  RevertDrift,
  type ActionContext,
  type ActionInput,
  type ActionResult,
  type JsonObject,
  type JsonValue,
  type ProviderCapabilities,
  type RevertResult
} from '../plugin.ts';
import { jsonField } from '../spec.ts';
import { externalAccountToken, googleApiError, serviceAccountToken, type ServiceAccountKey, type TokenResult } from './google-auth.ts';
import { COMPUTE_BASE, COMPUTE_SCOPE, QUARANTINE_TAG, parseInstance, parseNetwork, type InstanceRef, type NetworkRef } from './targets.ts';

/**
 * Host capabilities on Compute Engine REST v1, each call through the run's provider fetch (ctx.http) with a token
 * from google-auth.ts asking only for the `compute` scope. With a workload identity federation configuration that
 * impersonates a service account, the run's token is a fresh generateAccessToken for that scope with a 15-minute
 * lifetime, recorded as the run's session.
 *
 * - isolate: deny-all firewall rules (INGRESS from and EGRESS to 0.0.0.0/0 and ::/0, priority 0) whose target is the
 *   quarantine network tag, one set per VPC network, named from the network (created only when missing, shared by
 *   every isolated instance on that network and never deleted by a revert); then the tag is added with setTags and
 *   the fingerprint read just before. Revert restores the exact prior tag set, refusing when the tags changed since.
 * - block_ip: two deny rules (INGRESS source, EGRESS destination) at priority 0 on the scope's network, named from
 *   the execution id; an address a Keydesk rule already blocks on that network is left alone. Revert deletes exactly
 *   those rules, refusing when they changed or disappeared.
 * - power: instances.stop, polled to DONE; revert starts the instance only if this run stopped it.
 */

const POLL_MS = 2000;
const MAX_POLLS = 90;
const BLOCK_PREFIX = 'keydesk-block-';
const QUARANTINE_PREFIX = 'keydesk-quarantine-';

interface Api {
  call(method: string, path: string, body?: unknown): Promise<Answer>;
  project: string;
}

// ---------------------------------------------------------------------------------------------------- token

function tokenFailure(r: Extract<TokenResult, { ok: false }>): ActionError {
  const o = r.outcome;
  const code = o.error?.code ?? 'TOKEN_REFUSED';
  const message = o.error?.message ?? 'Google refused to issue an access token for this credential.';
  if (o.status === 'failed' || o.status === 'expired')
    return new ActionError('reauth', code, message, { credentialStatus: o.status === 'expired' ? 'expired' : 'failed' });
  return new ActionError('cloud_api_error', code, message);
}

async function accessToken(ctx: ActionContext): Promise<string> {
  const tokenUrl = ctx.credential.fields.token_url;
  if (ctx.credential.mode === 'service_account_key') {
    const key = jsonField(ctx.credential.secrets.service_account_json?.reveal()) as ServiceAccountKey | null;
    if (!key || typeof key.client_email !== 'string' || typeof key.private_key !== 'string')
      throw new ActionError(
        'credential_invalid',
        'INVALID_KEY_FILE',
        'The stored service account JSON is missing client_email or private_key.'
      );
    const t = await serviceAccountToken(ctx.http, key, [COMPUTE_SCOPE], { tokenUrl });
    if (!t.ok) throw tokenFailure(t);
    return t.accessToken;
  }
  if (ctx.credential.mode === 'external_account') {
    const config = jsonField(ctx.credential.secrets.external_account_json?.reveal());
    if (!config) throw new ActionError('credential_invalid', 'INVALID_CONFIGURATION', 'The stored external account JSON cannot be read.');
    const imp = typeof config.service_account_impersonation_url === 'string' ? config.service_account_impersonation_url : null;
    // Least privilege for the run: the impersonated token carries the compute scope only and lives 15 minutes.
    const narrowed = imp ? { ...config, service_account_impersonation: { token_lifetime_seconds: 900 } } : config;
    const t = await externalAccountToken(ctx.http, narrowed, [COMPUTE_SCOPE], { tokenUrl });
    if (!t.ok) throw tokenFailure(t);
    const account = imp ? /serviceAccounts\/([^:/]+):generateAccessToken/.exec(imp)?.[1] : undefined;
    if (account)
      ctx.session({
        name: decodeURIComponent(account),
        expiresAt: t.expiresAt,
        kind: 'impersonated access token (scope compute, lifetime 900 s)'
      });
    return t.accessToken;
  }
  throw new ActionError('credential_invalid', 'UNSUPPORTED_MODE', `Google Cloud has no auth mode "${ctx.credential.mode}".`);
}

async function computeApi(ctx: ActionContext, project: string): Promise<Api> {
  const token = await accessToken(ctx);
  const base = ctx.credential.fields.compute_endpoint ?? COMPUTE_BASE;
  return {
    project,
    async call(method, path, body) {
      ctx.step(`${method} ${path}`);
      const res = await ctx.http(joinUrl(base, path), bearerJson(token, method, body));
      return answer(res);
    }
  };
}

// ---------------------------------------------------------------------------------------------------- errors

/** A permission name quoted in Google's "Required 'compute.x.y' permission for '…'" message (checked to be one). */
function permissionOf(body: unknown): string | null {
  const m = (body as { error?: { message?: unknown } } | undefined)?.error?.message;
  const p = typeof m === 'string' ? /Required '([a-zA-Z]+(?:\.[a-zA-Z]+){2})' permission/.exec(m) : null;
  return p?.[1] ?? null;
}

/**
 * A Compute answer that is not success, in Keydesk's words (Google's text is not copied: only its status, reason and
 * the permission it names, each checked to be a plain identifier).
 */
function computeFailure(a: Answer, what: string, opts: { notFound?: string } = {}): ActionError {
  const { status, reason } = googleApiError(a.body);
  if (a.status === 401)
    return new ActionError(
      'reauth',
      status ?? 'UNAUTHENTICATED',
      `${what} was refused: Google no longer accepts the access token issued for this credential (401). Re-authenticate the credential.`,
      { credentialStatus: 'expired' }
    );
  if (a.status === 403) {
    const permission = permissionOf(a.body);
    if (permission)
      return new ActionError(
        'cloud_api_error',
        'PERMISSION_DENIED',
        `${what} was refused: the credential lacks the IAM permission ${permission}.`
      );
    return new ActionError(
      'cloud_api_error',
      status ?? 'PERMISSION_DENIED',
      `${what} was refused (403 ${reason ?? status ?? 'forbidden'}): the credential may not do this, or its token lacks the compute scope.`
    );
  }
  if (a.status === 404 && opts.notFound) return new ActionError('inventory_not_found', status ?? 'NOT_FOUND', opts.notFound);
  if (a.status === 412)
    return new ActionError(
      'cloud_api_error',
      reason ?? 'conditionNotMet',
      `${what} was refused (412): the instance's tags changed while Keydesk was changing them. Run it again.`
    );
  if (a.status === 429)
    return new ActionError('cloud_api_error', status ?? 'HTTP_429', `${what}: Google is rate-limiting requests (429). Try again later.`);
  if (a.status === 400)
    return new ActionError(
      'input_invalid',
      reason ?? status ?? 'HTTP_400',
      `${what} was refused as invalid (400 ${reason ?? status ?? ''}).`
    );
  return new ActionError(
    'cloud_api_error',
    status ?? `HTTP_${a.status}`,
    `${what} failed (HTTP ${a.status}${reason ? ` ${reason}` : ''}).`
  );
}

function malformed(what: string): ActionError {
  return new ActionError(
    'cloud_api_error',
    'MALFORMED_RESPONSE',
    `${what} answered, but not in the form Keydesk expects; its effect is unknown. Check the resource before retrying.`
  );
}

// ---------------------------------------------------------------------------------------------------- operations

interface OperationRef {
  name: string;
  zone: string | null;
}

function operationOf(a: Answer, what: string): { ref: OperationRef; done: boolean; failed: boolean } {
  const o = a.body as { name?: unknown; status?: unknown; zone?: unknown; error?: unknown } | undefined;
  if (!o || typeof o.name !== 'string' || !/^[A-Za-z0-9_-]{1,100}$/.test(o.name)) throw malformed(what);
  const zone = typeof o.zone === 'string' ? (/\/zones\/([a-z0-9-]+)$/.exec(o.zone)?.[1] ?? null) : null;
  return { ref: { name: o.name, zone }, done: o.status === 'DONE', failed: o.error !== undefined && o.error !== null };
}

/** Polls a zone or global operation until DONE: the first poll at once, then every POLL_MS (ctx.sleep), at most MAX_POLLS. */
async function settle(ctx: ActionContext, api: Api, a: Answer, what: string): Promise<void> {
  let op = operationOf(a, what);
  for (let i = 0; !op.done; i++) {
    if (i >= MAX_POLLS)
      throw new ActionError(
        'cloud_api_error',
        'OPERATION_TIMEOUT',
        `${what} did not finish within ${(MAX_POLLS * POLL_MS) / 1000} s; its effect is unknown. Check the resource before retrying.`
      );
    if (i > 0) await ctx.sleep(POLL_MS);
    const where = op.ref.zone ? `zones/${op.ref.zone}` : 'global';
    const r = await api.call('GET', `/compute/v1/projects/${api.project}/${where}/operations/${op.ref.name}`);
    if (r.status !== 200) throw computeFailure(r, `${what} (polling its operation)`);
    op = operationOf(r, what);
  }
  if (op.failed) throw new ActionError('cloud_api_error', 'OPERATION_FAILED', `${what} finished with an error; check the resource.`);
}

// ---------------------------------------------------------------------------------------------------- instances

interface Instance {
  status: string;
  networks: string[];
  tags: string[];
  fingerprint: string;
}

function instancePath(t: InstanceRef): string {
  return `/compute/v1/projects/${t.project}/zones/${t.zone}/instances/${t.name}`;
}

/** `https://…/projects/P/global/networks/N` → `projects/P/global/networks/N`. */
function networkPath(url: string): string | null {
  const m = /(?:^|\/)(projects\/[^/]+\/global\/networks\/[^/]+)$/.exec(url);
  return m?.[1] ?? null;
}

async function getInstance(api: Api, t: InstanceRef): Promise<Instance> {
  const a = await api.call('GET', instancePath(t));
  if (a.status !== 200)
    throw computeFailure(a, `Compute instances.get ${t.path}`, {
      notFound: `Instance ${t.path} was not found (Compute Engine answered 404): check the project, zone and name.`
    });
  const b = a.body as
    { status?: unknown; networkInterfaces?: { network?: unknown }[]; tags?: { items?: unknown; fingerprint?: unknown } } | undefined;
  if (!b || typeof b.status !== 'string' || !b.tags || typeof b.tags.fingerprint !== 'string') throw malformed('Compute instances.get');
  const items = Array.isArray(b.tags.items) ? b.tags.items.filter((x): x is string => typeof x === 'string') : [];
  const networks = [
    ...new Set(
      (Array.isArray(b.networkInterfaces) ? b.networkInterfaces : [])
        .map((n) => (typeof n.network === 'string' ? networkPath(n.network) : null))
        .filter((n): n is string => n !== null)
    )
  ];
  return { status: b.status, networks, tags: items, fingerprint: b.tags.fingerprint };
}

async function setTags(ctx: ActionContext, api: Api, t: InstanceRef, items: string[], fingerprint: string): Promise<void> {
  const what = `Compute instances.setTags ${t.path}`;
  const a = await api.call('POST', `${instancePath(t)}/setTags`, { items, fingerprint });
  if (a.status !== 200) throw computeFailure(a, what, { notFound: `Instance ${t.path} was not found (404).` });
  await settle(ctx, api, a, what);
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
const listed = (xs: readonly string[]) => (xs.length ? `[${xs.join(', ')}]` : 'none');

function strings(v: JsonValue | undefined): string[] | null {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null;
}

// ---------------------------------------------------------------------------------------------------- firewalls

interface Firewall {
  name: string;
  network: string | null;
  priority: number | null;
  direction: string | null;
  denied: unknown;
  allowed: unknown;
  sourceRanges: string[];
  destinationRanges: string[];
  targetTags: string[];
  disabled: boolean;
}

function readFirewall(v: unknown): Firewall | null {
  if (!v || typeof v !== 'object') return null;
  const f = v as Record<string, unknown>;
  if (typeof f.name !== 'string') return null;
  const list = (x: unknown) => (Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string') : []);
  return {
    name: f.name,
    network: typeof f.network === 'string' ? networkPath(f.network) : null,
    priority: typeof f.priority === 'number' ? f.priority : null,
    direction: typeof f.direction === 'string' ? f.direction : null,
    denied: f.denied ?? null,
    allowed: f.allowed ?? null,
    sourceRanges: list(f.sourceRanges),
    destinationRanges: list(f.destinationRanges),
    targetTags: list(f.targetTags),
    disabled: f.disabled === true
  };
}

/** What a revert compares: the rule as this run left it (the fields that decide what it blocks). */
function ruleShape(f: Firewall): JsonObject {
  return {
    network: f.network,
    priority: f.priority,
    direction: f.direction,
    denied: (f.denied ?? null) as JsonValue,
    allowed: (f.allowed ?? null) as JsonValue,
    sourceRanges: [...f.sourceRanges].sort(),
    destinationRanges: [...f.destinationRanges].sort(),
    targetTags: [...f.targetTags].sort(),
    disabled: f.disabled
  };
}

function denyAll(f: Firewall): boolean {
  return (
    !f.disabled &&
    f.priority === 0 &&
    (f.allowed === null || (Array.isArray(f.allowed) && f.allowed.length === 0)) &&
    Array.isArray(f.denied) &&
    f.denied.some((d) => (d as { IPProtocol?: unknown }).IPProtocol === 'all' && !(d as { ports?: unknown }).ports)
  );
}

async function listFirewalls(api: Api, project: string): Promise<Firewall[]> {
  const out: Firewall[] = [];
  let page: string | null = null;
  for (let i = 0; i < 50; i++) {
    const a = await api.call(
      'GET',
      `/compute/v1/projects/${project}/global/firewalls${page ? `?pageToken=${encodeURIComponent(page)}` : ''}`
    );
    if (a.status !== 200) throw computeFailure(a, `Compute firewalls.list in ${project}`);
    const b = a.body as { items?: unknown; nextPageToken?: unknown } | undefined;
    if (!b || typeof b !== 'object') throw malformed('Compute firewalls.list');
    for (const it of Array.isArray(b.items) ? b.items : []) {
      const f = readFirewall(it);
      if (f) out.push(f);
    }
    page = typeof b.nextPageToken === 'string' && b.nextPageToken ? b.nextPageToken : null;
    if (!page) break;
  }
  return out;
}

async function getFirewall(api: Api, project: string, name: string): Promise<Firewall | null> {
  const a = await api.call('GET', `/compute/v1/projects/${project}/global/firewalls/${name}`);
  if (a.status === 404) return null;
  if (a.status !== 200) throw computeFailure(a, `Compute firewalls.get ${name}`);
  const f = readFirewall(a.body);
  if (!f) throw malformed('Compute firewalls.get');
  return f;
}

interface RuleSpec {
  name: string;
  direction: 'INGRESS' | 'EGRESS';
  ranges: string[];
  targetTags?: string[];
  description: string;
}

async function insertRule(ctx: ActionContext, api: Api, net: NetworkRef, r: RuleSpec): Promise<void> {
  const what = `Compute firewalls.insert ${r.name}`;
  const a = await api.call('POST', `/compute/v1/projects/${net.project}/global/firewalls`, {
    name: r.name,
    description: r.description,
    network: net.path,
    priority: 0,
    direction: r.direction,
    denied: [{ IPProtocol: 'all' }],
    ...(r.direction === 'INGRESS' ? { sourceRanges: r.ranges } : { destinationRanges: r.ranges }),
    ...(r.targetTags ? { targetTags: r.targetTags } : {})
  });
  if (a.status !== 200) throw computeFailure(a, what, { notFound: `Network ${net.path} was not found (Compute Engine answered 404).` });
  await settle(ctx, { ...api, project: net.project }, a, what);
}

async function deleteRule(ctx: ActionContext, api: Api, project: string, name: string): Promise<void> {
  const what = `Compute firewalls.delete ${name}`;
  const a = await api.call('DELETE', `/compute/v1/projects/${project}/global/firewalls/${name}`);
  if (a.status === 404) return;
  if (a.status !== 200) throw computeFailure(a, what);
  await settle(ctx, { ...api, project }, a, what);
}

function hash8(s: string): string {
  return nodeCrypto().createHash('sha256').update(s).digest('hex').slice(0, 8);
}

/** The quarantine rules of one network: deterministic names, so every run on that network finds the same ones. */
export function quarantineRules(networkPathValue: string): RuleSpec[] {
  const h = hash8(networkPathValue);
  const description = `Keydesk isolate: deny all traffic of instances tagged ${QUARANTINE_TAG}.`;
  return [
    { name: `${QUARANTINE_PREFIX}${h}-in4`, direction: 'INGRESS', ranges: ['0.0.0.0/0'], targetTags: [QUARANTINE_TAG], description },
    { name: `${QUARANTINE_PREFIX}${h}-in6`, direction: 'INGRESS', ranges: ['::/0'], targetTags: [QUARANTINE_TAG], description },
    { name: `${QUARANTINE_PREFIX}${h}-out4`, direction: 'EGRESS', ranges: ['0.0.0.0/0'], targetTags: [QUARANTINE_TAG], description },
    { name: `${QUARANTINE_PREFIX}${h}-out6`, direction: 'EGRESS', ranges: ['::/0'], targetTags: [QUARANTINE_TAG], description }
  ];
}

function isQuarantineRule(f: Firewall, spec: RuleSpec, net: string): boolean {
  const ranges = spec.direction === 'INGRESS' ? f.sourceRanges : f.destinationRanges;
  return (
    f.network === net &&
    f.direction === spec.direction &&
    denyAll(f) &&
    f.targetTags.includes(QUARANTINE_TAG) &&
    sameSet(ranges, spec.ranges)
  );
}

// ---------------------------------------------------------------------------------------------------- isolate

async function isolate(ctx: ActionContext, input: ActionInput): Promise<ActionResult> {
  const t = parseInstance(input.target);
  if (!t) throw new ActionError('input_invalid', 'INVALID_TARGET', 'The target is not projects/P/zones/Z/instances/I.');
  const api = await computeApi(ctx, t.project);
  const prev = ctx.previousRevertContext;
  const inst = await getInstance(api, t);
  if (inst.networks.length === 0) throw malformed('Compute instances.get (no network interface)');
  // A resumed attempt may already have added the tag: its record of the prior tags is the true one.
  const priorTags = strings(prev?.prior_tags) ?? inst.tags;
  const rulesCreated = new Set(strings(prev?.rules_created) ?? []);
  let tagsSet = prev?.tags_set_by_this_run === true;
  const rc = (): JsonObject => ({
    instance: t.path,
    tag: QUARANTINE_TAG,
    prior_tags: priorTags,
    tags_set_by_this_run: tagsSet,
    networks: inst.networks,
    rules_created: [...rulesCreated]
  });
  ctx.captureRevert(rc());

  const byProject = new Map<string, Firewall[]>();
  for (const netPath of inst.networks) {
    const net = parseNetwork(netPath);
    if (!net) throw malformed('Compute instances.get (network)');
    if (!byProject.has(net.project)) byProject.set(net.project, await listFirewalls(api, net.project));
    const existing = byProject.get(net.project)!;
    for (const spec of quarantineRules(net.path)) {
      const found = existing.find((f) => f.name === spec.name);
      if (found) {
        if (!isQuarantineRule(found, spec, net.path))
          throw new ActionError(
            'cloud_api_error',
            'QUARANTINE_RULE_CHANGED',
            `The quarantine firewall rule ${spec.name} exists but no longer denies all ${spec.direction} traffic of ${QUARANTINE_TAG} instances; fix or delete it, then run again.`
          );
        continue;
      }
      ctx.captureRevert({ ...rc(), creating_rule: spec.name });
      await insertRule(ctx, api, net, spec);
      rulesCreated.add(spec.name);
      ctx.captureRevert(rc());
    }
  }

  let after = inst;
  if (!inst.tags.includes(QUARANTINE_TAG)) {
    tagsSet = true;
    ctx.captureRevert(rc());
    await setTags(ctx, api, t, [...inst.tags, QUARANTINE_TAG], inst.fingerprint);
    after = await getInstance(api, t);
  }
  const revertContext: JsonObject = { ...rc(), after_tags: after.tags };
  const rules = [...rulesCreated];
  if (!tagsSet && rules.length === 0)
    return {
      summary: `Instance ${t.path} was already isolated (tag ${QUARANTINE_TAG} and its deny-all rules in place); nothing was changed.`,
      details: { instance: t.path, tags: inst.tags },
      revertContext
    };
  return {
    summary: `Isolated instance ${t.path}: ${tagsSet ? `added network tag ${QUARANTINE_TAG} (tags were ${listed(priorTags)})` : `tag ${QUARANTINE_TAG} was already set`}${
      rules.length ? `; created deny-all firewall rules ${rules.join(', ')}` : '; the deny-all rules were already in place'
    }.`,
    details: { instance: t.path, prior_tags: priorTags, tags: after.tags, rules_created: rules },
    revertContext
  };
}

async function unisolate(ctx: ActionContext, rc: JsonObject): Promise<RevertResult> {
  const t = typeof rc.instance === 'string' ? parseInstance(rc.instance) : null;
  const prior = strings(rc.prior_tags);
  if (!t || !prior)
    throw new ActionError(
      'input_invalid',
      'NO_REVERT_CONTEXT',
      'The revert context names no instance or prior tags; restore the tags by hand.'
    );
  if (rc.tags_set_by_this_run !== true)
    return { summary: `Nothing to undo on ${t.path}: its tags were not changed by this run (the shared quarantine rules stay).` };
  const api = await computeApi(ctx, t.project);
  const now = await getInstance(api, t);
  const left = strings(rc.after_tags);
  if (!ctx.force) {
    const differences: string[] = [];
    if (left && !sameSet(now.tags, left)) differences.push(`network tags are now ${listed(now.tags)}; this run left ${listed(left)}`);
    else if (!left && !now.tags.includes(QUARANTINE_TAG)) differences.push(`the tag ${QUARANTINE_TAG} was removed since the run`);
    if (differences.length) throw new RevertDrift(differences);
  }
  if (sameSet(now.tags, prior)) return { summary: `Instance ${t.path} already has its prior tags ${listed(prior)}; nothing was changed.` };
  await setTags(ctx, api, t, prior, now.fingerprint);
  return {
    summary: `Restored the network tags of ${t.path} to ${listed(prior)} (removing ${QUARANTINE_TAG}); the shared quarantine rules stay, matching no instance without the tag.`
  };
}

// ---------------------------------------------------------------------------------------------------- block_ip

export function cidrOf(target: string): string {
  if (target.includes('/')) return target;
  return target.includes(':') ? `${target}/128` : `${target}/32`;
}

/** Firewall names are [a-z]([-a-z0-9]{0,61}[a-z0-9])?: the execution id's letters and digits, lower case. */
function blockNames(runId: string): { in: string; out: string } {
  const id = runId
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 32);
  return { in: `${BLOCK_PREFIX}${id}-in`, out: `${BLOCK_PREFIX}${id}-out` };
}

async function blockIp(ctx: ActionContext, input: ActionInput): Promise<ActionResult> {
  const net = input.scope ? parseNetwork(input.scope) : null;
  if (!net) throw new ActionError('input_invalid', 'INVALID_SCOPE', 'block_ip needs a VPC network scope: projects/P/global/networks/N.');
  const cidr = cidrOf(input.target);
  const api = await computeApi(ctx, net.project);
  const names = blockNames(ctx.run.id);
  const existing = await listFirewalls(api, net.project);
  const covers = (dir: 'INGRESS' | 'EGRESS') =>
    existing.find(
      (f) =>
        f.name.startsWith(BLOCK_PREFIX) &&
        f.name !== names.in &&
        f.name !== names.out &&
        f.network === net.path &&
        f.direction === dir &&
        f.targetTags.length === 0 &&
        denyAll(f) &&
        (dir === 'INGRESS' ? f.sourceRanges : f.destinationRanges).includes(cidr)
    );
  const specs: RuleSpec[] = [];
  const description = `Keydesk block_ip ${cidr} (execution ${ctx.run.id}).`;
  const already: string[] = [];
  for (const [dir, name] of [
    ['INGRESS', names.in],
    ['EGRESS', names.out]
  ] as const) {
    const other = covers(dir);
    if (other) already.push(other.name);
    else specs.push({ name, direction: dir, ranges: [cidr], description });
  }
  const created: JsonObject[] = [];
  // An earlier identical run that stopped part-way: the rules it created (or was creating) are this run's to undo too.
  const earlier = ctx.previousRevertContext;
  const adopted =
    earlier && earlier.network === net.path && earlier.cidr === cidr
      ? existing.filter((f) => f.name.startsWith(BLOCK_PREFIX) && (strings(earlier.rules) ?? []).includes(f.name))
      : [];
  for (const f of adopted) {
    created.push({ name: f.name, direction: f.direction, after: ruleShape(f) });
    const i = already.indexOf(f.name);
    if (i >= 0) already.splice(i, 1);
  }
  const rc = (): JsonObject => ({
    network: net.path,
    cidr,
    rules: [...adopted.map((f) => f.name), ...specs.map((s) => s.name)],
    created
  });
  ctx.captureRevert(rc());
  for (const spec of specs) {
    // A resumed attempt may have created it already: the name is this run's own.
    let f = existing.find((x) => x.name === spec.name) ?? null;
    if (!f) {
      await insertRule(ctx, api, net, spec);
      f = await getFirewall(api, net.project, spec.name);
      if (!f) throw malformed('Compute firewalls.get (the rule just created)');
    }
    created.push({ name: spec.name, direction: spec.direction, after: ruleShape(f) });
    ctx.captureRevert(rc());
  }
  if (created.length === 0)
    return {
      summary: `${cidr} is already blocked on ${net.path} by Keydesk rules ${already.join(', ')}; nothing was done.`,
      details: { network: net.path, cidr, existing_rules: already },
      revertContext: rc()
    };
  return {
    summary: `Blocked ${cidr} on ${net.path}: deny rules ${created.map((c) => c.name as string).join(', ')} at priority 0${
      already.length ? ` (already blocked the other way by ${already.join(', ')})` : ''
    }.`,
    details: {
      network: net.path,
      cidr,
      rules: created.map((c) => c.name as string),
      ...(adopted.length ? { kept_from_earlier_run: adopted.map((f) => f.name) } : {})
    },
    revertContext: rc()
  };
}

async function unblockIp(ctx: ActionContext, rc: JsonObject): Promise<RevertResult> {
  const net = typeof rc.network === 'string' ? parseNetwork(rc.network) : null;
  const created = Array.isArray(rc.created) ? (rc.created as JsonObject[]) : null;
  if (!net || !created)
    throw new ActionError('input_invalid', 'NO_REVERT_CONTEXT', 'The revert context names no network or rules; delete the rules by hand.');
  const named = created.filter((c) => typeof c.name === 'string' && /^[a-z][-a-z0-9]{0,62}$/.test(c.name as string));
  // Rules the run may have been creating when it died (captured before the call) are deleted too, if they exist.
  const pending = (strings(rc.rules) ?? []).filter((n) => n.startsWith(BLOCK_PREFIX) && !named.some((c) => c.name === n));
  if (named.length === 0 && pending.length === 0) return { summary: `Nothing to undo: this run created no firewall rule on ${net.path}.` };
  const api = await computeApi(ctx, net.project);
  const differences: string[] = [];
  const present: string[] = [];
  for (const c of named) {
    const name = c.name as string;
    const now = await getFirewall(api, net.project, name);
    if (!now) {
      differences.push(`firewall rule ${name} was deleted since the run`);
      continue;
    }
    present.push(name);
    if (JSON.stringify(ruleShape(now)) !== JSON.stringify(c.after)) differences.push(`firewall rule ${name} was changed since the run`);
  }
  if (differences.length && !ctx.force) throw new RevertDrift(differences);
  for (const name of pending) if (await getFirewall(api, net.project, name)) present.push(name);
  for (const name of present) await deleteRule(ctx, api, net.project, name);
  return {
    summary: present.length
      ? `Deleted firewall rules ${present.join(', ')} on ${net.path}.`
      : `The rules were already gone from ${net.path}; nothing was deleted.`
  };
}

// ---------------------------------------------------------------------------------------------------- power

const STOPPED = new Set(['TERMINATED', 'STOPPED', 'STOPPING', 'SUSPENDED', 'SUSPENDING']);

async function stop(ctx: ActionContext, input: ActionInput): Promise<ActionResult> {
  const t = parseInstance(input.target);
  if (!t) throw new ActionError('input_invalid', 'INVALID_TARGET', 'The target is not projects/P/zones/Z/instances/I.');
  const api = await computeApi(ctx, t.project);
  const prev = ctx.previousRevertContext;
  const inst = await getInstance(api, t);
  const resumed = prev?.stopped_by_this_run === true;
  const prior = resumed && typeof prev.prior_status === 'string' ? prev.prior_status : inst.status;
  if (!resumed && STOPPED.has(inst.status)) {
    const rc = { instance: t.path, prior_status: prior, stopped_by_this_run: false };
    ctx.captureRevert(rc);
    return {
      summary: `Instance ${t.path} was already ${inst.status}; nothing was done, and a revert will not start it.`,
      details: rc,
      revertContext: rc
    };
  }
  ctx.captureRevert({ instance: t.path, prior_status: prior, stopped_by_this_run: true });
  if (inst.status !== 'TERMINATED') {
    const what = `Compute instances.stop ${t.path}`;
    const a = await api.call('POST', `${instancePath(t)}/stop`);
    if (a.status !== 200) throw computeFailure(a, what, { notFound: `Instance ${t.path} was not found (404).` });
    await settle(ctx, api, a, what);
  }
  const after = await getInstance(api, t);
  const rc = { instance: t.path, prior_status: prior, stopped_by_this_run: true, after_status: after.status };
  return { summary: `Stopped instance ${t.path} (it was ${prior}; now ${after.status}).`, details: rc, revertContext: rc };
}

async function start(ctx: ActionContext, rc: JsonObject): Promise<RevertResult> {
  const t = typeof rc.instance === 'string' ? parseInstance(rc.instance) : null;
  if (!t) throw new ActionError('input_invalid', 'NO_REVERT_CONTEXT', 'The revert context names no instance; start it by hand.');
  if (rc.stopped_by_this_run !== true)
    return { summary: `Nothing to undo: ${t.path} was already stopped before this run, so it stays stopped.` };
  const api = await computeApi(ctx, t.project);
  const now = await getInstance(api, t);
  if (now.status !== 'TERMINATED') {
    if (!ctx.force) throw new RevertDrift([`the instance is now ${now.status}; this run left it TERMINATED`]);
    if (now.status === 'RUNNING') return { summary: `Instance ${t.path} is already RUNNING; nothing was started.` };
  }
  const what = `Compute instances.start ${t.path}`;
  const a = await api.call('POST', `${instancePath(t)}/start`);
  if (a.status !== 200) throw computeFailure(a, what, { notFound: `Instance ${t.path} was not found (404).` });
  await settle(ctx, api, a, what);
  const after = await getInstance(api, t);
  return { summary: `Started instance ${t.path} again (now ${after.status}).` };
}

// ---------------------------------------------------------------------------------------------------- handlers

const instanceRule = (input: ActionInput): string | null =>
  parseInstance(input.target)
    ? null
    : 'A Compute Engine instance is named projects/PROJECT/zones/ZONE/instances/NAME (lower-case project id, zone such as europe-west1-b, instance name).';

export const capabilities: ProviderCapabilities = {
  isolate: { checkInput: instanceRule, execute: isolate, revert: (ctx, rc) => unisolate(ctx, rc), continuesUnfinished: true },
  power: { checkInput: instanceRule, execute: stop, revert: (ctx, rc) => start(ctx, rc), continuesUnfinished: true },
  block_ip: {
    checkInput: (input) =>
      input.scope === null || parseNetwork(input.scope)
        ? null
        : 'The scope of a Google Cloud block_ip is a VPC network: projects/PROJECT/global/networks/NETWORK.',
    execute: blockIp,
    revert: (ctx, rc) => unblockIp(ctx, rc),
    continuesUnfinished: true
  }
};
