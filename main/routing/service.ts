import { domainToUnicode } from 'node:url';
import type { BindingChangeView, BindingView, ResolutionView } from '../../preload/contract.ts';
import type { CredentialService } from '../credentials/service.ts';
import { KeydeskError } from '../errors.ts';
import { CAPABILITY_IDS, isCapabilityId, type CapabilityId } from '../providers/capabilities.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import { printable } from '../text.ts';
import { equalBytes } from '../vault/crypto.ts';
import type { Vault, WriteContext } from '../vault/vault.ts';
import { domainAndParents, echo, normaliseDomain, normaliseMailbox } from './domains.ts';
import { bindingMac, findConflict, pickBinding, type BindingPick, type Candidate } from './resolve.ts';
import { BindingStore, type BindingRow } from './store.ts';
import { newId } from '../builtins.ts';

/** The contract's own types: one definition for main, CLI, IPC and renderer. */
export type { BindingChangeView, BindingView };

export interface HostInput {
  hostEmail?: string | null;
  hostDomain?: string | null;
}

/** The protected host of a tenant action: a mailbox or a domain, normalised. */
export interface Host {
  kind: 'email' | 'domain';
  /** The normalised mailbox or domain. */
  value: string;
  /** The domain routing looks up (the mailbox's domain for an email). */
  domain: string;
}

/**
 * capability + host → the credential that would run it: the contract's view (`verified` is true when the binding and
 * credential header MACs were checked — always, for an action).
 */
export type Resolution = ResolutionView & { capability: CapabilityId; host: Host };

type HeaderReader = ReturnType<CredentialService['headers']>;

/** A binding row with what it points to (the credential's name, provider and mode, from the credentials service). */
interface Row extends BindingRow {
  name: string;
  provider: string;
  mode: string;
}

function display(ascii: string): string {
  const u = domainToUnicode(ascii);
  return u === '' ? ascii : u;
}

/** Exactly one of host_email / host_domain, normalised. */
export function parseHost(input: HostInput): Host {
  const hasEmail = input.hostEmail !== undefined && input.hostEmail !== null && input.hostEmail !== '';
  const hasDomain = input.hostDomain !== undefined && input.hostDomain !== null && input.hostDomain !== '';
  if (hasEmail === hasDomain) {
    throw new KeydeskError('INPUT_INVALID', 'Name the protected host: either a mailbox (host_email) or a domain (host_domain), not both.', {
      fields: { host: 'Give host_email or host_domain' }
    });
  }
  if (hasEmail) {
    const m = normaliseMailbox(input.hostEmail, 'host_email');
    return { kind: 'email', value: m.address, domain: m.domain };
  }
  const d = normaliseDomain(input.hostDomain, 'host_domain');
  return { kind: 'domain', value: d, domain: d };
}

/** "EMAIL or DOMAIN" from one argument (the CLI's `resolve CAPABILITY EMAIL|DOMAIN`). */
export function parseHostArgument(arg: unknown): Host {
  return typeof arg === 'string' && arg.includes('@')
    ? parseHost({ hostEmail: arg })
    : parseHost({ hostDomain: typeof arg === 'string' ? arg : '' });
}

export function parseCapability(v: unknown): CapabilityId {
  if (!isCapabilityId(v)) {
    throw new KeydeskError('INPUT_INVALID', `Unknown capability "${echo(String(v ?? ''))}". Known: ${CAPABILITY_IDS.join(', ')}.`, {
      fields: { capability: 'Unknown capability' }
    });
  }
  return v;
}

/**
 * Domain bindings and routing. Listing works locked (offline inspection); binding, unbinding and any resolution an
 * action uses need the vault key, because every binding row carries a MAC under the vault's binding key and every
 * row a resolution looks at is checked (with the credential headers it points to) before its answer is used.
 */
