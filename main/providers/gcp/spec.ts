import { endpointField, externalAccountJson, field, jsonField, serviceAccountJson, type ProviderSpec } from '../spec.ts';

/** A service account's JSON key: the secret of every Google service-account mode (GCP, Workspace delegation). */
export const serviceAccountKeyField = field({
  name: 'service_account_json',
  label: 'Service account JSON key',
  secret: true,
  multiline: true,
  kind: 'json',
  rule: serviceAccountJson('Service account JSON')
});

const tokenUrl = endpointField(
  'token_url',
  'Token URL',
  'Override the OAuth token endpoint (a proxy or a private endpoint).',
  'https://oauth2.googleapis.com/token'
);
const apiBase = endpointField(
  'api_base_url',
  'API base URL',
  'Override the Google APIs base URL.',
  'https://cloudresourcemanager.googleapis.com'
);

export const gcpSpec: ProviderSpec = {
  id: 'gcp',
  label: 'Google Cloud',
  tenantScoped: false,
  modes: [
    {
      id: 'service_account_key',
      label: 'Service account key',
      rotationDays: 30,
      fields: [serviceAccountKeyField, tokenUrl, apiBase],
      describe: (v) => {
        const j = jsonField(v.service_account_json);
        const out: Record<string, string> = {};
        if (typeof j?.project_id === 'string') out.project_id = j.project_id;
        if (typeof j?.client_email === 'string') out.client_email = j.client_email;
        if (typeof j?.private_key_id === 'string') out.private_key_id_last4 = j.private_key_id.slice(-4);
        return out;
      }
    },
    {
      id: 'external_account',
      label: 'Workload identity federation',
      rotationDays: 365,
      fields: [
        field({
          name: 'external_account_json',
          label: 'External account JSON',
          secret: true,
          multiline: true,
          kind: 'json',
          help: 'url or file credential sources only; executable sources are refused.',
          rule: externalAccountJson('External account JSON')
        }),
        tokenUrl,
        apiBase
      ],
      describe: (v) => {
        const j = jsonField(v.external_account_json);
        const out: Record<string, string> = {};
        if (typeof j?.audience === 'string') out.audience = j.audience;
        const imp = j?.service_account_impersonation_url;
        if (typeof imp === 'string') {
          const m = /serviceAccounts\/([^:/]+):generateAccessToken/.exec(imp);
          if (m?.[1]) out.impersonated_account = decodeURIComponent(m[1]);
        }
        const src = j?.credential_source;
        if (src && typeof src === 'object') out.source_kind = 'url' in src ? 'url' : 'file' in src ? 'file' : 'other';
        return out;
      }
    }
  ],
  capabilities: [],
  validationPermissions: ['resourcemanager.projects.get on the project (roles/browser)']
};
