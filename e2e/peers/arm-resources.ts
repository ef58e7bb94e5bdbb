import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessTokenClaims } from './entra.ts';
import type { PeerContext } from './harness.ts';

/**
 * The host resources of the loopback ARM peer (arm.ts), in ARM's wire shapes (api-versions are required but not
 * pinned): test support only.
 *
 * - Microsoft.Compute/virtualMachines: GET (networkProfile), GET …/instanceView (`PowerState/…` statuses), POST
 *   …/powerOff | deallocate | start (long-running).
 * - Microsoft.Network/networkInterfaces: GET, PUT (the NIC's `networkSecurityGroup`; joining an NSG needs
 *   `…/networkSecurityGroups/join/action` on it, else 403 LinkedAuthorizationFailed).
 * - Microsoft.Network/networkSecurityGroups: GET, PUT (rules checked: priority 100–4096, one rule per priority and
 *   direction — else 400 SecurityRuleConflict), and …/securityRules/{name} GET, PUT, DELETE.
 * - Long-running operations: every mutation answers 201/202 (or 200 "Updating") with `Azure-AsyncOperation` and
 *   `Location` (Retry-After: 0), and takes effect when a poll finds it Succeeded after `lro.polls` InProgress answers.
 * - Azure RBAC: role assignments per service principal (token `oid`) at a scope, actions / notActions with `*`;
 *   every call checks its action against them (403 AuthorizationFailed in ARM's words) and
 *   `GET {scope}/providers/Microsoft.Authorization/permissions` lists the ones that apply at a scope.
 */

export type PowerState = 'running' | 'stopping' | 'stopped' | 'deallocating' | 'deallocated' | 'starting';

export interface ArmVm {
  id: string;
  name: string;
  resourceGroup: string;
  location: string;
  nicIds: string[];
  power: PowerState;
}

export interface ArmNic {
  id: string;
  name: string;
  resourceGroup: string;
  location: string;
  nsgId: string | null;
  privateIp: string;
  vmId: string | null;
  etag: string;
}

export interface ArmSecurityRule {
  name: string;
  priority: number;
  direction: 'Inbound' | 'Outbound';
  access: 'Allow' | 'Deny';
  protocol: string;
  sourceAddressPrefix?: string;
  sourceAddressPrefixes?: string[];
  destinationAddressPrefix?: string;
  destinationAddressPrefixes?: string[];
  sourcePortRange: string;
  destinationPortRange: string;
  description?: string;
}

export interface ArmNsg {
  id: string;
  name: string;
  resourceGroup: string;
  location: string;
  rules: ArmSecurityRule[];
  etag: string;
}

export interface RoleAssignment {
  scope: string;
  actions: string[];
  notActions: string[];
}

export interface ArmResources {
  vms: Map<string, ArmVm>;
  nics: Map<string, ArmNic>;
  nsgs: Map<string, ArmNsg>;
  /** Role assignments by service principal object id. */
  assignments: Map<string, RoleAssignment[]>;
  /** InProgress answers each operation gives before Succeeded. */
  lro: { polls: number };
  /** Every mutation the peer applied ("PUT nic …", "POST powerOff …"), in order. */
  mutations: string[];
  grant(oid: string, scope: string, actions: string[], notActions?: string[]): void;
  allowed(oid: string, action: string, scope: string): boolean;
  addVm(v: {
    subscriptionId: string;
    resourceGroup: string;
    name: string;
    location?: string;
    power?: PowerState;
    nics?: { name: string; nsgId?: string | null; privateIp?: string }[];
  }): { vm: ArmVm; nics: ArmNic[] };
  addNsg(n: { subscriptionId: string; resourceGroup: string; name: string; location?: string; rules?: ArmSecurityRule[] }): ArmNsg;
}

export interface ArmResourcesDeps {
  subscriptions: Map<string, { subscriptionId: string; tenantId: string }>;
  armError(res: ServerResponse, ctx: PeerContext, status: number, code: string, message: string, headers?: Record<string, string>): void;
  authenticate(req: IncomingMessage, res: ServerResponse, ctx: PeerContext): AccessTokenClaims | null;
  self(): string;
}

interface Operation {
  id: string;
  subscriptionId: string;
  remaining: number;
  apply: () => void;
  applied: boolean;
}

