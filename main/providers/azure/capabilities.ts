import { str } from '../answers.ts';
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
import { COMPUTE_API, NETWORK_API, armClient, armFailure, type ArmClient } from './arm.ts';
import { parseNicId, parseNsgId, parseVmId, sameId, type ResourceRef } from './ids.ts';

/**
 * Azure host capabilities, as ARM REST calls with an MSAL token (arm.ts) — chosen over @azure/arm-network and
 * @azure/arm-compute because every call must go through the run's provider fetch and every long-running operation
 * through a bounded poll we control; the REST surface needed is small (GET/PUT a NIC and an NSG, PUT/DELETE a security
 * rule, GET a VM and its instance view, POST a power action).
 *
 * - isolate: each NIC of the VM is moved to a quarantine NSG (`keydesk-quarantine-{location}` in the VM's resource
 *   group, deny all inbound and outbound at priority 100; created only if missing). Revert puts each NIC back on the
 *   NSG it had (or none); a NIC no longer on the quarantine NSG is drift.
 * - block_ip: two Deny rules (Inbound from the prefix, Outbound to it) at the lowest free priority of each direction
 *   in the scope NSG, named after the execution; revert deletes exactly those; a rule changed or removed is drift.
 * - power: POST powerOff (or deallocate, with the run's `deallocate` option); revert starts the VM only if this run
 *   powered it off, and refuses if it is no longer in the state the run left.
 */

const QUARANTINE_PREFIX = 'keydesk-quarantine';
const MIN_PRIORITY = 100;
const MAX_PRIORITY = 4096;

const net = (id: string) => `${id}?api-version=${NETWORK_API}`;
const compute = (id: string, sub = '') => `${id}${sub}?api-version=${COMPUTE_API}`;

function target(input: ActionInput): ResourceRef {
  const vm = parseVmId(input.target);
  if (!vm) throw new ActionError('input_invalid', 'INPUT_INVALID', VM_HELP);
  return vm;
}

const VM_HELP =
  'An Azure VM is named by its resource id: /subscriptions/{subscription-id}/resourceGroups/{group}/providers/Microsoft.Compute/virtualMachines/{name} (portal → the VM → JSON view).';
const NSG_HELP =
  'The scope of an Azure block is a network security group resource id: /subscriptions/{subscription-id}/resourceGroups/{group}/providers/Microsoft.Network/networkSecurityGroups/{name}.';

interface Vm {
  id: string;
  location: string;
  nicIds: string[];
}

async function getVm(arm: ArmClient, vm: ResourceRef): Promise<Vm> {
  const a = await arm.request('GET', compute(vm.id));
  if (a.status !== 200) throw armFailure(a, `Azure (read virtual machine ${vm.name})`, 'Microsoft.Compute/virtualMachines/read');
  const b = a.body as { location?: unknown; properties?: { networkProfile?: { networkInterfaces?: unknown } } } | undefined;
  const list = b?.properties?.networkProfile?.networkInterfaces;
  const location = str(b?.location);
  if (!location || !Array.isArray(list)) throw new ActionError('cloud_api_error', 'MALFORMED_RESPONSE', malformed('the virtual machine'));
  const nicIds = list.map((n) => str((n as { id?: unknown }).id)).filter((x): x is string => x !== null);
  return { id: vm.id, location, nicIds };
}

const malformed = (what: string) =>
  `Azure Resource Manager answered with ${what}, but not in the form Keydesk expects; nothing was changed by this call. Check the resource before retrying.`;

async function powerState(arm: ArmClient, vm: ResourceRef): Promise<string> {
  const a = await arm.request('GET', compute(vm.id, '/instanceView'));
  if (a.status !== 200) throw armFailure(a, `Azure (read the instance view of ${vm.name})`, 'Microsoft.Compute/virtualMachines/read');
  const statuses = (a.body as { statuses?: unknown } | undefined)?.statuses;
  if (!Array.isArray(statuses)) throw new ActionError('cloud_api_error', 'MALFORMED_RESPONSE', malformed('an instance view'));
  for (const s of statuses) {
    const code = str((s as { code?: unknown }).code);
    const m = code ? /^PowerState\/([a-z]{1,32})$/i.exec(code) : null;
    if (m) return m[1]!.toLowerCase();
  }
  return 'unknown';
}

type Body = Record<string, unknown> & { properties?: Record<string, unknown> };

