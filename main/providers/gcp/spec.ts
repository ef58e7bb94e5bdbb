import { endpointField, externalAccountJson, field, jsonField, pattern, serviceAccountJson, type ProviderSpec } from '../spec.ts';
import { NETWORK_PATTERN, projectOf } from './targets.ts';

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
const computeEndpoint = endpointField(
  'compute_endpoint',
  'Compute Engine API URL',
  'Override the Compute Engine API base URL (response actions).',
  'https://compute.googleapis.com'
);
const blockScope = field({
  name: 'block_scope',
  label: 'Default network for block_ip',
  required: false,
  help: 'The VPC network block_ip adds its deny rules to when a run names none.',
  placeholder: 'projects/my-project/global/networks/default',
  rule: pattern('Default network', NETWORK_PATTERN, 'a VPC network: projects/PROJECT/global/networks/NETWORK', 200)
});

/**
 * The exact IAM permissions each capability's calls need (Compute Engine REST v1 reference, "IAM Permissions" of
 * each method; firewalls.insert / delete also need compute.networks.updatePolicy on the rule's network). Readiness
 * asks projects.testIamPermissions for their union.
 */
export const GCP_CAPABILITY_PERMISSIONS = {
  isolate: [
    'compute.instances.get',
    'compute.instances.setTags',
    'compute.zoneOperations.get',
    'compute.firewalls.list',
    'compute.firewalls.create',
    'compute.networks.updatePolicy',
    'compute.globalOperations.get'
  ],
  block_ip: [
    'compute.firewalls.list',
    'compute.firewalls.get',
    'compute.firewalls.create',
    'compute.firewalls.delete',
    'compute.networks.updatePolicy',
    'compute.globalOperations.get'
  ],
  power: ['compute.instances.get', 'compute.instances.stop', 'compute.instances.start', 'compute.zoneOperations.get']
} as const;

const INSTANCE_TARGET = { label: 'Compute Engine instance', placeholder: 'projects/my-project/zones/europe-west1-b/instances/web-1' };
const ACCESS_NOTE = 'Token scope https://www.googleapis.com/auth/compute only; an impersonated account gets a 15-minute token per run.';

export const gcpSpec: ProviderSpec = {
  id: 'gcp',
  label: 'Google Cloud',
  tenantScoped: false,
  modes: [
    {
      id: 'service_account_key',
      label: 'Service account key',
      rotationDays: 30,
      fields: [serviceAccountKeyField, tokenUrl, apiBase, computeEndpoint, blockScope],
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
        apiBase,
        computeEndpoint,
        blockScope
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
  capabilities: [
    {
      id: 'isolate',
      label: 'Isolate an instance (quarantine network tag + deny-all firewall rules, in and out)',
      permissions: [...GCP_CAPABILITY_PERMISSIONS.isolate],
      note: ACCESS_NOTE,
      target: INSTANCE_TARGET
    },
    {
      id: 'block_ip',
      label: 'Block an IP address or CIDR block (deny firewall rules at priority 0, in and out)',
      permissions: [...GCP_CAPABILITY_PERMISSIONS.block_ip],
      note: ACCESS_NOTE,
      target: { label: 'IPv4 / IPv6 address or CIDR block', placeholder: '203.0.113.7 or 2001:db8::/48' },
      scope: { label: 'VPC network', placeholder: 'projects/my-project/global/networks/default', field: 'block_scope' }
    },
    {
      id: 'power',
      label: 'Stop an instance (revert: start it, if this run stopped it)',
      permissions: [...GCP_CAPABILITY_PERMISSIONS.power],
      note: ACCESS_NOTE,
      target: INSTANCE_TARGET
    }
  ],
  validationPermissions: [
    'resourcemanager.projects.get on the project (roles/browser)',
    'projects.testIamPermissions (readiness; needs no permission)'
  ],
  accounts: {
    ofTarget: (target) => projectOf(target),
    ofCredential: (fields, identity) => {
      if (identity.project_id) return identity.project_id;
      if (fields.project_id) return fields.project_id;
      const sa = identity.impersonated_account ?? fields.impersonated_account ?? fields.client_email;
      return (sa && /@([a-z][a-z0-9-]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com$/.exec(sa)?.[1]) ?? null;
    }
  }
};
