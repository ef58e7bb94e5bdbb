import type { ProviderView } from '../../preload/contract.ts';
import { KeydeskError } from '../errors.ts';
import type { DriverDeps, FlowDriver, OAuthDrivers, OAuthSource } from '../oauth/drivers/types.ts';
import { printable } from '../text.ts';
import { agentsocMailBlock } from './agentsoc_mail_block/index.ts';
import { aws } from './aws/index.ts';
import { azure } from './azure/index.ts';
import { CAPABILITIES, isCapabilityId, type CapabilityId } from './capabilities.ts';
import { gcp } from './gcp/index.ts';
import { googleWorkspace } from './google_workspace/index.ts';
import { hostinger } from './hostinger/index.ts';
import type { ProviderManifest } from './manifest.ts';
import { microsoft365 } from './microsoft_365/index.ts';
import { oauth } from './oauth/index.ts';
import type { CapabilityHandler, ProviderCapabilities, ValidationPlugin } from './plugin.ts';
import type { FieldSpec, ModeSpec, ProviderSpec } from './spec.ts';

/** Every provider Keydesk ships, in the order the UI lists them. A new provider is one folder and one line here. */
export const MANIFESTS: readonly ProviderManifest[] = [aws, gcp, azure, googleWorkspace, microsoft365, hostinger, agentsocMailBlock, oauth];

const ID_RE = /^[a-z][a-z0-9_]{0,31}$/;

/**
 * The providers one Keydesk process knows, and everything derived from them: lookups by id, the catalog, what a
 * credential of a provider and mode can do, and the lazy loaders of validation plugins, capability handlers and OAuth
 * drivers (each loaded once, on first use). Services get the registry from the composition root (main/app.ts), so a
 * test can run the real CLI and IPC over a registry with a fixture provider in it.
 */
export class ProviderRegistry implements OAuthDrivers {
  readonly manifests: readonly ProviderManifest[];
  readonly #byId = new Map<string, ProviderManifest>();
  readonly #capabilitySets = new Map<string, Map<string, ReadonlySet<CapabilityId>>>();
  readonly #loaded = new Map<string, Promise<unknown>>();