async function getNic(arm: ArmClient, id: string): Promise<Body | null> {
  const a = await arm.request('GET', net(id));
  if (a.status === 404) return null;
  if (a.status !== 200)
    throw armFailure(a, `Azure (read network interface ${id.split('/').pop()})`, 'Microsoft.Network/networkInterfaces/read');
  const b = a.body as Body | undefined;
  if (!b || typeof b !== 'object' || !b.properties || typeof b.location !== 'string')
    throw new ActionError('cloud_api_error', 'MALFORMED_RESPONSE', malformed('a network interface'));
  return b;
}

const nsgOfNic = (nic: Body): string | null => str((nic.properties?.networkSecurityGroup as { id?: unknown } | null | undefined)?.id);

/** PUTs the NIC with `nsgId` as its NSG (null: none), waiting for the operation. */
async function setNicNsg(arm: ArmClient, nic: Body, id: string, nsgId: string | null): Promise<void> {
  const properties: Record<string, unknown> = { ...nic.properties };
  delete properties.provisioningState;
  if (nsgId) properties.networkSecurityGroup = { id: nsgId };
  else delete properties.networkSecurityGroup;
  const body: Record<string, unknown> = { location: nic.location, properties };
  if (nic.tags) body.tags = nic.tags;
  const name = id.split('/').pop()!;
  const a = await arm.request('PUT', net(id), body);
  if (a.status !== 200 && a.status !== 201)
    throw armFailure(a, `Azure (update network interface ${name})`, 'Microsoft.Network/networkInterfaces/write');
  await arm.settle(a, `updating network interface ${name}`);
}

interface Rule {
  name: string;
  priority: number;
  direction: string;
  access: string;
  sourceAddressPrefix?: string;
  sourceAddressPrefixes?: string[];
  destinationAddressPrefix?: string;
  destinationAddressPrefixes?: string[];
}

function rulesOf(nsg: Body): Rule[] {
  const raw = nsg.properties?.securityRules;
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((r): Rule[] => {
    const name = str((r as { name?: unknown }).name);
    const p = (r as { properties?: Record<string, unknown> }).properties ?? {};
    if (!name || typeof p.priority !== 'number') return [];
    const strs = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);
    return [
      {
        name,
        priority: p.priority,
        direction: String(p.direction),
        access: String(p.access),
        ...(typeof p.sourceAddressPrefix === 'string' ? { sourceAddressPrefix: p.sourceAddressPrefix } : {}),
        ...(strs(p.sourceAddressPrefixes) ? { sourceAddressPrefixes: strs(p.sourceAddressPrefixes)! } : {}),
        ...(typeof p.destinationAddressPrefix === 'string' ? { destinationAddressPrefix: p.destinationAddressPrefix } : {}),
        ...(strs(p.destinationAddressPrefixes) ? { destinationAddressPrefixes: strs(p.destinationAddressPrefixes)! } : {})
      }
    ];
  });
}

async function getNsg(arm: ArmClient, ref: ResourceRef): Promise<Body | null> {
  const a = await arm.request('GET', net(ref.id));
  if (a.status === 404 && (a.body as { error?: { code?: unknown } } | undefined)?.error?.code === 'ResourceNotFound') return null;
  if (a.status !== 200)
    throw armFailure(a, `Azure (read network security group ${ref.name})`, 'Microsoft.Network/networkSecurityGroups/read');
  const b = a.body as Body | undefined;
  if (!b || typeof b !== 'object' || !b.properties) throw new ActionError('cloud_api_error', 'MALFORMED_RESPONSE', malformed('an NSG'));
  return b;
}

// ------------------------------------------------------------------------------------------------ isolate

const denyAll = (name: string, direction: 'Inbound' | 'Outbound') => ({
  name,
  properties: {
    priority: MIN_PRIORITY,
    direction,
    access: 'Deny',
    protocol: '*',
    sourceAddressPrefix: '*',
    sourcePortRange: '*',
    destinationAddressPrefix: '*',
    destinationPortRange: '*',
    description: 'Keydesk quarantine: deny all traffic'
  }
});

const deniesAll = (rules: Rule[], direction: string) =>
  rules.some(
    (r) =>
      r.direction === direction &&
      r.access === 'Deny' &&
      r.priority === MIN_PRIORITY &&
      r.sourceAddressPrefix === '*' &&
      r.destinationAddressPrefix === '*'
  );

