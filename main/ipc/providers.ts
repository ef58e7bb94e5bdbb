import type { ProviderView, providerChannels } from '../../preload/contract.ts';
import { PROVIDER_SPECS } from '../providers/catalog.ts';
import type { ProviderSpec } from '../providers/spec.ts';
import type { DomainHandlers } from './dispatch.ts';

/** The static catalog as plain data: labels and field rules for the form, no schemas or functions. */
export function providerView(p: ProviderSpec): ProviderView {
  return {
    id: p.id,
    label: p.label,
    tenantScoped: p.tenantScoped,
    modes: p.modes.map((m) => ({
      id: m.id,
      label: m.label,
      oauth: m.oauth ?? false,
      rotationDays: m.rotationDays,
      fields: m.fields.map((f) => ({
        name: f.name,
        label: f.label,
        secret: f.secret,
        required: f.required,
        multiline: f.multiline ?? false,
        kind: f.kind,
        last4: f.last4 ?? false,
        endpoint: f.endpoint ?? false,
        help: f.help ?? null,
        placeholder: f.placeholder ?? null
      }))
    })),
    capabilities: p.capabilities.map((c) => ({ id: c.id, label: c.label, permissions: [...c.permissions], modes: c.modes ? [...c.modes] : null, note: c.note ?? null })),
    validationPermissions: [...p.validationPermissions]
  };
}

export function providerHandlers(): DomainHandlers<typeof providerChannels> {
  const catalog = PROVIDER_SPECS.map(providerView);
  return {
    'providers.list': () => structuredClone(catalog)
  };
}
