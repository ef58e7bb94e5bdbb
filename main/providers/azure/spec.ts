import {
  certificateFacts,
  certificatePem,
  clientSecretRule,
  endpointField,
  field,
  guid,
  pattern,
  tenantId,
  type FieldSpec,
  type ProviderSpec
} from '../spec.ts';
import { NSG_ID_RE, parseVmId } from './ids.ts';

/** A certificate with its private key, in PEM: the secret of every Entra certificate mode (Azure, Microsoft 365). */
export const entraCertificateField = field({
  name: 'certificate_pem',
  label: 'Certificate + private key (PEM)',
  secret: true,
  multiline: true,
  kind: 'pem',
  rule: certificatePem('Certificate PEM')
});

/** block_ip's default scope: the NSG its deny rules go into when a run names none. */
const blockScope = field({
  name: 'block_scope',
  label: 'Default block_ip NSG',
  required: false,
  placeholder: '/subscriptions/…/resourceGroups/…/providers/Microsoft.Network/networkSecurityGroups/…',
  help: 'The network security group block_ip adds its deny rules to when a run names none (its resource id).',
  rule: pattern(
    'Default block_ip NSG',
    NSG_ID_RE,
    'a network security group resource id (/subscriptions/…/networkSecurityGroups/NAME)',
    400
  )
});

const VM_TARGET = {
  label: 'Azure VM resource id',
  placeholder: '/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.Compute/virtualMachines/{name}'
};

const common = (secretField: FieldSpec): FieldSpec[] => [
  field({ name: 'tenant_id', label: 'Tenant ID', rule: tenantId('Tenant ID') }),
  field({ name: 'client_id', label: 'Client (application) ID', secret: true, last4: true, kind: 'uuid', rule: guid('Client ID') }),
  secretField,
  field({ name: 'subscription_id', label: 'Subscription ID', kind: 'uuid', rule: guid('Subscription ID') }),
  endpointField(
    'authority_host',
    'Authority host',
    'Sovereign clouds: e.g. https://login.microsoftonline.us',
    'https://login.microsoftonline.com'
  ),
  endpointField(
    'arm_endpoint',
    'Resource Manager endpoint',
    'Sovereign clouds: e.g. https://management.usgovcloudapi.net',
    'https://management.azure.com'
  ),
  blockScope
];

export const azureSpec: ProviderSpec = {
  id: 'azure',
  label: 'Microsoft Azure',
  tenantScoped: false,
  modes: [
    {
      id: 'client_secret',
      label: 'Service principal (client secret)',
      rotationDays: 90,
      fields: common(field({ name: 'client_secret', label: 'Client secret', secret: true, rule: clientSecretRule }))
    },
    {
      id: 'certificate',
      label: 'Service principal (certificate)',
      rotationDays: 365,
      fields: common(entraCertificateField),
      describe: (v) => {
        const facts = v.certificate_pem ? certificateFacts(v.certificate_pem) : null;
        return facts ? { certificate_thumbprint: facts.thumbprint, certificate_expires_at: facts.notAfter } : {};
      },
      expiry: (v) => (v.certificate_pem ? (certificateFacts(v.certificate_pem)?.notAfter ?? null) : null)
    }
  ],
  // Permissions: learn.microsoft.com/azure/role-based-access-control/permissions/networking and …/permissions/compute.
  capabilities: [
    {
      id: 'isolate',
      label: 'Isolate a VM (quarantine NSG on each NIC)',
      permissions: [
        'Microsoft.Compute/virtualMachines/read',
        'Microsoft.Network/networkInterfaces/read',
        'Microsoft.Network/networkInterfaces/write',
        'Microsoft.Network/networkSecurityGroups/read',
        'Microsoft.Network/networkSecurityGroups/write',
        'Microsoft.Network/networkSecurityGroups/join/action'
      ],
      note: 'Moves every NIC of the VM to keydesk-quarantine-{region} (deny all in and out at priority 100) in the VM’s resource group; the revert restores each NIC’s NSG.',
      target: VM_TARGET
    },
    {
      id: 'block_ip',
      label: 'Block an IP address (NSG deny rules)',
      permissions: [
        'Microsoft.Network/networkSecurityGroups/read',
        'Microsoft.Network/networkSecurityGroups/securityRules/write',
        'Microsoft.Network/networkSecurityGroups/securityRules/delete'
      ],
      note: 'Adds an Inbound and an Outbound Deny rule at the lowest free priority; the revert deletes exactly those.',
      target: { label: 'IPv4/IPv6 address or CIDR block', placeholder: '203.0.113.7 or 203.0.113.0/24' },
      scope: {
        label: 'network security group',
        placeholder: '/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.Network/networkSecurityGroups/{name}',
        field: 'block_scope'
      }
    },
    {
      id: 'power',
      label: 'Power a VM off (or deallocate it)',
      permissions: [
        'Microsoft.Compute/virtualMachines/read',
        'Microsoft.Compute/virtualMachines/powerOff/action',
        'Microsoft.Compute/virtualMachines/deallocate/action',
        'Microsoft.Compute/virtualMachines/start/action'
      ],
      note: 'The revert starts the VM only if this run powered it off.',
      target: VM_TARGET,
      options: [
        {
          name: 'deallocate',
          label: 'Deallocate',
          help: 'Deallocate the VM (releases its compute and stops billing for it; its dynamic public IP may change) instead of only powering it off.',
          default: false
        }
      ]
    }
  ],
  validationPermissions: ['Reader on the subscription (Microsoft.Resources/subscriptions/read)'],
  accounts: {
    ofTarget: (target) => parseVmId(target)?.subscriptionId ?? null,
    ofCredential: (fields, identity) => (fields.subscription_id ?? identity.subscription_id ?? null)?.toLowerCase() ?? null
  }
};