/** The quarantine NSG of the VM's resource group and location: created if missing, checked if present. */
async function ensureQuarantine(
  ctx: ActionContext,
  arm: ArmClient,
  vm: ResourceRef,
  location: string
): Promise<{ id: string; created: boolean }> {
  const name = `${QUARANTINE_PREFIX}-${location.toLowerCase().replace(/[^a-z0-9]/g, '')}`.slice(0, 80);
  const ref = parseNsgId(
    `/subscriptions/${vm.subscriptionId}/resourceGroups/${vm.resourceGroup}/providers/Microsoft.Network/networkSecurityGroups/${name}`
  )!;
  const existing = await getNsg(arm, ref);
  if (existing) {
    const rules = rulesOf(existing);
    if (!deniesAll(rules, 'Inbound') || !deniesAll(rules, 'Outbound'))
      throw new ActionError(
        'cloud_api_error',
        'QUARANTINE_NSG_CHANGED',
        `The quarantine NSG ${name} exists but no longer denies all inbound and outbound traffic at priority ${MIN_PRIORITY}; Keydesk will not isolate with it. Restore its deny rules (or delete it so Keydesk recreates it), then run again.`
      );
    if (str(existing.location)?.toLowerCase() !== location.toLowerCase())
      throw new ActionError('cloud_api_error', 'QUARANTINE_NSG_LOCATION', `The quarantine NSG ${name} is in another region than the VM.`);
    return { id: ref.id, created: false };
  }
  ctx.step(`Creating quarantine NSG ${name} (deny all inbound and outbound).`);
  const a = await arm.request('PUT', net(ref.id), {
    location,
    tags: { 'keydesk-purpose': 'quarantine' },
    properties: { securityRules: [denyAll('keydesk-deny-all-inbound', 'Inbound'), denyAll('keydesk-deny-all-outbound', 'Outbound')] }
  });
  if (a.status !== 200 && a.status !== 201)
    throw armFailure(a, `Azure (create quarantine network security group ${name})`, 'Microsoft.Network/networkSecurityGroups/write');
  await arm.settle(a, `creating network security group ${name}`);
  return { id: ref.id, created: true };
}

function priorNics(rc: JsonObject | null): Map<string, string | null> {
  const out = new Map<string, string | null>();
  const list = rc?.nics;
  if (!Array.isArray(list)) return out;
  for (const n of list) {
    const o = n as { id?: unknown; previous_nsg?: unknown };
    if (typeof o.id === 'string' && (typeof o.previous_nsg === 'string' || o.previous_nsg === null))
      out.set(o.id.toLowerCase(), o.previous_nsg);
  }
  return out;
}

