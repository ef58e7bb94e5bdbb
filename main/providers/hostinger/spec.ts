import { endpointField, field, pattern, type ProviderSpec } from '../spec.ts';

export const hostingerSpec: ProviderSpec = {
  id: 'hostinger',
  label: 'Hostinger',
  tenantScoped: false,
  modes: [
    {
      id: 'api_token',
      label: 'API token',
      rotationDays: 90,
      fields: [
        field({
          name: 'api_token',
          label: 'API token',
          secret: true,
          help: 'hPanel → Account → API.',
          rule: pattern('API token', /^\S{16,512}$/, 'an API token (16–512 characters, no spaces)', 512)
        }),
        endpointField('api_base_url', 'API base URL', 'Override the Hostinger API base URL.', 'https://developers.hostinger.com')
      ]
    }
  ],
  capabilities: [
    { id: 'power', label: 'Power a VPS off (revert: start it)', permissions: ['API token with VPS access on an account with a VPS plan'] }
  ],
  validationPermissions: ['VPS API read (GET /api/vps/v1/virtual-machines)']
};