  constructor(manifests: readonly ProviderManifest[]) {
    for (const m of manifests) {
      checkManifest(m);
      if (this.#byId.has(m.spec.id)) throw new Error(`Provider ${m.spec.id} is registered twice.`);
      this.#byId.set(m.spec.id, m);
    }
    this.manifests = [...manifests];
  }

  /** A registry with more providers (tests register a fixture provider this way). */
  with(...more: ProviderManifest[]): ProviderRegistry {
    return new ProviderRegistry([...this.manifests, ...more]);
  }

  ids(): string[] {
    return this.manifests.map((m) => m.spec.id);
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  specs(): ProviderSpec[] {
    return this.manifests.map((m) => m.spec);
  }

  manifest(id: string): ProviderManifest {
    const m = this.#byId.get(id);
    if (!m) throw new KeydeskError('INPUT_INVALID', `Unknown provider "${printable(id)}". Known: ${this.ids().join(', ')}.`);
    return m;
  }

  spec(id: string): ProviderSpec {
    return this.manifest(id).spec;
  }

  /** The spec, or null for a provider this version does not know (a vault written by another build). */
  specOrNull(id: string): ProviderSpec | null {
    return this.#byId.get(id)?.spec ?? null;
  }

  mode(provider: string, mode: string): ModeSpec {
    const p = this.spec(provider);
    const m = p.modes.find((x) => x.id === mode);
    if (!m) {
      throw new KeydeskError(
        'INPUT_INVALID',
        `Provider ${p.id} has no auth mode "${printable(mode)}". Modes: ${p.modes.map((x) => x.id).join(', ')}.`
      );
    }
    return m;
  }

  modeOrNull(provider: string, mode: string): ModeSpec | null {
    return this.#byId.get(provider)?.spec.modes.find((m) => m.id === mode) ?? null;
  }

  /** "aws | gcp | …", for CLI help. */
  idList(filter: (m: ProviderManifest) => boolean = () => true): string {
    return this.manifests
      .filter(filter)
      .map((m) => m.spec.id)
      .join(' | ');
  }

  // ------------------------------------------------------------------------------------------ capabilities

  #capabilitySet(provider: string, mode: string): ReadonlySet<CapabilityId> {
    // provider → mode → set: asked for every binding a resolution looks at, so no key string is built per call.
    let modes = this.#capabilitySets.get(provider);
    if (!modes) this.#capabilitySets.set(provider, (modes = new Map()));
    let caps = modes.get(mode);
    if (!caps) {
      const spec = this.specOrNull(provider);
      caps = new Set((spec?.capabilities ?? []).filter((c) => !c.modes || c.modes.includes(mode)).map((c) => c.id));
      modes.set(mode, caps);
    }
    return caps;
  }

  /** What a credential of this provider and auth mode can run, in the spec's order. */
  capabilitiesOf(provider: string, mode: string): CapabilityId[] {
    return [...this.#capabilitySet(provider, mode)];
  }

  supports(provider: string, mode: string, capability: CapabilityId): boolean {
    return this.#capabilitySet(provider, mode).has(capability);
  }

  /** The sentence readiness and `keydesk permissions` say for a provider that can only be validated. */
  noCapabilitiesNote(spec: ProviderSpec): string | null {
    return spec.capabilities.length === 0
      ? `${spec.label} has no response capabilities in this version of Keydesk: it is validated only.`
      : null;
  }

  // ------------------------------------------------------------------------------------------ lazy halves

  #once<T>(key: string, load: () => Promise<T>): Promise<T> {
    let p = this.#loaded.get(key) as Promise<T> | undefined;
    if (!p) {
      p = load();
      this.#loaded.set(key, p);
      p.catch(() => this.#loaded.delete(key));
    }
    return p;
  }

  /** The provider's validation plugin. UNSUPPORTED for a provider that has none. */
  validator(id: string): Promise<ValidationPlugin> {
    const load = this.#byId.get(id)?.validator;
    if (!load) return Promise.reject(new KeydeskError('UNSUPPORTED', `Provider ${printable(id)} cannot validate yet.`));
    return this.#once(`validator:${id}`, load);
  }

  /** The provider's capability handlers (none for a provider without capabilities). */
  capabilityHandlers(id: string): Promise<ProviderCapabilities> {
    const load = this.#byId.get(id)?.capabilities;
    if (!load) return Promise.resolve({});
    return this.#once(`capabilities:${id}`, load);
  }

  /** The handler for one capability; UNSUPPORTED when the provider cannot run it yet. */
  async capabilityHandler(provider: string, capability: CapabilityId): Promise<CapabilityHandler> {
    const h = (await this.capabilityHandlers(provider))[capability];
    if (!h) throw new KeydeskError('UNSUPPORTED', `Keydesk cannot run ${capability} with ${provider} credentials yet.`);
    return h;
  }

  isOAuthMode(provider: string, mode: string): boolean {
    return Boolean(this.modeOrNull(provider, mode)?.oauth && this.#byId.get(provider)?.oauth?.[mode]);
  }

  /** "oauth/authorization_code", … — every mode that signs in. */
  oauthModes(): string[] {
    return this.manifests.flatMap((m) => Object.keys(m.oauth ?? {}).map((mode) => `${m.spec.id}/${mode}`));
  }

  /** The driver for a credential's provider and mode; UNSUPPORTED for a mode that is not OAuth. */
  async driver(source: OAuthSource, deps: DriverDeps): Promise<FlowDriver> {
    const load = this.isOAuthMode(source.provider, source.mode) ? this.#byId.get(source.provider)?.oauth?.[source.mode] : undefined;
    if (!load) {
      throw new KeydeskError(
        'UNSUPPORTED',
        `${printable(source.provider)}/${printable(source.mode)} is not an OAuth mode: its secrets are entered, not obtained by signing in. OAuth modes: ${this.oauthModes().join(', ')}.`
      );
    }
    const factory = await this.#once(`oauth:${source.provider}/${source.mode}`, load);
    return factory(source, deps);
  }

  // ------------------------------------------------------------------------------------------ catalog

  /** The static catalog as plain data: labels and field rules for the form, no rules or functions. */
  catalog(): ProviderView[] {
    return this.manifests.map(providerView);
  }
}

/** One provider as the catalog shows it (the form, `keydesk providers --json`, the IPC catalog). */
export function providerView(m: ProviderManifest): ProviderView {
  const p = m.spec;
  return {
    id: p.id,
    label: p.label,
    summary: m.texts.summary,
    setup: m.texts.setup,
    tenantScoped: p.tenantScoped,
    modes: p.modes.map((mode) => ({
      id: mode.id,
      label: mode.label,
      oauth: mode.oauth ?? false,
      rotationDays: mode.rotationDays,
      fields: mode.fields.map(fieldView)
    })),
    capabilities: p.capabilities.map((c) => ({
      id: c.id,
      label: c.label,
      permissions: [...c.permissions],
      modes: c.modes ? [...c.modes] : null,
      note: c.note ?? null,
      target: c.target ? { ...c.target } : null,
      scope: c.scope ? { ...c.scope } : null,
      options: (c.options ?? []).map((o) => ({ ...o }))
    })),
    validationPermissions: [...p.validationPermissions]
  };
}

function fieldView(f: FieldSpec): ProviderView['modes'][number]['fields'][number] {
  return {
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
  };
}

/** A manifest's own consistency, checked when it is registered (a mistake here is a programming error). */
function checkManifest(m: ProviderManifest): void {
  const p = m.spec;
  if (!ID_RE.test(p.id)) throw new Error(`Provider id "${p.id}" must match ${ID_RE}.`);
  const modes = new Set<string>();
  for (const mode of p.modes) {
    if (modes.has(mode.id)) throw new Error(`Provider ${p.id} declares mode ${mode.id} twice.`);
    modes.add(mode.id);
    const names = new Set<string>();
    for (const f of mode.fields) {
      if (!/^[a-z][a-z0-9_]{0,63}$/.test(f.name)) throw new Error(`Provider ${p.id} mode ${mode.id}: bad field name "${f.name}".`);
      if (names.has(f.name)) throw new Error(`Provider ${p.id} mode ${mode.id} declares field ${f.name} twice.`);
      names.add(f.name);
    }
    if (mode.oauth && !m.oauth?.[mode.id]) throw new Error(`Provider ${p.id}: OAuth mode ${mode.id} has no driver.`);
  }
  for (const mode of Object.keys(m.oauth ?? {})) {
    if (!p.modes.some((x) => x.id === mode && x.oauth))
      throw new Error(`Provider ${p.id}: a driver for ${mode}, which is not an OAuth mode.`);
  }
  for (const c of p.capabilities) {
    if (!isCapabilityId(c.id))
      throw new Error(`Provider ${p.id}: unknown capability ${String(c.id)} (known: ${Object.keys(CAPABILITIES).join(', ')}).`);
    for (const mode of c.modes ?? [])
      if (!modes.has(mode)) throw new Error(`Provider ${p.id}: capability ${c.id} names unknown mode ${mode}.`);
  }
  if (p.capabilities.length > 0 && !m.capabilities) throw new Error(`Provider ${p.id} lists capabilities but loads no handlers.`);
}

/** The providers this build of Keydesk ships. */
export const defaultRegistry = new ProviderRegistry(MANIFESTS);
