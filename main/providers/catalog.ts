import { agentsocMailBlockSpec } from './agentsoc_mail_block/spec.ts';
import { awsSpec } from './aws/spec.ts';
import { azureSpec } from './azure/spec.ts';
import { gcpSpec } from './gcp/spec.ts';
import { googleWorkspaceSpec } from './google_workspace/spec.ts';
import { hostingerSpec } from './hostinger/spec.ts';
import { microsoft365Spec } from './microsoft_365/spec.ts';
import { oauthSpec } from './oauth/spec.ts';
import type { FieldSpec, ModeSpec, ProviderId, ProviderSpec } from './spec.ts';
import type { ProviderView } from '../../preload/contract.ts';
import { KeydeskError } from '../errors.ts';

/** Every provider's static spec, in the order the UI lists them. */
export const PROVIDER_SPECS: readonly ProviderSpec[] = [
  awsSpec,
  gcpSpec,
  azureSpec,
  googleWorkspaceSpec,
  microsoft365Spec,
  hostingerSpec,
  agentsocMailBlockSpec,
  oauthSpec
];

const byId = new Map<string, ProviderSpec>(PROVIDER_SPECS.map((p) => [p.id, p]));

export function providerSpec(id: string): ProviderSpec {
  const p = byId.get(id);
  if (!p)
    throw new KeydeskError('INPUT_INVALID', `Unknown provider "${printable(id)}". Known: ${PROVIDER_SPECS.map((s) => s.id).join(', ')}.`);
  return p;
}

export function modeSpec(provider: string, mode: string): ModeSpec {
  const p = providerSpec(provider);
  const m = p.modes.find((x) => x.id === mode);
  if (!m)
    throw new KeydeskError(
      'INPUT_INVALID',
      `Provider ${p.id} has no auth mode "${printable(mode)}". Modes: ${p.modes.map((x) => x.id).join(', ')}.`
    );
  return m;
}

export function isProviderId(id: string): id is ProviderId {
  return byId.has(id);
}

export function secretFieldNames(mode: ModeSpec): string[] {
  return mode.fields.filter((f) => f.secret).map((f) => f.name);
}

export function fieldSpec(mode: ModeSpec, name: string): FieldSpec | undefined {
  return mode.fields.find((f) => f.name === name);
}

/** Echo a user-typed identifier (provider, mode, field name) in a message: short and printable only. */
export function printable(s: string): string {
  const clean = s.replace(/[^\x20-\x7E]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
}

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
    capabilities: p.capabilities.map((c) => ({
      id: c.id,
      label: c.label,
      permissions: [...c.permissions],
      modes: c.modes ? [...c.modes] : null,
      note: c.note ?? null
    })),
    validationPermissions: [...p.validationPermissions]
  };
}