async function isolate(ctx: ActionContext, input: ActionInput): Promise<ActionResult> {
  const vm = target(input);
  const arm = await armClient(ctx);
  const v = await getVm(arm, vm);
  if (v.nicIds.length === 0)
    throw new ActionError('cloud_api_error', 'NO_NETWORK_INTERFACES', `Virtual machine ${vm.name} has no network interfaces to isolate.`);
  const earlier = priorNics(ctx.previousRevertContext);
  const nics: { id: string; body: Body; current: string | null; previous: string | null }[] = [];
  for (const raw of v.nicIds) {
    const id = parseNicId(raw)?.id ?? raw;
    const body = await getNic(arm, id);
    if (!body) throw new ActionError('inventory_not_found', 'ResourceNotFound', `Network interface ${id} of ${vm.name} was not found.`);
    const current = nsgOfNic(body);
    nics.push({ id, body, current, previous: earlier.has(id.toLowerCase()) ? earlier.get(id.toLowerCase())! : current });
  }
  const qName = `${QUARANTINE_PREFIX}-${v.location.toLowerCase().replace(/[^a-z0-9]/g, '')}`;
  const onQuarantine = (nsg: string | null) =>
    nsg !== null &&
    nsg.split('/').pop()!.toLowerCase() === qName &&
    nsg.toLowerCase().includes(`/resourcegroups/${vm.resourceGroup.toLowerCase()}/`);
  const record = (quarantine: string | null, changed: Set<string>): JsonObject => ({
    vm_id: vm.id,
    quarantine_nsg: quarantine,
    nics: nics.map((n): JsonObject => ({ id: n.id, previous_nsg: n.previous, changed_by_this_run: changed.has(n.id) })),
    after: Object.fromEntries(nics.map((n) => [n.id, quarantine ?? n.current])) as JsonObject
  });
  if (nics.every((n) => onQuarantine(n.current)) && earlier.size === 0) {
    const rc = { ...record(nics[0]!.current, new Set()), nothing_done: true };
    ctx.captureRevert(rc);
    return {
      summary: `${vm.name} is already isolated: all ${nics.length} network interface(s) are on the quarantine NSG. Nothing was done, and a revert will leave them there.`,
      details: { vm_id: vm.id, nics: nics.length },
      revertContext: rc
    };
  }
  // Every NIC not yet on the quarantine NSG is about to move: recorded first, so a run that stops part-way says so.
  const moving = new Set(
    nics.filter((n) => !onQuarantine(n.current) || (earlier.has(n.id.toLowerCase()) && !onQuarantine(n.previous))).map((n) => n.id)
  );
  ctx.captureRevert(record(null, moving));
  const q = await ensureQuarantine(ctx, arm, vm, v.location);
  ctx.captureRevert({ ...record(q.id, moving), quarantine_created: q.created });
  const changed = new Set<string>();
  for (const n of nics) {
    if (sameId(n.current, q.id)) {
      if (earlier.has(n.id.toLowerCase()) && !sameId(n.previous, q.id)) changed.add(n.id);
      continue;
    }
    ctx.step(`Moving ${n.id.split('/').pop()} from ${n.current ? n.current.split('/').pop() : 'no NSG'} to ${q.id.split('/').pop()}.`);
    await setNicNsg(arm, n.body, n.id, q.id);
    changed.add(n.id);
  }
  const rc: JsonObject = { ...record(q.id, changed), quarantine_created: q.created };
  return {
    summary: `Isolated ${vm.name}: ${changed.size} network interface(s) moved to the quarantine NSG ${q.id.split('/').pop()}${q.created ? ' (created)' : ''}.`,
    details: { vm_id: vm.id, quarantine_nsg: q.id, nics_changed: changed.size },
    revertContext: rc
  };
}

async function unisolate(ctx: ActionContext, rc: JsonObject): Promise<RevertResult> {
  const vmId = typeof rc.vm_id === 'string' ? rc.vm_id : '';
  const q = typeof rc.quarantine_nsg === 'string' ? rc.quarantine_nsg : null;
  const list = Array.isArray(rc.nics) ? rc.nics : null;
  if (!parseVmId(vmId) || !list)
    throw new ActionError('input_invalid', 'NO_REVERT_CONTEXT', 'The revert context names no VM; restore its NICs’ NSGs by hand.');
  const toRestore = list
    .map((n) => n as { id?: unknown; previous_nsg?: unknown; changed_by_this_run?: unknown })
    .filter(
      (n): n is { id: string; previous_nsg: string | null; changed_by_this_run: true } =>
        n.changed_by_this_run === true && typeof n.id === 'string'
    );
  if (rc.nothing_done === true || toRestore.length === 0 || !q)
    return { summary: `Nothing to undo: this run moved no network interface of ${vmId.split('/').pop()}.` };
  const arm = await armClient(ctx);
  const current: { id: string; body: Body | null; previous: string | null }[] = [];
  const drift: string[] = [];
  for (const n of toRestore) {
    const body = await getNic(arm, n.id);
    const name = n.id.split('/').pop()!;
    if (!body) drift.push(`network interface ${name} no longer exists`);
    else if (!sameId(nsgOfNic(body), q))
      drift.push(`network interface ${name} is on ${nsgOfNic(body)?.split('/').pop() ?? 'no NSG'}, not the quarantine NSG`);
    current.push({ id: n.id, body, previous: typeof n.previous_nsg === 'string' ? n.previous_nsg : null });
  }
  if (drift.length > 0 && !ctx.force) throw new RevertDrift(drift);
  let restored = 0;
  for (const n of current) {
    if (!n.body) continue;
    if (sameId(nsgOfNic(n.body), n.previous)) continue;
    ctx.step(`Restoring ${n.id.split('/').pop()} to ${n.previous ? n.previous.split('/').pop() : 'no NSG'}.`);
    await setNicNsg(arm, n.body, n.id, n.previous);
    restored++;
  }
  return {
    summary: `Restored ${restored} network interface(s) of ${vmId.split('/').pop()} to the NSGs they had before; the quarantine NSG ${q.split('/').pop()} was left in place.`
  };
}

