import { entraCertificateField } from '../azure/spec.ts';
import {
  certificateFacts,
  clientSecretRule,
  endpointField,
  field,
  guid,
  scopeList,
  tenantId,
  type FieldSpec,
  type ProviderSpec
} from '../spec.ts';

const endpoints: FieldSpec[] = [
  endpointField(
    'authority_host',
    'Authority host',
    'Sovereign clouds: e.g. https://login.microsoftonline.us',
    'https://login.microsoftonline.com'
  ),
  endpointField('graph_endpoint', 'Graph endpoint', 'Sovereign clouds: e.g. https://graph.microsoft.us', 'https://graph.microsoft.com'),
  endpointField(
    'exchange_endpoint',
    'Exchange Online endpoint',
    'Used for the Tenant Allow/Block List (block_email_domain).',
    'https://outlook.office365.com'
  )
];
const tenant = field({ name: 'tenant_id', label: 'Tenant ID', rule: tenantId('Tenant ID') });
const confidentialClientId = field({
  name: 'client_id',
  label: 'Client (application) ID',
  secret: true,
  last4: true,
  kind: 'uuid',
  rule: guid('Client ID')
});

export const microsoft365Spec: ProviderSpec = {
  id: 'microsoft_365',
  label: 'Microsoft 365',
  tenantScoped: true,
  modes: [
    {
      id: 'client_secret',
      label: 'Entra app (client secret)',
      rotationDays: 90,
      fields: [
        tenant,
        confidentialClientId,
        field({ name: 'client_secret', label: 'Client secret', secret: true, rule: clientSecretRule }),
        ...endpoints
      ]
    },
    {
      id: 'certificate',
      label: 'Entra app (certificate)',
      rotationDays: 365,
      fields: [tenant, confidentialClientId, entraCertificateField, ...endpoints],
      describe: (v) => {
        const facts = v.certificate_pem ? certificateFacts(v.certificate_pem) : null;
        return facts ? { certificate_thumbprint: facts.thumbprint, certificate_expires_at: facts.notAfter } : {};
      },
      expiry: (v) => (v.certificate_pem ? (certificateFacts(v.certificate_pem)?.notAfter ?? null) : null)
    },
    {
      id: 'oauth_delegated',
      label: 'OAuth delegated consent',
      oauth: true,
      rotationDays: 90,
      fields: [
        tenant,
        field({
          name: 'client_id',
          label: 'Client (application) ID',
          kind: 'uuid',
          help: 'A public client app registration.',
          rule: guid('Client ID')
        }),
        ...endpoints,
        field({
          name: 'scopes',
          label: 'Scopes',
          kind: 'scopes',
          required: false,
          help: 'Default: the delegated Graph permissions the capabilities need.',
          rule: scopeList('Scopes')
        })
      ]
    }
  ],
  capabilities: [
    { id: 'block_sender', label: 'Block a sender (inbox rule)', permissions: ['MailboxSettings.ReadWrite'] },
    {
      id: 'block_email_domain',
      label: 'Block a sender domain (Tenant Allow/Block List)',
      permissions: ['Exchange.ManageAsApp', 'Exchange admin role (Security Administrator)'],
      modes: ['client_secret', 'certificate'],
      note: 'Uses Exchange Online’s admin REST endpoint (InvokeCommand, New-/Remove-TenantAllowBlockListItems); there is no documented Graph API for it.'
    },
    { id: 'disable_user', label: 'Disable a user (block sign-in, revoke sessions)', permissions: ['User.ReadWrite.All'] }
  ],
  validationPermissions: ['Directory.Read.All (or Organization.Read.All) to read /organization']
};