export class RoutingService {
  readonly vault: Vault;
  readonly credentials: CredentialService;
  readonly #registry: ProviderRegistry;
  readonly #store: BindingStore;
  /** Rows whose MAC was verified in this unlocked session, with the exact contents verified (an edited row misses). */
  #verifiedBindings = new Map<string, { credentialId: string; domain: string; subdomains: number; mac: Buffer }>();

  constructor(vault: Vault, credentials: CredentialService) {
    this.vault = vault;
    this.credentials = credentials;
    this.#registry = credentials.registry;
    this.#store = new BindingStore(vault.db);
    vault.events.on('vault.lock', () => this.#verifiedBindings.clear());
  }

  /** Binding rows with what they point to (a row whose credential is gone is left out: removing one removes its bindings). */
  #joined(rows: readonly BindingRow[], headers: HeaderReader): Row[] {
    const out: Row[] = [];
    for (const r of rows) {
      const c = headers(r.credential_id);
      if (c)
        out.push({
          id: r.id,
          credential_id: r.credential_id,
          domain: r.domain,
          subdomains: r.subdomains,
          created_at: r.created_at,
          mac: r.mac,
          name: c.name,
          provider: c.provider,
          mode: c.mode
        });
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------ reading

  list(filter: { credential?: string } = {}): BindingView[] {
    const headers = this.credentials.headers();
    const rows = this.#joined(
      filter.credential ? this.#store.ofCredential(this.credentials.get(filter.credential).id) : this.#store.all(),
      headers
    );
    rows.sort((a, b) => (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : a.name.localeCompare(b.name, 'en', { sensitivity: 'base' })));
    const unlocked = this.vault.isUnlocked();
    return rows.map((r) => this.#view(r, unlocked ? this.#intact(r, r, headers) : null));
  }

  #view(r: Row, intact: boolean | null): BindingView {
    return {
      id: r.id,
      credentialId: r.credential_id,
      credentialName: r.name,
      provider: r.provider,
      mode: r.mode,
      domain: r.domain,
      domainDisplay: display(r.domain),
      subdomains: r.subdomains === 1,
      createdAt: r.created_at,
      intact
    };
  }

  /** Domains the provider said the tenant owns (validation's `observed.suggestions`), normalised, not yet bound to it. */
  suggestions(credentialRef: string): string[] {
    const c = this.credentials.get(credentialRef);
    return this.#unbound(c.id, c.observed.suggestions);
  }

  #unbound(credentialId: string, raw: unknown): string[] {
    if (!Array.isArray(raw)) return [];
    const bound = new Set(this.#store.ofCredential(credentialId).map((r) => r.domain));
    const out = new Set<string>();
    for (const s of raw) {
      try {
        const d = normaliseDomain(s);
        if (!bound.has(d)) out.add(d);
      } catch {
        /* a provider answer that is not a domain is not offered */
      }
    }
    return [...out].sort();
  }

  // ------------------------------------------------------------------------------------------ integrity

  /**
   * Binding MAC and the bound credential's header MAC, both under vault keys. A row verified in this unlocked session
   * is remembered with its exact contents and MAC; it is checked again as soon as any of them differs.
   */
  #intact(r: BindingRow, shown: Pick<Row, 'name' | 'provider' | 'mode'>, headers: HeaderReader): boolean {
    const b = this.#verifiedBindings.get(r.id);
    if (!(b && b.credentialId === r.credential_id && b.domain === r.domain && b.subdomains === r.subdomains && b.mac.equals(r.mac))) {
      const facts = { id: r.id, credentialId: r.credential_id, domain: r.domain, subdomains: r.subdomains === 1 };
      if (!equalBytes(bindingMac(this.vault.vaultKey('binding_mac'), facts), r.mac)) return false;
      this.#verifiedBindings.set(r.id, {
        credentialId: r.credential_id,
        domain: r.domain,
        subdomains: r.subdomains,
        mac: Buffer.from(r.mac)
      });
    }
    // The credential's header MAC, and that it still says what this row was shown with.
    const h = headers(r.credential_id, { verify: true });
    return h !== null && h.name === shown.name && h.provider === shown.provider && h.mode === shown.mode;
  }

  #assertIntact(r: BindingRow, shown: Pick<Row, 'name' | 'provider' | 'mode'>, headers: HeaderReader): void {
    if (this.#intact(r, shown, headers)) return;
    throw new KeydeskError(
      'BINDING_TAMPERED',
      `The binding of ${display(r.domain)} to "${printable(shown.name)}" (binding ${r.id}) was changed in the vault file, so no action will use it. Remove it (keydesk unbind "${printable(shown.name)}" ${r.domain}) and bind the domain again.`
    );
  }

  /** Every binding whose MAC fails (needs the key). */
  tampered(): BindingView[] {
    this.vault.requireUnlocked();
    const headers = this.credentials.headers();
    return this.#joined(this.#store.all(), headers)
      .filter((r) => !this.#intact(r, r, headers))
      .map((r) => this.#view(r, false));
  }

  // ------------------------------------------------------------------------------------------ changes

  #bindOne(
    w: WriteContext,
    cred: { id: string; name: string; provider: string; mode: string },
    domain: string,
    subdomains: boolean
  ): { view: BindingView; change: 'added' | 'updated' | 'unchanged' } {
    const { rows: here, headers } = this.#rowsAt(domain);
    for (const r of here) this.#assertIntact(r, r, headers);
    const conflict = findConflict(
      this.#registry,
      { credentialId: cred.id, credentialName: cred.name, provider: cred.provider, mode: cred.mode },
      here.map((r) => ({ credentialId: r.credential_id, credentialName: r.name, provider: r.provider, mode: r.mode }))
    );
    if (conflict) {
      throw new KeydeskError(
        'AMBIGUOUS_BINDING',
        `${display(domain)} is already bound to "${printable(conflict.other.credentialName)}", which can also run ${conflict.capability}: binding it to "${printable(cred.name)}" too would make routing ${conflict.capability} for ${display(domain)} ambiguous. Unbind it from "${printable(conflict.other.credentialName)}" first, or bind a more specific domain. Nothing was changed.`,
        { fields: { domain: `Already bound to ${printable(conflict.other.credentialName)}` } }
      );
    }
    const mine = here.find((r) => r.credential_id === cred.id);
    if (mine && (mine.subdomains === 1) === subdomains) return { view: this.#view(mine, true), change: 'unchanged' };
    const id = mine?.id ?? newId();
    const mac = bindingMac(w.vaultKey('binding_mac'), { id, credentialId: cred.id, domain, subdomains });
    if (mine) this.#store.setSubdomains(w.db, id, subdomains, mac);
    else this.#store.insert(w.db, { id, credential_id: cred.id, domain, subdomains: subdomains ? 1 : 0, created_at: w.now, mac });
    w.audit({
      action: mine ? 'binding.update' : 'binding.add',
      outcome: 'ok',
      credentialId: cred.id,
      credentialName: cred.name,
      detail: { binding_id: id, domain, subdomains }
    });
    const [row] = this.#joined([this.#store.get(id)!], this.credentials.headers());
    return { view: this.#view(row!, true), change: mine ? 'updated' : 'added' };
  }

  #bindable(credentialRef: string): { id: string; name: string; provider: string; mode: string } {
    const c = this.credentials.get(credentialRef);
    const spec = this.#registry.spec(c.provider);
    if (!spec.tenantScoped) {
      throw new KeydeskError(
        'INPUT_INVALID',
        `"${printable(c.name)}" is a ${spec.label} credential: it acts on resources, not on a tenant's domains, so it is not bound to domains. Run its capabilities with --credential "${printable(c.name)}".`,
        { fields: { credential: 'Not a tenant-scoped credential' } }
      );
    }
    if (this.#registry.capabilitiesOf(c.provider, c.mode).length === 0) {
      throw new KeydeskError(
        'INPUT_INVALID',
        `"${printable(c.name)}" (${c.provider}/${c.mode}) can run no tenant capability, so a binding would never be used.`,
        {
          fields: { credential: 'No capability in this mode' }
        }
      );
    }
    if (!this.credentials.headerIntact(c.id)) {
      throw new KeydeskError(
        'HEADER_TAMPERED',
        `Credential "${printable(c.name)}": its name, provider or mode was changed in the vault file. It will not be bound. Remove it and add it again.`
      );
    }
    return { id: c.id, name: c.name, provider: c.provider, mode: c.mode };
  }

  /**
   * Binds a tenant-scoped credential to a domain it protects. Binding the same pair again changes only the
   * subdomains flag. Refused with AMBIGUOUS_BINDING (naming the other credential) when another credential bound to
   * the same domain can run a capability this one can, because resolution at that domain would then tie.
   */
  bind(credentialRef: string, domainInput: unknown, opts: { subdomains?: boolean } = {}): BindingChangeView {
    const domain = normaliseDomain(domainInput);
    this.vault.requireUnlocked();
    const cred = this.#bindable(credentialRef);
    const { view, change } = this.vault.write((w) => this.#bindOne(w, cred, domain, opts.subdomains === true));
    return { ...view, change };
  }

  /** Accepts the provider's domain suggestions in one step (all or nothing: one conflict refuses them all). */
  acceptSuggestions(credentialRef: string, opts: { subdomains?: boolean; only?: readonly string[] } = {}): BindingView[] {
    this.vault.requireUnlocked();
    const cred = this.#bindable(credentialRef);
    // What is bound comes from the provider's answer as recorded with its MAC, never from the readable copy alone: a
    // domain planted in the file would otherwise route another tenant's actions here.
    let domains = this.#unbound(cred.id, this.credentials.verifiedSuggestions(cred.id));
    if (opts.only) {
      const wanted = new Set(opts.only.map((d) => normaliseDomain(d)));
      const unknown = [...wanted].filter((d) => !domains.includes(d));
      if (unknown.length > 0) {
        throw new KeydeskError(
          'INPUT_INVALID',
          `Not among the suggestions for "${printable(cred.name)}": ${unknown.join(', ')}. Bind them one by one with keydesk bind.`,
          {
            fields: { domains: 'Not a suggestion' }
          }
        );
      }
      domains = domains.filter((d) => wanted.has(d));
    }
    if (domains.length === 0) {
      throw new KeydeskError(
        'NOT_FOUND',
        `"${printable(cred.name)}" has no unbound domain suggestions. Validate it to learn the domains its tenant owns, or bind domains with keydesk bind.`
      );
    }
    return this.vault.write((w) => domains.map((d) => this.#bindOne(w, cred, d, opts.subdomains === true).view));
  }

  unbind(credentialRef: string, domainInput: unknown): { id: string; credentialName: string; domain: string } {
    const domain = normaliseDomain(domainInput);
    this.vault.requireUnlocked();
    const c = this.credentials.get(credentialRef);
    return this.vault.write((w) => {
      const row = this.#store.find(c.id, domain);
      if (!row) throw new KeydeskError('NOT_FOUND', `"${printable(c.name)}" is not bound to ${display(domain)}.`);
      this.#store.delete(w.db, row.id);
      w.audit({
        action: 'binding.remove',
        outcome: 'ok',
        credentialId: c.id,
        credentialName: c.name,
        detail: { binding_id: row.id, domain }
      });
      return { id: row.id, credentialName: c.name, domain };
    });
  }

  // ------------------------------------------------------------------------------------------ resolution

  /** The bindings of exactly `domain`, and a header reader for the state of the file they were read in. */
  #rowsAt(domain: string): { rows: Row[]; headers: HeaderReader } {
    const found = this.#store.atDomain(domain);
    const headers = this.credentials.headers(found[0]?.data_version);
    return { rows: this.#joined(found, headers), headers };
  }

  /** The bindings of exactly `domain` as candidates (the hot path: no intermediate rows), each checked with `verify`. */
  #candidatesAt(domain: string, verify: boolean): Candidate[] {
    const found = this.#store.atDomain(domain);
    if (found.length === 0) return [];
    const headers = this.credentials.headers(found[0]!.data_version);
    const out: Candidate[] = [];
    for (const b of found) {
      const h = headers(b.credential_id);
      if (!h) continue; // its credential is gone (removing one removes its bindings)
      if (verify) this.#assertIntact(b, h, headers);
      out.push({
        bindingId: b.id,
        credentialId: b.credential_id,
        credentialName: h.name,
        provider: h.provider,
        mode: h.mode,
        domain: b.domain,
        subdomains: b.subdomains === 1
      });
    }
    return out;
  }

  /**
   * The host first, then each parent: the first level with a binding that matches and can run the capability decides
   * (a more specific level always wins), so the levels above it cannot change the answer and are not read. Every row
   * read is checked, also those skipped (a changed flag or mode must not silently move the action to a parent).
   */
  #pick(domain: string, capability: CapabilityId, verify: boolean): BindingPick {
    const seen: Candidate[] = [];
    for (const level of domainAndParents(domain)) {
      const here = this.#candidatesAt(level, verify);
      if (here.length === 0) continue;
      seen.push(...here);
      const p = pickBinding(this.#registry, domain, capability, here);
      if (p.kind !== 'none') return p;
    }
    return pickBinding(this.#registry, domain, capability, seen);
  }

  /**
   * capability + host → the one credential that owns the most specific matching bound domain and can run the
   * capability. With `verify` (the default, and always for an action) every binding of the host and its parents,
   * and the header of each credential they point to, is MAC-checked first: a changed row is BINDING_TAMPERED,
   * never silently skipped (skipping it could route the action to another tenant). `verify: false` is for offline
   * inspection of a locked vault and says so in `verified`.
   */
  resolve(capabilityInput: unknown, hostInput: HostInput | Host, opts: { verify?: boolean } = {}): Resolution {
    const capability = parseCapability(capabilityInput);
    const host = 'kind' in hostInput ? hostInput : parseHost(hostInput);
    const verify = opts.verify !== false;
    if (verify) this.vault.requireUnlocked();
    const pick = this.#pick(host.domain, capability, verify);
    if (pick.kind === 'none') {
      const where = host.kind === 'email' ? `${host.value} (domain ${display(host.domain)})` : display(host.domain);
      if (pick.reason === 'no_capable_binding') {
        const names = [...new Set(pick.boundTo.map((c) => `"${printable(c.credentialName)}" (${c.provider}/${c.mode})`))].join(', ');
        // The host is bound, but to tenants whose provider (or auth mode) lacks this capability: the request is what is wrong.
        throw new KeydeskError(
          'INPUT_INVALID',
          `No credential bound to ${where} can run ${capability}: it is bound to ${names}, which cannot. Bind a credential whose provider and mode support ${capability}.`,
          {
            fields: { capability: `Not a capability of the credential bound to ${host.domain}` }
          }
        );
      }
      throw new KeydeskError(
        'NO_BINDING',
        `No credential is bound to ${where}. Bind one with: keydesk bind CREDENTIAL ${host.domain}${host.domain.split('.').length > 2 ? ' (or a parent domain with --subdomains)' : ''}`
      );
    }
    if (pick.kind === 'ambiguous') {
      const names = pick.tied.map((c) => `"${printable(c.credentialName)}"`).join(' and ');
      throw new KeydeskError(
        'AMBIGUOUS_BINDING',
        `${display(pick.tied[0]!.domain)} is bound to ${names}, which can both run ${capability}; Keydesk will not guess which tenant to act on. Unbind one of them.`
      );
    }
    const c = pick.chosen;
    return {
      capability,
      host,
      credentialId: c.credentialId,
      credentialName: c.credentialName,
      provider: c.provider,
      mode: c.mode,
      bindingId: c.bindingId,
      domain: c.domain,
      subdomains: c.subdomains,
      matched: pick.matched,
      verified: verify
    };
  }
}