// ------------------------------------------------------------------------------------------------ block_ip

function prefixOf(t: string): string {
  if (t.includes('/')) return t;
  return t.includes(':') ? `${t}/128` : `${t}/32`;
}

/** The prefixes a rule names on the remote side (source for Inbound, destination for Outbound). */
function remote(r: Rule): string[] {
  return r.direction === 'Inbound'
    ? [...(r.sourceAddressPrefix ? [r.sourceAddressPrefix] : []), ...(r.sourceAddressPrefixes ?? [])]
    : [...(r.destinationAddressPrefix ? [r.destinationAddressPrefix] : []), ...(r.destinationAddressPrefixes ?? [])];
}

const samePrefix = (a: string, b: string) => prefixOf(a.toLowerCase()) === prefixOf(b.toLowerCase());
const denies = (r: Rule, direction: string, prefix: string) =>
  r.direction === direction && r.access === 'Deny' && remote(r).some((p) => samePrefix(p, prefix));

function lowestFree(rules: Rule[], direction: string): number {
  const used = new Set(rules.filter((r) => r.direction === direction).map((r) => r.priority));
  for (let p = MIN_PRIORITY; p <= MAX_PRIORITY; p++) if (!used.has(p)) return p;
  throw new ActionError(
    'cloud_api_error',
    'NO_FREE_PRIORITY',
    `The NSG has no free ${direction} priority between ${MIN_PRIORITY} and ${MAX_PRIORITY}.`
  );
}

function scopeOf(input: ActionInput): ResourceRef {
  const ref = input.scope ? parseNsgId(input.scope) : null;
  if (!ref) throw new ActionError('input_invalid', 'INPUT_INVALID', NSG_HELP);
  return ref;
}

interface PlannedRule {
  name: string;
  direction: 'Inbound' | 'Outbound';
  priority: number;
  prefix: string;
}

async function block(ctx: ActionContext, input: ActionInput): Promise<ActionResult> {
  const nsgRef = scopeOf(input);
  const prefix = prefixOf(input.target);
  const arm = await armClient(ctx);
  const nsg = await getNsg(arm, nsgRef);
  if (!nsg)
    throw new ActionError(
      'inventory_not_found',
      'ResourceNotFound',
      `Network security group ${nsgRef.name} (the block's scope) was not found.`
    );
  const rules = rulesOf(nsg);
  const planned: PlannedRule[] = [];
  const already: string[] = [];
  // An earlier identical run that stopped part-way: the rules it created are this run's to keep and undo.
  const earlier = ctx.previousRevertContext;
  const earlierRules =
    earlier && earlier.nsg_id === nsgRef.id && earlier.prefix === prefix && Array.isArray(earlier.rules)
      ? (earlier.rules as { name?: unknown }[]).map((r) => String(r.name ?? '').toLowerCase())
      : [];
  for (const direction of ['Inbound', 'Outbound'] as const) {
    const name = `keydesk-block-${ctx.run.id}-${direction === 'Inbound' ? 'in' : 'out'}`.slice(0, 80);
    const mine = rules.find(
      (r) => r.direction === direction && (r.name.toLowerCase() === name.toLowerCase() || earlierRules.includes(r.name.toLowerCase()))
    );
    if (mine) {
      // An earlier attempt of this run (or the earlier run it continues) created it.
      planned.push({ name: mine.name, direction, priority: mine.priority, prefix });
      continue;
    }
    const existing = rules.find((r) => denies(r, direction, prefix));
    if (existing) {
      already.push(`${direction} (${existing.name})`);
      continue;
    }
    const all = [...rules, ...planned.map((p) => ({ name: p.name, priority: p.priority, direction: p.direction, access: 'Deny' }))];
    planned.push({ name, direction, priority: lowestFree(all, direction), prefix });
  }
  const toCreate = planned.filter((p) => !rules.some((r) => r.name.toLowerCase() === p.name.toLowerCase()));
  const rc = (created: PlannedRule[]): JsonObject => ({
    nsg_id: nsgRef.id,
    prefix,
    rules: created.map((p): JsonObject => ({ name: p.name, direction: p.direction, priority: p.priority, prefix: p.prefix })),
    after: created.map((p): JsonObject => ({
      name: p.name,
      direction: p.direction,
      priority: p.priority,
      access: 'Deny',
      prefix: p.prefix
    }))
  });
  if (planned.length === 0) {
    const r = { ...rc([]), nothing_done: true };
    ctx.captureRevert(r);
    return {
      summary: `${prefix} is already denied both ways in ${nsgRef.name} (${already.join(', ')}). Nothing was done, and a revert will leave those rules.`,
      details: { nsg_id: nsgRef.id, prefix },
      revertContext: r
    };
  }
  ctx.captureRevert(rc(planned));
  const description = `Keydesk ${ctx.run.id}: ${input.reason}`.slice(0, 140);
  for (const p of toCreate) {
    const path = net(`${nsgRef.id}/securityRules/${encodeURIComponent(p.name)}`);
    const a = await arm.request('PUT', path, {
      properties: {
        priority: p.priority,
        direction: p.direction,
        access: 'Deny',
        protocol: '*',
        sourcePortRange: '*',
        destinationPortRange: '*',
        sourceAddressPrefix: p.direction === 'Inbound' ? prefix : '*',
        destinationAddressPrefix: p.direction === 'Outbound' ? prefix : '*',
        description
      }
    });
    if (a.status !== 200 && a.status !== 201)
      throw armFailure(
        a,
        `Azure (create security rule ${p.name} in ${nsgRef.name})`,
        'Microsoft.Network/networkSecurityGroups/securityRules/write'
      );
    await arm.settle(a, `creating security rule ${p.name}`);
  }
  return {
    summary: `Blocked ${prefix} in ${nsgRef.name}: ${planned.map((p) => `${p.direction} deny at priority ${p.priority}`).join(', ')}${already.length ? `; already denied: ${already.join(', ')}` : ''}.`,
    details: { nsg_id: nsgRef.id, prefix, rules: planned.map((p) => p.name) },
    revertContext: rc(planned)
  };
}