const key = (id: string) => id.toLowerCase();
const etag = () => `W/"${randomUUID()}"`;

/** `*` matches anything (ARM's action wildcards), case-insensitive. */
export function actionMatches(pattern: string, action: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
      .join('.*')}$`,
    'i'
  );
  return re.test(action);
}

const within = (scope: string, resource: string) => {
  const s = key(scope).replace(/\/+$/, '');
  const r = key(resource);
  return r === s || r.startsWith(`${s}/`);
};

const SUB = '/subscriptions/([^/]+)';
const RG = `${SUB}/resourceGroups/([^/]+)`;
const route = (pattern: string) => new RegExp(`^${pattern}$`, 'i');
const R = {
  permissionsRg: route(`${RG}/providers/Microsoft\\.Authorization/permissions`),
  permissionsSub: route(`${SUB}/providers/Microsoft\\.Authorization/permissions`),
  vm: route(`${RG}/providers/Microsoft\\.Compute/virtualMachines/([^/]+)`),
  instanceView: route(`${RG}/providers/Microsoft\\.Compute/virtualMachines/([^/]+)/instanceView`),
  power: route(`${RG}/providers/Microsoft\\.Compute/virtualMachines/([^/]+)/(powerOff|deallocate|start)`),
  nic: route(`${RG}/providers/Microsoft\\.Network/networkInterfaces/([^/]+)`),
  nsg: route(`${RG}/providers/Microsoft\\.Network/networkSecurityGroups/([^/]+)`),
  rule: route(`${RG}/providers/Microsoft\\.Network/networkSecurityGroups/([^/]+)/securityRules/([^/]+)`),
  operation: route(`${SUB}/providers/(Microsoft\\.Network|Microsoft\\.Compute)/locations/([^/]+)/operations/([^/]+)`),
  operationResult: route(`${SUB}/providers/(Microsoft\\.Network|Microsoft\\.Compute)/locations/([^/]+)/operationResults/([^/]+)`)
};

export function armResources(deps: ArmResourcesDeps): {
  api: ArmResources;
  handle(req: IncomingMessage, res: ServerResponse, ctx: PeerContext): Promise<boolean>;
  resetLog(): void;
} {
  const vms = new Map<string, ArmVm>();
  const nics = new Map<string, ArmNic>();
  const nsgs = new Map<string, ArmNsg>();
  const groups = new Set<string>();
  const assignments = new Map<string, RoleAssignment[]>();
  const operations = new Map<string, Operation>();
  const lro = { polls: 1 };
  const mutations: string[] = [];

  const allowed = (oid: string, action: string, scope: string) =>
    (assignments.get(oid) ?? []).some(
      (a) =>
        within(a.scope, scope) && a.actions.some((p) => actionMatches(p, action)) && !a.notActions.some((p) => actionMatches(p, action))
    );

  const rgId = (sub: string, rg: string) => `/subscriptions/${sub}/resourceGroups/${rg}`;
  const nsgIdOf = (sub: string, rg: string, name: string) => `${rgId(sub, rg)}/providers/Microsoft.Network/networkSecurityGroups/${name}`;

  const api: ArmResources = {
    vms,
    nics,
    nsgs,
    assignments,
    lro,
    mutations,
    allowed,
    grant(oid, scope, actions, notActions = []) {
      assignments.set(oid, [...(assignments.get(oid) ?? []), { scope, actions, notActions }]);
    },
    addNsg({ subscriptionId, resourceGroup, name, location = 'westeurope', rules = [] }) {
      groups.add(key(rgId(subscriptionId, resourceGroup)));
      const nsg: ArmNsg = { id: nsgIdOf(subscriptionId, resourceGroup, name), name, resourceGroup, location, rules, etag: etag() };
      nsgs.set(key(nsg.id), nsg);
      return nsg;
    },
    addVm({ subscriptionId, resourceGroup, name, location = 'westeurope', power = 'running', nics: nicSpecs = [{ name: `${name}-nic` }] }) {
      groups.add(key(rgId(subscriptionId, resourceGroup)));
      const vmId = `${rgId(subscriptionId, resourceGroup)}/providers/Microsoft.Compute/virtualMachines/${name}`;
      const made = nicSpecs.map((n, i): ArmNic => {
        const nic: ArmNic = {
          id: `${rgId(subscriptionId, resourceGroup)}/providers/Microsoft.Network/networkInterfaces/${n.name}`,
          name: n.name,
          resourceGroup,
          location,
          nsgId: n.nsgId ?? null,
          privateIp: n.privateIp ?? `10.0.0.${4 + i}`,
          vmId,
          etag: etag()
        };
        nics.set(key(nic.id), nic);
        return nic;
      });
      const vm: ArmVm = { id: vmId, name, resourceGroup, location, nicIds: made.map((n) => n.id), power };
      vms.set(key(vm.id), vm);
      return { vm, nics: made };
    }
  };

  // ---- wire shapes -------------------------------------------------------------------------------

  const vmJson = (vm: ArmVm) => ({
    id: vm.id,
    name: vm.name,
    type: 'Microsoft.Compute/virtualMachines',
    location: vm.location,
    properties: {
      vmId: randomUUID(),
      hardwareProfile: { vmSize: 'Standard_B2s' },
      provisioningState: 'Succeeded',
      networkProfile: { networkInterfaces: vm.nicIds.map((id, i) => ({ id, properties: { primary: i === 0 } })) }
    }
  });
  const POWER_TEXT: Record<PowerState, string> = {
    running: 'VM running',
    stopping: 'VM stopping',
    stopped: 'VM stopped',
    deallocating: 'VM deallocating',
    deallocated: 'VM deallocated',
    starting: 'VM starting'
  };
  const instanceViewJson = (vm: ArmVm) => ({
    computerName: vm.name,
    osName: 'ubuntu',
    statuses: [
      { code: 'ProvisioningState/succeeded', level: 'Info', displayStatus: 'Provisioning succeeded', time: new Date().toISOString() },
      { code: `PowerState/${vm.power}`, level: 'Info', displayStatus: POWER_TEXT[vm.power] }
    ]
  });
  const nicJson = (nic: ArmNic, provisioningState = 'Succeeded') => ({
    id: nic.id,
    name: nic.name,
    type: 'Microsoft.Network/networkInterfaces',
    location: nic.location,
    etag: nic.etag,
    properties: {
      provisioningState,
      ipConfigurations: [
        {
          id: `${nic.id}/ipConfigurations/ipconfig1`,
          name: 'ipconfig1',
          properties: { privateIPAddress: nic.privateIp, privateIPAllocationMethod: 'Dynamic', primary: true }
        }
      ],
      ...(nic.nsgId ? { networkSecurityGroup: { id: nic.nsgId } } : {}),
      ...(nic.vmId ? { virtualMachine: { id: nic.vmId } } : {}),
      primary: true
    }
  });
  const ruleJson = (nsg: ArmNsg, r: ArmSecurityRule, provisioningState = 'Succeeded') => {
    const { name, ...props } = r;
    return {
      id: `${nsg.id}/securityRules/${name}`,
      name,
      type: 'Microsoft.Network/networkSecurityGroups/securityRules',
      properties: { ...props, provisioningState }
    };
  };
  const nsgJson = (nsg: ArmNsg, provisioningState = 'Succeeded') => ({
    id: nsg.id,
    name: nsg.name,
    type: 'Microsoft.Network/networkSecurityGroups',
    location: nsg.location,
    etag: nsg.etag,
    properties: {
      provisioningState,
      securityRules: nsg.rules.map((r) => ruleJson(nsg, r)),
      defaultSecurityRules: [],
      networkInterfaces: [...nics.values()].filter((n) => n.nsgId && key(n.nsgId) === key(nsg.id)).map((n) => ({ id: n.id }))
    }
  });

  /** A rule from a PUT body, or the message why not. */
  function parseRule(name: string, body: unknown): ArmSecurityRule | string {
    const p = (body as { properties?: Record<string, unknown> } | null)?.properties;
    if (!p || typeof p !== 'object') return 'The request body has no properties.';
    const { priority, direction, access, protocol } = p;
    if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 100 || priority > 4096)
      return `Security rule ${name} has invalid Priority. Value provided: ${String(priority)} Allowed range 100-4096.`;
    if (direction !== 'Inbound' && direction !== 'Outbound') return `Security rule ${name} has an invalid direction.`;
    if (access !== 'Allow' && access !== 'Deny') return `Security rule ${name} has an invalid access.`;
    if (typeof protocol !== 'string' || !['*', 'Tcp', 'Udp', 'Icmp', 'Esp', 'Ah'].includes(protocol))
      return `Security rule ${name} has an invalid protocol.`;
    const strs = (v: unknown) => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined);
    const rule: ArmSecurityRule = {
      name,
      priority,
      direction,
      access,
      protocol,
      sourcePortRange: typeof p.sourcePortRange === 'string' ? p.sourcePortRange : '*',
      destinationPortRange: typeof p.destinationPortRange === 'string' ? p.destinationPortRange : '*'
    };
    if (typeof p.sourceAddressPrefix === 'string') rule.sourceAddressPrefix = p.sourceAddressPrefix;
    if (strs(p.sourceAddressPrefixes)?.length) rule.sourceAddressPrefixes = strs(p.sourceAddressPrefixes)!;
    if (typeof p.destinationAddressPrefix === 'string') rule.destinationAddressPrefix = p.destinationAddressPrefix;
    if (strs(p.destinationAddressPrefixes)?.length) rule.destinationAddressPrefixes = strs(p.destinationAddressPrefixes)!;
    if (!rule.sourceAddressPrefix && !rule.sourceAddressPrefixes) return `Security rule ${name} has no source address prefix.`;
    if (!rule.destinationAddressPrefix && !rule.destinationAddressPrefixes)
      return `Security rule ${name} has no destination address prefix.`;
    if (typeof p.description === 'string') {
      if (p.description.length > 140) return `Security rule ${name} has a description longer than 140 characters.`;
      rule.description = p.description;
    }
    return rule;
  }

  const conflict = (rules: ArmSecurityRule[]): string | null => {
    for (let i = 0; i < rules.length; i++)
      for (let j = i + 1; j < rules.length; j++)
        if (rules[i]!.priority === rules[j]!.priority && rules[i]!.direction === rules[j]!.direction)
          return `Security rule ${rules[j]!.name} conflicts with rule ${rules[i]!.name}. Rules cannot have the same Priority and Direction. To learn more, see aka.ms/nsgrules.`;
    return null;
  };

  // ---- long-running operations -------------------------------------------------------------------

  function startOperation(sub: string, namespace: string, location: string, apply: () => void): Record<string, string> {
    const op: Operation = { id: randomUUID(), subscriptionId: sub, remaining: lro.polls, apply, applied: false };
    operations.set(op.id, op);
    const base = `${deps.self()}/subscriptions/${sub}/providers/${namespace}/locations/${location}`;
    return {
      'azure-asyncoperation': `${base}/operations/${op.id}?api-version=2024-05-01`,
      location: `${base}/operationResults/${op.id}?api-version=2024-05-01`,
      'retry-after': '0'
    };
  }

  function advance(op: Operation): 'InProgress' | 'Succeeded' {
    if (op.remaining > 0) {
      op.remaining--;
      return 'InProgress';
    }
    if (!op.applied) {
      op.applied = true;
      op.apply();
    }
    return 'Succeeded';
  }

  // ---- request handling -------------------------------------------------------------------------

  async function handle(req: IncomingMessage, res: ServerResponse, ctx: PeerContext): Promise<boolean> {
    const path = ctx.url.pathname;
    const method = req.method ?? 'GET';
    const matched = Object.values(R).some((re) => re.test(path));
    if (!matched) return false;
    if (!ctx.url.searchParams.get('api-version')) {
      deps.armError(
        res,
        ctx,
        400,
        'MissingApiVersionParameter',
        'The api-version query parameter (?api-version=) is required for all requests.'
      );
      return true;
    }
    const claims = deps.authenticate(req, res, ctx);
    if (!claims) return true;
    const sub = deps.subscriptions.get(key(/^\/subscriptions\/([^/]+)/i.exec(path)![1]!));
    if (!sub) {
      deps.armError(
        res,
        ctx,
        404,
        'SubscriptionNotFound',
        `The subscription '${/^\/subscriptions\/([^/]+)/i.exec(path)![1]}' could not be found.`
      );
      return true;
    }
    if (sub.tenantId !== claims.tid) {
      deps.armError(
        res,
        ctx,
        401,
        'InvalidAuthenticationTokenTenant',
        'The access token is from the wrong issuer. It must match the tenant associated with this subscription.'
      );
      return true;
    }
    const s = sub.subscriptionId;
    const deny = (action: string, scope: string, code = 'AuthorizationFailed') => {
      deps.armError(
        res,
        ctx,
        403,
        code,
        code === 'LinkedAuthorizationFailed'
          ? `The client '${claims.appid}' with object id '${claims.oid}' has permission to perform the requested action but does not have authorization to perform action '${action}' on linked scope(s) '${scope}' or the linked scope(s) are invalid.`
          : `The client '${claims.appid}' with object id '${claims.oid}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`
      );
    };
    const authorize = (action: string, scope: string) => {
      if (allowed(claims.oid, action, scope)) return true;
      deny(action, scope);
      return false;
    };
    const notFound = (type: string, name: string, rg: string): true => {
      deps.armError(
        res,
        ctx,
        404,
        'ResourceNotFound',
        `The Resource '${type}/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`
      );
      return true;
    };
    const groupMissing = (rg: string) => {
      if (groups.has(key(rgId(s, rg)))) return false;
      deps.armError(res, ctx, 404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
      return true;
    };
    const body = (): unknown => {
      try {
        return JSON.parse(ctx.body) as unknown;
      } catch {
        return undefined;
      }
    };
    const badRequest = (code: string, message: string) => deps.armError(res, ctx, 400, code, message);
    let m: RegExpExecArray | null;

    // permissions at a resource group or the subscription: every assignment that applies there
    if (method === 'GET' && ((m = R.permissionsRg.exec(path)) || (m = R.permissionsSub.exec(path)))) {
      const scope = m[2] ? rgId(s, m[2]) : `/subscriptions/${s}`;
      if (m[2] && groupMissing(m[2])) return true;
      const value = (assignments.get(claims.oid) ?? [])
        .filter((a) => within(a.scope, scope))
        .map((a) => ({ actions: a.actions, notActions: a.notActions, dataActions: [], notDataActions: [] }));
      ctx.json(res, 200, { value });
      return true;
    }

    // operation status (Azure-AsyncOperation) and operation result (Location)
    if (method === 'GET' && ((m = R.operation.exec(path)) || (m = R.operationResult.exec(path)))) {
      const op = operations.get(m[4]!);
      const isResult = R.operationResult.test(path);
      if (!op || key(op.subscriptionId) !== key(s)) {
        deps.armError(res, ctx, 404, 'OperationNotFound', `The operation '${m[4]}' could not be found.`);
        return true;
      }
      const status = advance(op);
      if (isResult) {
        if (status === 'InProgress') ctx.json(res, 202, {}, { location: `${deps.self()}${path}${ctx.url.search}`, 'retry-after': '0' });
        else {
          res.writeHead(204);
          res.end();
        }
        return true;
      }
      ctx.json(
        res,
        200,
        { name: op.id, status, startTime: new Date().toISOString() },
        status === 'InProgress' ? { 'retry-after': '0' } : {}
      );
      return true;
    }

    // virtual machines
    if ((m = R.instanceView.exec(path)) && method === 'GET') {
      const id = `${rgId(s, m[2]!)}/providers/Microsoft.Compute/virtualMachines/${m[3]}`;
      if (!authorize('Microsoft.Compute/virtualMachines/read', id)) return true;
      if (groupMissing(m[2]!)) return true;
      const vm = vms.get(key(id));
      if (!vm) return notFound('Microsoft.Compute/virtualMachines', m[3]!, m[2]!);
      ctx.json(res, 200, instanceViewJson(vm));
      return true;
    }
    if ((m = R.power.exec(path)) && method === 'POST') {
      const id = `${rgId(s, m[2]!)}/providers/Microsoft.Compute/virtualMachines/${m[3]}`;
      const action = m[4]!.toLowerCase() === 'poweroff' ? 'powerOff' : m[4]!.toLowerCase() === 'deallocate' ? 'deallocate' : 'start';
      if (!authorize(`Microsoft.Compute/virtualMachines/${action}/action`, id)) return true;
      if (groupMissing(m[2]!)) return true;
      const vm = vms.get(key(id));
      if (!vm) return notFound('Microsoft.Compute/virtualMachines', m[3]!, m[2]!);
      const [during, after] = (
        { powerOff: ['stopping', 'stopped'], deallocate: ['deallocating', 'deallocated'], start: ['starting', 'running'] } as const
      )[action];
      vm.power = during;
      mutations.push(`POST ${action} ${vm.name}`);
      const headers = startOperation(s, 'Microsoft.Compute', vm.location, () => {
        vm.power = after;
      });
      res.writeHead(202, { ...headers, 'content-length': '0' });
      res.end();
      return true;
    }
    if ((m = R.vm.exec(path)) && method === 'GET') {
      const id = `${rgId(s, m[2]!)}/providers/Microsoft.Compute/virtualMachines/${m[3]}`;
      if (!authorize('Microsoft.Compute/virtualMachines/read', id)) return true;
      if (groupMissing(m[2]!)) return true;
      const vm = vms.get(key(id));
      if (!vm) return notFound('Microsoft.Compute/virtualMachines', m[3]!, m[2]!);
      ctx.json(res, 200, vmJson(vm));
      return true;
    }

    // network interfaces
    if ((m = R.nic.exec(path))) {
      const id = `${rgId(s, m[2]!)}/providers/Microsoft.Network/networkInterfaces/${m[3]}`;
      if (method === 'GET') {
        if (!authorize('Microsoft.Network/networkInterfaces/read', id)) return true;
        if (groupMissing(m[2]!)) return true;
        const nic = nics.get(key(id));
        if (!nic) return notFound('Microsoft.Network/networkInterfaces', m[3]!, m[2]!);
        ctx.json(res, 200, nicJson(nic));
        return true;
      }
      if (method === 'PUT') {
        if (!authorize('Microsoft.Network/networkInterfaces/write', id)) return true;
        if (groupMissing(m[2]!)) return true;
        const nic = nics.get(key(id));
        if (!nic) {
          badRequest('InvalidRequestFormat', 'This peer does not create network interfaces.');
          return true;
        }
        const b = body() as { location?: unknown; properties?: { networkSecurityGroup?: { id?: unknown } | null } } | undefined;
        if (!b || typeof b.location !== 'string' || !b.properties) {
          badRequest('InvalidRequestFormat', 'Cannot parse the request.');
          return true;
        }
        const nsgRef = b.properties.networkSecurityGroup;
        const wanted = nsgRef && typeof nsgRef.id === 'string' ? nsgRef.id : null;
        if (wanted !== null) {
          const nsg = nsgs.get(key(wanted));
          if (!nsg) {
            badRequest(
              'InvalidResourceReference',
              `Resource ${wanted} referenced by resource ${nic.id} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.`
            );
            return true;
          }
          if (
            (!nic.nsgId || key(nic.nsgId) !== key(wanted)) &&
            !allowed(claims.oid, 'Microsoft.Network/networkSecurityGroups/join/action', nsg.id)
          ) {
            deny('Microsoft.Network/networkSecurityGroups/join/action', nsg.id, 'LinkedAuthorizationFailed');
            return true;
          }
          if (key(nsg.location) !== key(nic.location)) {
            badRequest(
              'InvalidResourceReference',
              `Resource ${nsg.id} referenced by resource ${nic.id} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.`
            );
            return true;
          }
        }
        mutations.push(`PUT nic ${nic.name} nsg=${wanted ?? 'none'}`);
        const headers = startOperation(s, 'Microsoft.Network', nic.location, () => {
          nic.nsgId = wanted;
          nic.etag = etag();
        });
        ctx.json(res, 200, { ...nicJson({ ...nic, nsgId: wanted }, 'Updating') }, headers);
        return true;
      }
    }

    // security rules
    if ((m = R.rule.exec(path))) {
      const nsgId = nsgIdOf(s, m[2]!, m[3]!);
      const name = decodeURIComponent(m[4]!);
      const ruleId = `${nsgId}/securityRules/${name}`;
      const action = { GET: 'read', PUT: 'write', DELETE: 'delete' }[method];
      if (!action) return false;
      if (!authorize(`Microsoft.Network/networkSecurityGroups/securityRules/${action}`, ruleId)) return true;
      if (groupMissing(m[2]!)) return true;
      const nsg = nsgs.get(key(nsgId));
      if (!nsg) return notFound('Microsoft.Network/networkSecurityGroups', m[3]!, m[2]!);
      const existing = nsg.rules.find((r) => key(r.name) === key(name));
      if (method === 'GET') {
        if (!existing) return notFound(`Microsoft.Network/networkSecurityGroups/${nsg.name}/securityRules`, name, m[2]!);
        ctx.json(res, 200, ruleJson(nsg, existing));
        return true;
      }
      if (method === 'DELETE') {
        if (!existing) {
          res.writeHead(204);
          res.end();
          return true;
        }
        mutations.push(`DELETE rule ${nsg.name}/${existing.name}`);
        const headers = startOperation(s, 'Microsoft.Network', nsg.location, () => {
          nsg.rules = nsg.rules.filter((r) => r !== existing);
          nsg.etag = etag();
        });
        res.writeHead(202, { ...headers, 'content-length': '0' });
        res.end();
        return true;
      }
      const rule = parseRule(name, body());
      if (typeof rule === 'string') {
        badRequest('InvalidRequestFormat', rule);
        return true;
      }
      const next = [...nsg.rules.filter((r) => r !== existing), rule];
      const c = conflict(next);
      if (c) {
        badRequest('SecurityRuleConflict', c);
        return true;
      }
      mutations.push(`PUT rule ${nsg.name}/${name}`);
      const headers = startOperation(s, 'Microsoft.Network', nsg.location, () => {
        nsg.rules = [...nsg.rules.filter((r) => key(r.name) !== key(name)), rule];
        nsg.etag = etag();
      });
      ctx.json(res, existing ? 200 : 201, ruleJson(nsg, rule, 'Updating'), headers);
      return true;
    }

    // network security groups
    if ((m = R.nsg.exec(path))) {
      const id = nsgIdOf(s, m[2]!, m[3]!);
      if (method === 'GET') {
        if (!authorize('Microsoft.Network/networkSecurityGroups/read', id)) return true;
        if (groupMissing(m[2]!)) return true;
        const nsg = nsgs.get(key(id));
        if (!nsg) return notFound('Microsoft.Network/networkSecurityGroups', m[3]!, m[2]!);
        ctx.json(res, 200, nsgJson(nsg));
        return true;
      }
      if (method === 'PUT') {
        if (!authorize('Microsoft.Network/networkSecurityGroups/write', id)) return true;
        if (groupMissing(m[2]!)) return true;
        const b = body() as { location?: unknown; properties?: { securityRules?: unknown } } | undefined;
        if (!b || typeof b.location !== 'string') {
          badRequest('LocationRequired', 'The location property is required for this definition.');
          return true;
        }
        const raw = Array.isArray(b.properties?.securityRules) ? (b.properties.securityRules as unknown[]) : [];
        const rules: ArmSecurityRule[] = [];
        for (const r of raw) {
          const name = (r as { name?: unknown }).name;
          if (typeof name !== 'string' || !name) {
            badRequest('InvalidRequestFormat', 'A security rule has no name.');
            return true;
          }
          const parsed = parseRule(name, r);
          if (typeof parsed === 'string') {
            badRequest('InvalidRequestFormat', parsed);
            return true;
          }
          rules.push(parsed);
        }
        const c = conflict(rules);
        if (c) {
          badRequest('SecurityRuleConflict', c);
          return true;
        }
        const existing = nsgs.get(key(id));
        const location = b.location;
        mutations.push(`PUT nsg ${m[3]}`);
        const draft: ArmNsg = { id, name: m[3]!, resourceGroup: m[2]!, location, rules, etag: etag() };
        const headers = startOperation(s, 'Microsoft.Network', location, () => {
          if (existing) Object.assign(existing, { rules, etag: etag() });
          else nsgs.set(key(id), draft);
        });
        ctx.json(res, existing ? 200 : 201, nsgJson(existing ? { ...existing, rules } : draft, 'Updating'), headers);
        return true;
      }
    }
    deps.armError(res, ctx, 405, 'MethodNotAllowed', `The requested method ${method} is not allowed for ${path}.`);
    return true;
  }

  return {
    api,
    handle,
    resetLog() {
      mutations.length = 0;
    }
  };
}
