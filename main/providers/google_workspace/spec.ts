import { serviceAccountKeyField } from '../gcp/spec.ts';
import { emailAddress, endpointField, field, jsonField, pattern, scopeList, type ProviderSpec } from '../spec.ts';

export const WORKSPACE_SCOPES = {
  userRead: 'https://www.googleapis.com/auth/admin.directory.user.readonly',
  userWrite: 'https://www.googleapis.com/auth/admin.directory.user',
  domainRead: 'https://www.googleapis.com/auth/admin.directory.domain.readonly',
  gmailSettings: 'https://www.googleapis.com/auth/gmail.settings.basic'
} as const;

const tokenUrl = endpointField(
  'token_url',
  'Token URL',
  'Override Google’s OAuth token endpoint (a proxy).',
  'https://oauth2.googleapis.com/token'
);
const apiBase = endpointField('api_base_url', 'API base URL', 'Override the Google APIs base URL (a proxy).', 'https://www.googleapis.com');

export const googleWorkspaceSpec: ProviderSpec = {
  id: 'google_workspace',
  label: 'Google Workspace',
  tenantScoped: true,
  modes: [
    {
      id: 'service_account_dwd',
      label: 'Service account with domain-wide delegation',
      rotationDays: 30,
      fields: [
        serviceAccountKeyField,
        field({
          name: 'delegated_admin_email',
          label: 'Delegated admin email',
          kind: 'email',
          help: 'A Workspace admin the service account impersonates.',
          rule: emailAddress('Delegated admin email')
        }),
        field({
          name: 'customer_id',
          label: 'Customer ID',
          placeholder: 'C01234abc',
          help: 'Admin console → Account → Account settings; or my_customer.',
          rule: pattern('Customer ID', /^(my_customer|C[0-9a-z]{5,20})$/i, 'a Workspace customer id such as C01234abc (or my_customer)', 32)
        }),
        tokenUrl,
        apiBase
      ],
      describe: (v) => {
        const j = jsonField(v.service_account_json);
        return typeof j?.client_email === 'string' ? { client_email: j.client_email } : {};
      }
    },
    {
      id: 'oauth_user',
      label: 'OAuth user consent',
      oauth: true,
      rotationDays: 90,
      fields: [
        field({
          name: 'client_id',
          label: 'OAuth client ID',
          placeholder: '…apps.googleusercontent.com',
          rule: pattern('OAuth client ID', /^[\w.-]{8,256}$/, 'an OAuth client id', 256)
        }),
        field({
          name: 'client_secret',
          label: 'OAuth client secret',
          secret: true,
          required: false,
          rule: pattern('OAuth client secret', /^\S{8,256}$/, 'an OAuth client secret', 256)
        }),
        endpointField(
          'authorization_url',
          'Authorization URL',
          'Override Google’s authorization endpoint.',
          'https://accounts.google.com/o/oauth2/v2/auth'
        ),
        tokenUrl,
        endpointField('revocation_url', 'Revocation URL', 'Override Google’s revocation endpoint.', 'https://oauth2.googleapis.com/revoke'),
        apiBase,
        field({
          name: 'scopes',
          label: 'Scopes',
          kind: 'scopes',
          required: false,
          help: 'Default: openid email and the Directory and Gmail scopes the capabilities need.',
          rule: scopeList('Scopes')
        })
      ]
    }
  ],
  capabilities: [
    {
      id: 'block_sender',
      label: 'Block a sender (Gmail filter)',
      permissions: [WORKSPACE_SCOPES.gmailSettings],
      note: 'Domain-wide delegation filters the protected mailbox; an oauth_user credential can filter only its own mailbox.'
    },
    {
      id: 'block_email_domain',
      label: 'Block a sender domain (Gmail filter in each mailbox)',
      permissions: [WORKSPACE_SCOPES.gmailSettings, WORKSPACE_SCOPES.userRead],
      modes: ['service_account_dwd'],
      note: 'Creates a filter in each mailbox of the domain that exists at the time; mailboxes created later are not covered.'
    },
    {
      id: 'disable_user',
      label: 'Suspend a user (Directory API)',
      permissions: [WORKSPACE_SCOPES.userWrite],
      note: 'oauth_user needs a Workspace admin to consent.'
    }
  ],
  validationPermissions: [WORKSPACE_SCOPES.userRead, WORKSPACE_SCOPES.domainRead]
};