async function unblock(ctx: ActionContext, rc: JsonObject): Promise<RevertResult> {
  const ref = typeof rc.nsg_id === 'string' ? parseNsgId(rc.nsg_id) : null;
  const after = Array.isArray(rc.after)
    ? (rc.after as { name?: unknown; direction?: unknown; priority?: unknown; prefix?: unknown }[])
    : null;
  if (!ref || !after)
    throw new ActionError('input_invalid', 'NO_REVERT_CONTEXT', 'The revert context names no NSG; delete the Keydesk rules by hand.');
  if (after.length === 0) return { summary: `Nothing to undo: this run created no rule in ${ref.name}.` };
  const arm = await armClient(ctx);
  const nsg = await getNsg(arm, ref);
  const rules = nsg ? rulesOf(nsg) : [];
  const drift: string[] = [];
  const present: string[] = [];
  if (!nsg) drift.push(`network security group ${ref.name} no longer exists`);
  for (const w of after) {
    const name = String(w.name);
    const r = rules.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!nsg) continue;
    if (!r) {
      drift.push(`rule ${name} was removed`);
      continue;
    }
    present.push(r.name);
    const changes: string[] = [];
    if (r.priority !== w.priority) changes.push(`priority ${String(w.priority)} → ${r.priority}`);
    if (r.access !== 'Deny') changes.push(`access Deny → ${r.access}`);
    if (r.direction !== w.direction) changes.push(`direction ${String(w.direction)} → ${r.direction}`);
    const rem = remote(r);
    if (rem.length !== 1 || !samePrefix(rem[0]!, String(w.prefix)))
      changes.push(`address ${String(w.prefix)} → ${rem.join(', ') || 'none'}`);
    if (changes.length) drift.push(`rule ${name} was changed (${changes.join(', ')})`);
  }
  if (drift.length > 0 && !ctx.force) throw new RevertDrift(drift);
  for (const name of present) {
    const a = await arm.request('DELETE', net(`${ref.id}/securityRules/${encodeURIComponent(name)}`));
    if (a.status === 204 || a.status === 404) continue;
    if (a.status !== 200 && a.status !== 202)
      throw armFailure(
        a,
        `Azure (delete security rule ${name} in ${ref.name})`,
        'Microsoft.Network/networkSecurityGroups/securityRules/delete'
      );
    await arm.settle(a, `deleting security rule ${name}`);
  }
  return { summary: `Deleted ${present.length} Keydesk rule(s) from ${ref.name}${present.length ? ` (${present.join(', ')})` : ''}.` };
}

