import { endpointUrl, field, pattern, type ProviderSpec } from '../spec.ts';

export const agentsocMailBlockSpec: ProviderSpec = {
  id: 'agentsoc_mail_block',
  label: 'AgentSOC mail blocklist',
  tenantScoped: true,
  modes: [
    {
      id: 'bearer_token',
      label: 'Bearer token',
      rotationDays: 90,
      fields: [
        field({
          name: 'token',
          label: 'Bearer token',
          secret: true,
          rule: pattern('Bearer token', /^[\x21-\x7E]{16,2048}$/, 'a bearer token (16–2048 printable characters)', 2048)
        }),
        field({
          name: 'blocklist_url',
          label: 'Blocklist service URL',
          kind: 'url',
          endpoint: true,
          placeholder: 'https://blocklist.example',
          rule: endpointUrl('Blocklist service URL')
        })
      ],
      describe: (v) => {
        try {
          return v.blocklist_url ? { blocklist_host: new URL(v.blocklist_url).host } : {};
        } catch {
          return {};
        }
      }
    }
  ],
  capabilities: [
    { id: 'block_email_domain', label: 'Block a sender domain (blocklist entry)', permissions: ['blocklist token with write access'] }
  ],
  validationPermissions: ['GET /v1/entries (read)']
};
