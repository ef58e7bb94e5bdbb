import { KeydeskError } from '../errors.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { ModeSpec, ProviderSpec } from '../providers/spec.ts';
import {
  CredentialStore,
  type CheckReport,
  type CredentialHeader,
  type CredentialMaterial,
  type CredentialSummary,
  type HeaderReader,
  type HealthUpdate,
  type NewRecord,
  type RecordChange
} from '../vault/credential-store.ts';
import type { Vault, WriteContext } from '../vault/vault.ts';
import type { CredentialView } from '../../preload/contract.ts';
import { validateExpiry, validateName, validateValues } from './fields.ts';
import { credentialView } from './view.ts';

/** A new credential as a caller gives it: a NewRecord whose values (every field, secret or not) are not checked yet. */
export type AddInput = Omit<NewRecord, 'values'> & { values: Readonly<Record<string, unknown>> };

/** A change to a credential as a caller gives it (the record store's RecordChange, before the checks). */
export type UpdateInput = RecordChange;

/** A new credential's input after its checks: what a sign-in needs before anything is stored. */
export interface CheckedNew {
  name: string;
  provider: ProviderSpec;
  mode: ModeSpec;
  values: Record<string, string>;
}

/**
 * Credentials, above the vault and the providers: it checks names, field values and expiry dates against the
 * provider's spec (from the registry), hands the vault's store the field policy of each mode, and answers everything
 * else from the store. The store (main/vault/credential-store.ts) seals and reads; it knows no provider.
 */
export class CredentialService {
  readonly vault: Vault;
  readonly registry: ProviderRegistry;
  readonly #store: CredentialStore;

  constructor(vault: Vault, registry: ProviderRegistry) {
    this.vault = vault;
    this.registry = registry;
    this.#store = new CredentialStore(vault, (provider, mode) => registry.mode(provider, mode));
  }

  // ------------------------------------------------------------------------------------------ checks

  /** Name, provider, mode and values of a credential about to be created, checked; nothing is stored. */
  checkNew(input: Pick<AddInput, 'name' | 'provider' | 'mode' | 'values'>): CheckedNew {
    const name = validateName(input.name);
    const mode = this.registry.mode(input.provider, input.mode);
    const provider = this.registry.spec(input.provider);
    if (!input.values || typeof input.values !== 'object') throw new KeydeskError('INPUT_INVALID', 'Field values are required.');
    return { name, provider, mode, values: validateValues(mode, input.values) };
  }

  #prepare(input: AddInput): NewRecord {
    const c = this.checkNew(input);
    return {
      name: c.name,
      provider: c.provider.id,
      mode: c.mode.id,
      values: c.values,
      expiresAt: validateExpiry(input.expiresAt),
      ...(input.extra ? { extra: input.extra } : {}),
      ...(input.observed ? { observed: input.observed } : {})
    };
  }

  // ------------------------------------------------------------------------------------------ writes

  add(input: AddInput): CredentialSummary {
    return this.#store.add(this.#prepare(input));
  }

  /**
   * Adds many credentials in one write transaction (an import): every input is checked first, so one bad input
   * rejects the batch and nothing is stored; each credential still gets its own audit entry.
   */
  addMany(inputs: readonly AddInput[]): CredentialSummary[] {
    const prepared = inputs.map((input, i) => {
      try {
        return this.#prepare(input);
      } catch (e) {
        if (e instanceof KeydeskError)
          throw new KeydeskError(e.code, `Item ${i + 1}: ${e.message}`, e.fields ? { fields: e.fields } : undefined);
        throw e;
      }
    });
    return this.#store.addMany(prepared);
  }

  /**
   * Changes field values. Secret fields given replace the stored ones. Changing an endpoint override requires every
   * secret it would send again and is refused while sign-in tokens are stored (the store enforces it).
   */
  update(ref: string, input: UpdateInput): CredentialSummary {
    const expiresAt = input.expiresAt === undefined ? undefined : validateExpiry(input.expiresAt);
    return this.#store.update(
      ref,
      { ...(input.values !== undefined ? { values: input.values } : {}), ...(expiresAt !== undefined ? { expiresAt } : {}) },
      (provider, mode, values) => validateValues(this.registry.mode(provider, mode), values)
    );
  }

  rename(ref: string, newName: string): CredentialSummary {
    return this.#store.rename(ref, validateName(newName));
  }

  /** Replaces the extra secrets (OAuth tokens) atomically, keeping the field values. */
  setExtraSecrets(
    ref: string,
    extra: Readonly<Record<string, string>>,
    audit: { action: string; detail?: Record<string, unknown> },
    observed?: Record<string, unknown>
  ): CredentialSummary {
    return this.#store.setExtraSecrets(ref, extra, audit, observed);
  }

  remove(
    ref: string,
    hooks?: { beforeDelete?: (w: WriteContext, id: string) => void }
  ): { id: string; name: string; walTruncated: boolean } {
    return this.#store.remove(ref, hooks);
  }

  /** Records a validation result (audited). */
  recordHealth(ref: string, h: HealthUpdate, audit: { action?: string; detail?: Record<string, unknown> } = {}): CredentialSummary {
    return this.#store.recordHealth(ref, h, audit);
  }

  // ------------------------------------------------------------------------------------------ reads

  list(): CredentialSummary[] {
    return this.#store.list();
  }

  get(ref: string): CredentialSummary {
    return this.#store.get(ref);
  }

  /** True when the header MAC verifies (needs the key). */
  headerIntact(ref: string): boolean {
    return this.#store.headerIntact(ref);
  }

  /** What credential `id` is (null when there is none; with `verify`, also when its header MAC fails). */
  header(id: string, opts: { verify?: boolean } = {}): CredentialHeader | null {
    return this.#store.header(id, opts);
  }

  /** A header reader for one piece of work that asks for many (see CredentialStore.headers). */
  headers(dataVersion?: number): HeaderReader {
    return this.#store.headers(dataVersion);
  }

  /** Decrypts a credential (its header MAC, wrapped key and payload are each verified first). */
  material(ref: string): CredentialMaterial {
    return this.#store.material(ref);
  }

  /** The credential with new secret field values (checked as update checks them), for validation first; writes nothing. */
  candidate(ref: string, secrets: Readonly<Record<string, string>>): CredentialMaterial {
    return this.#store.candidate(ref, secrets, (provider, mode, values) => validateValues(this.registry.mode(provider, mode), values));
  }

  /** The binding suggestions as the provider gave them, verified against their MAC (needs the key). */
  verifiedSuggestions(ref: string): unknown[] | null {
    return this.#store.verifiedSuggestions(ref);
  }

  /** The credential as IPC answers and CLI --json show it (main/credentials/view.ts), as of the vault clock's now. */
  view(c: CredentialSummary, now: Date = this.vault.clock.now()): CredentialView {
    return credentialView(c, this.registry, now);
  }

  /** Decrypts every credential and reports any that fail authentication. Needs the key. */
  check(): CheckReport {
    return this.#store.check();
  }
}