// ------------------------------------------------------------------------------------------------ power

const OFF = new Set(['stopped', 'deallocated']);

async function powerAction(arm: ArmClient, vm: ResourceRef, action: 'powerOff' | 'deallocate' | 'start'): Promise<void> {
  const a = await arm.request('POST', compute(vm.id, `/${action}`));
  if (a.status !== 200 && a.status !== 202)
    throw armFailure(a, `Azure (${action} virtual machine ${vm.name})`, `Microsoft.Compute/virtualMachines/${action}/action`);
  await arm.settle(a, `${action} of ${vm.name}`);
}

async function powerOff(ctx: ActionContext, input: ActionInput): Promise<ActionResult> {
  const vm = target(input);
  const deallocate = input.options.deallocate === true;
  const arm = await armClient(ctx);
  const earlier = ctx.previousRevertContext;
  const observed = await powerState(arm, vm);
  const prior = typeof earlier?.prior_power_state === 'string' ? earlier.prior_power_state : observed;
  const wanted = deallocate ? 'deallocated' : 'stopped';
  const action = deallocate ? 'deallocate' : 'powerOff';
  const base: JsonObject = { vm_id: vm.id, prior_power_state: prior, action };
  if (observed === wanted || (observed === 'deallocated' && !deallocate)) {
    const rc = {
      ...base,
      final_power_state: observed,
      powered_off_by_this_run: earlier?.powered_off_by_this_run === true,
      after: observed
    };
    ctx.captureRevert(rc);
    return {
      summary: `${vm.name} was already ${observed}; nothing was done${rc.powered_off_by_this_run ? '' : ', and a revert will leave it so'}.`,
      details: { vm_id: vm.id, prior_power_state: prior },
      revertContext: rc
    };
  }
  const offByUs = !OFF.has(prior);
  ctx.captureRevert({ ...base, powered_off_by_this_run: offByUs, final_power_state: null });
  await powerAction(arm, vm, action);
  const final = await powerState(arm, vm);
  const rc: JsonObject = { ...base, final_power_state: final, powered_off_by_this_run: offByUs, after: final };
  return {
    summary: `${deallocate ? 'Deallocated' : 'Powered off'} ${vm.name} (it was ${prior}; now ${final}).`,
    details: { vm_id: vm.id, prior_power_state: prior, final_power_state: final },
    revertContext: rc
  };
}

async function powerOn(ctx: ActionContext, rc: JsonObject): Promise<RevertResult> {
  const vm = typeof rc.vm_id === 'string' ? parseVmId(rc.vm_id) : null;
  if (!vm) throw new ActionError('input_invalid', 'NO_REVERT_CONTEXT', 'The revert context names no VM; start it by hand in the portal.');
  if (rc.powered_off_by_this_run !== true)
    return { summary: `Nothing to undo: ${vm.name} was already ${String(rc.prior_power_state)} before this run, so it stays off.` };
  const arm = await armClient(ctx);
  const now = await powerState(arm, vm);
  const after = typeof rc.after === 'string' ? rc.after : null;
  if (after && now !== after && !ctx.force) throw new RevertDrift([`${vm.name} is ${now}, not ${after} as this run left it`]);
  await powerAction(arm, vm, 'start');
  const final = await powerState(arm, vm);
  return {
    summary: `Started ${vm.name} again (it was ${now}; now ${final}).`,
    details: { final_power_state: final } as Record<string, JsonValue>
  };
}

export const capabilities: ProviderCapabilities = {
  isolate: {
    checkInput: (input) => (parseVmId(input.target) ? null : VM_HELP),
    execute: isolate,
    revert: (ctx, rc) => unisolate(ctx, rc),
    continuesUnfinished: true
  },
  block_ip: {
    checkInput: (input) => (input.scope === null || parseNsgId(input.scope) ? null : NSG_HELP),
    execute: block,
    revert: (ctx, rc) => unblock(ctx, rc),
    continuesUnfinished: true
  },
  power: {
    checkInput: (input) => (parseVmId(input.target) ? null : VM_HELP),
    execute: powerOff,
    revert: (ctx, rc) => powerOn(ctx, rc),
    continuesUnfinished: true
  }
};
