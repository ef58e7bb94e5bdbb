/**
 * Azure resource ids the host capabilities take (pure; the spec and the handlers share them). ARM treats ids
 * case-insensitively: the patterns do too, and a parsed id is rebuilt with ARM's casing of the provider segments.
 */

const GUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
/** Resource group names: 1–90 of letters, digits, _ ( ) - . (not ending in a period). */
const RG = '[-\\w().]{0,89}[-\\w()]';
const VM_RE = new RegExp(
  `^/subscriptions/(${GUID})/resourceGroups/(${RG})/providers/Microsoft\\.Compute/virtualMachines/([A-Za-z0-9_][-\\w.]{0,62}[\\w-]|[A-Za-z0-9_])$`,
  'i'
);
export const NSG_ID_RE = new RegExp(
  `^/subscriptions/(${GUID})/resourceGroups/(${RG})/providers/Microsoft\\.Network/networkSecurityGroups/([A-Za-z0-9][-\\w.]{0,78}[\\w]|[A-Za-z0-9])$`,
  'i'
);
const NIC_RE = new RegExp(
  `^/subscriptions/(${GUID})/resourceGroups/(${RG})/providers/Microsoft\\.Network/networkInterfaces/([A-Za-z0-9][-\\w.]{0,78}[\\w]|[A-Za-z0-9])$`,
  'i'
);

export interface ResourceRef {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  /** The canonical id (provider segments in ARM's casing). */
  id: string;
}

function parse(re: RegExp, type: string, id: string): ResourceRef | null {
  const m = re.exec(id);
  if (!m) return null;
  const [, subscriptionId, resourceGroup, name] = m as unknown as [string, string, string, string];
  return {
    subscriptionId: subscriptionId.toLowerCase(),
    resourceGroup,
    name,
    id: `/subscriptions/${subscriptionId.toLowerCase()}/resourceGroups/${resourceGroup}/providers/${type}/${name}`
  };
}

export const parseVmId = (id: string) => parse(VM_RE, 'Microsoft.Compute/virtualMachines', id);
export const parseNsgId = (id: string) => parse(NSG_ID_RE, 'Microsoft.Network/networkSecurityGroups', id);
export const parseNicId = (id: string) => parse(NIC_RE, 'Microsoft.Network/networkInterfaces', id);

/** ARM ids compare case-insensitively. */
export const sameId = (a: string | null | undefined, b: string | null | undefined): boolean =>
  (a ?? null) === null || (b ?? null) === null ? (a ?? null) === (b ?? null) : a!.toLowerCase() === b!.toLowerCase();
