import {
  certificateFacts,
  certificatePem,
  clientSecretRule,
  endpointField,
  field,
  guid,
  tenantId,
  type FieldSpec,
  type ProviderSpec
} from '../spec.ts';

/** A certificate with its private key, in PEM: the secret of every Entra certificate mode (Azure, Microsoft 365). */
export const entraCertificateField = field({
  name: 'certificate_pem',
  label: 'Certificate + private key (PEM)',
  secret: true,
  multiline: true,
  kind: 'pem',
  rule: certificatePem('Certificate PEM')
});

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
  )
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
  capabilities: [],
  validationPermissions: ['Reader on the subscription (Microsoft.Resources/subscriptions/read)']
};
