import { KeydeskError } from '../errors.ts';
import { printable } from '../text.ts';
import { canonicalJson } from './audit-log.ts';
import { AAD, AuthenticationFailed, canonical, equalBytes, hmac, open, randomKey, seal, wipe, type SymmetricKey } from './crypto.ts';
import { Secret } from './secret.ts';
import { stmt } from './db.ts';
import { headerMac, type Vault, type WriteContext } from './vault.ts';
import { newId } from '../builtins.ts';

export const CREDENTIAL_STATUSES = ['ok', 'failed', 'expired', 'unknown'] as const;
export type CredentialStatus = (typeof CREDENTIAL_STATUSES)[number];

export interface LastError {
  code: string;
  message: string;
}

/** Everything about a credential that is not secret. Safe for IPC, logs, CLI output and offline inspection. */
export interface CredentialSummary {
  id: string;
  name: string;
  provider: string;
  mode: string;
  /** Readable copies: non-secret field values, last four characters of key/client ids, derived facts. Display only. */
  metadata: Record<string, string>;
  /** Names of the secret fields that hold a value (never the values). */
  secretsSet: string[];
  /** What validation learned (account ids, readiness, suggestions). */
  observed: Record<string, unknown>;
  status: CredentialStatus;
  lastError: LastError | null;
  checkedAt: string | null;
  expiresAt: string | null;
  expirySource: 'provider' | 'secret' | 'analyst' | null;
  createdAt: string;
  updatedAt: string;
  rotatedAt: string;
}

/** A decrypted credential: authenticated field values, with secrets wrapped so they print as [redacted]. */
export interface CredentialMaterial {
  id: string;
  name: string;
  provider: string;
  mode: string;
  /** Non-secret field values, read from the encrypted payload (authenticated), not from the readable copy. */
  fields: Readonly<Record<string, string>>;
  /** Secret field values and extra secrets (e.g. OAuth tokens). */
  secrets: Readonly<Record<string, Secret>>;
}

interface Payload {
  v: 1;
  values: Record<string, string>;
  extra: Record<string, string>;
}

interface CredentialRow {
  id: string;
  name: string;
  provider: string;
  mode: string;
  header_mac: Buffer;
  secret_version: number;
  metadata: string;
  observed: string;
  status: CredentialStatus;
  last_error_code: string | null;
  last_error_message: string | null;
  checked_at: string | null;
  expires_at: string | null;
  expiry_source: CredentialSummary['expirySource'];
  created_at: string;
  updated_at: string;
  rotated_at: string;
}

interface SecretRow {
  credential_id: string;
  kek_version: number;
  wrapped_dek: Buffer;
  payload: Buffer;
}

const SUMMARY_COLUMNS =
  'id, name, provider, mode, header_mac, secret_version, metadata, observed, status, last_error_code, last_error_message, checked_at, expires_at, expiry_source, created_at, updated_at, rotated_at';

/** One field as the store sees it: whether it is secret, shown by its last four, or an endpoint override. */
export interface PolicyField {
  name: string;
  label: string;
  secret: boolean;
  required: boolean;
  /** Show the last four characters as readable metadata (key and client ids). */
  last4?: boolean;
  /** Steers where a secret is sent: changing it needs every secret it would send again. */
  endpoint?: boolean;
}

/**
 * How the store treats one auth mode's field values — which are secret, which are shown by their last four, which
 * steer where secrets go — plus the readable facts and the expiry the values themselves imply. The credentials
 * service gives it (from the provider's spec); the store knows no provider.
 */
export interface FieldPolicy {
  fields: readonly PolicyField[];
  /** Readable, non-secret facts derived from the values (display copy only: never trusted to steer). */
  describe?: (values: Readonly<Record<string, string>>) => Record<string, string | undefined>;
  /** When the secret itself says it stops working, as an ISO date. */
  expiry?: (values: Readonly<Record<string, string>>) => string | null;
}

/** The policy for a stored credential's provider and mode (throws for one this build does not know). */
export type PolicyOf = (provider: string, mode: string) => FieldPolicy;

/**
 * Checks a credential's complete set of field values (after an update merged the given ones into the stored ones):
 * the trimmed values, or INPUT_INVALID naming the fields. Supplied by the credentials service.
 */
export type ValuesCheck = (provider: string, mode: string, values: Readonly<Record<string, unknown>>) => Record<string, string>;

function readableMetadata(mode: FieldPolicy, values: Record<string, string>): { metadata: Record<string, string>; secretsSet: string[] } {
  const metadata: Record<string, string> = {};
  const secretsSet: string[] = [];
  for (const f of mode.fields) {
    const v = values[f.name];
    if (v === undefined) continue;
    if (f.secret) {
      secretsSet.push(f.name);
      if (f.last4) metadata[`${f.name}_last4`] = v.slice(-4);
    } else {
      metadata[f.name] = v;
    }
  }
  for (const [k, v] of Object.entries(mode.describe?.(values) ?? {})) if (v !== undefined) metadata[k] = v;
  return { metadata, secretsSet };
}

function withoutMac(o: Record<string, unknown>): Record<string, unknown> {
  if (!(SUGGESTIONS_MAC in o)) return o;
  const { [SUGGESTIONS_MAC]: _mac, ...rest } = o;
  void _mac;
  return rest;
}

function parseJsonObject(s: string): Record<string, unknown> {
  if (s === '{}') return {};
  try {
    const v: unknown = JSON.parse(s);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * Binding suggestions (the domains a provider said the tenant owns) steer which tenant a domain is bound to when the
 * analyst accepts them, so they are stored with a MAC under the header key (`suggestions_mac` in the observed JSON),
 * checked before they are bound. The rest of `observed` is display only.
 */
export const SUGGESTIONS_MAC = 'suggestions_mac';

function suggestionsMac(key: SymmetricKey, credentialId: string, suggestions: unknown): string {
  return hmac(key, canonical('keydesk/v1/suggestions', credentialId, canonicalJson(suggestions))).toString('hex');
}

/** The observed JSON to store: merged, with the suggestions' MAC made for what is stored now. */
function observedToStore(w: WriteContext, credentialId: string, observed: Record<string, unknown>): string {
  const { [SUGGESTIONS_MAC]: _old, ...rest } = observed;
  void _old;
  return JSON.stringify(
    rest.suggestions === undefined
      ? rest
      : { ...rest, [SUGGESTIONS_MAC]: suggestionsMac(w.vaultKey('header_mac'), credentialId, rest.suggestions) }
  );
}

function toSummary(r: CredentialRow): CredentialSummary {
  const meta = parseJsonObject(r.metadata) as { readable?: Record<string, string>; secretsSet?: string[] };
  return {
    id: r.id,
    name: r.name,
    provider: r.provider,
    mode: r.mode,
    metadata: meta.readable ?? {},
    secretsSet: meta.secretsSet ?? [],
    observed: withoutMac(parseJsonObject(r.observed)),
    status: r.status,
    lastError: r.last_error_code ? { code: r.last_error_code, message: r.last_error_message ?? '' } : null,
    checkedAt: r.checked_at,
    expiresAt: r.expires_at,
    expirySource: r.expiry_source,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    rotatedAt: r.rotated_at
  };
}

/**
 * A sealed part of credential `name` (its wrapped key or its payload) that failed authentication: SECRET_SWAPPED when
 * it opens as another credential's (`owner`: rows were swapped), SECRET_TAMPERED otherwise.
 */
function sealFailure(name: string, part: 'key' | 'secret', owner: string | null): KeydeskError {
  if (owner)
    return new KeydeskError(
      'SECRET_SWAPPED',
      `Credential "${printable(name)}": its encrypted ${part} belongs to credential "${printable(owner)}" — rows were swapped in the vault file. It will not be used.`
    );
  return new KeydeskError(
    'SECRET_TAMPERED',
    `Credential "${printable(name)}": its encrypted ${part} failed authentication — the vault file was modified. It will not be used.`
  );
}

/** A new credential, its values already checked by the credentials service. */
export interface NewRecord {
  /** A checked name (the credentials service validates it). */
  name: string;
  provider: string;
  mode: string;
  /** Every field value, secret or not, checked and trimmed; split by the mode's policy. */
  values: Readonly<Record<string, string>>;
  /** An expiry date the analyst knows (ISO, checked), e.g. a client secret's end date. */
  expiresAt?: string | null;
  /** Extra secrets that do not come from the form (OAuth tokens). */
  extra?: Readonly<Record<string, string>>;
  /** Readable facts known at creation (e.g. granted OAuth scopes). */
  observed?: Record<string, unknown>;
}

export interface RecordChange {
  /** Field values to set; secret fields given here replace the stored ones. An empty string clears an optional field. */
  values?: Readonly<Record<string, unknown>>;
  /** The analyst's expiry (ISO, checked); null clears it; undefined keeps it. */
  expiresAt?: string | null;
}

export interface HealthUpdate {
  status: CredentialStatus;
  lastError: LastError | null;
  checkedAt: string;
  /** Undefined keeps the stored expiry. */
  expiresAt?: string | null;
  expirySource?: CredentialSummary['expirySource'];
  /** Merged into the stored observations. */
  observed?: Record<string, unknown>;
}

interface PreparedAdd {
  id: string;
  name: string;
  provider: string;
  mode: string;
  values: Record<string, string>;
  extra: Record<string, string>;
  metadata: Record<string, string>;
  secretsSet: string[];
  observed: Record<string, unknown>;
  expiresAt: string | null;
  expirySource: CredentialSummary['expirySource'];
}

type HeaderRow = CredentialHeader & { header_mac: Buffer; secret_version: number };
/** A header row as read, and the header handed out for it (one frozen object, shared by every reader). */
type CachedHeader = { row: HeaderRow; header: Readonly<CredentialHeader>; verified: boolean };
/** What credential `id` is (null when there is none; with `verify`, also when its header MAC fails). */
export type HeaderReader = (id: string, opts?: { verify?: boolean }) => Readonly<CredentialHeader> | null;

/** A credential's header: what names it and what it is, as stored (readable; verified on request). */
export interface CredentialHeader {
  id: string;
  name: string;
  provider: string;
  mode: string;
  status: CredentialStatus;
}

export interface CheckReport {
  checked: number;
  failures: { id: string; name: string; code: string; message: string }[];
}

/**
 * The vault's credential rows: sealed payloads (values and extra secrets under a per-credential DEK), readable
 * metadata derived under the field policy it is given, header MACs, health and observations. The readable half works
 * locked (offline inspection); anything touching a secret needs the key. It knows no provider: the credentials
 * service (main/credentials/) checks field values and hands it each mode's policy.
 */
export class CredentialStore {
  readonly vault: Vault;
  readonly #policyOf: PolicyOf;
  /** Headers whose MAC verified in this unlocked session, with the exact contents verified (an edited row misses). */
  readonly #verified = new Map<string, { name: string; provider: string; mode: string; version: number; mac: Buffer }>();
  /**
   * Header rows read since the vault file last changed: routing asks for the header of every binding it looks at, and
   * reading the row each time doubled a resolution's cost. The cache holds only while no connection changed the file
   * (SQLite's data_version moves on another connection's commit; this store's own writes clear it) and is not used
   * inside a transaction, where a write may be rolled back.
   */
  readonly #headers = new Map<string, CachedHeader | null>();
  #headersVersion: unknown = null;

  constructor(vault: Vault, policyOf: PolicyOf) {
    this.vault = vault;
    this.#policyOf = policyOf;
    vault.events.on('vault.lock', () => {
      this.#verified.clear();
      this.#headers.clear();
    });
  }

  list(): CredentialSummary[] {
    return (stmt(this.vault.db, `SELECT ${SUMMARY_COLUMNS} FROM credentials ORDER BY name COLLATE NOCASE`).all() as CredentialRow[]).map(
      toSummary
    );
  }

  #row(ref: string): CredentialRow {
    if (typeof ref !== 'string' || ref.length === 0 || ref.length > 128)
      throw new KeydeskError('INPUT_INVALID', 'Name a credential by its name or id.');
    // Two indexed lookups, id first: `id = ? OR name = ?` made SQLite scan the whole table on every lookup.
    const row = (stmt(this.vault.db, `SELECT ${SUMMARY_COLUMNS} FROM credentials WHERE id = ?`).get(ref) ??
      stmt(this.vault.db, `SELECT ${SUMMARY_COLUMNS} FROM credentials WHERE name = ? COLLATE NOCASE`).get(ref)) as
      CredentialRow | undefined;
    if (!row) throw new KeydeskError('NOT_FOUND', `No credential named "${printable(ref)}".`);
    return row;
  }

  get(ref: string): CredentialSummary {
    return toSummary(this.#row(ref));
  }

  /** True when the header MAC verifies (needs the key). */
  headerIntact(ref: string): boolean {
    return this.#headerVerifies(this.#row(ref));
  }

  /**
   * The header of credential `id` (by id only), or null when there is none; with `verify`, null also when its MAC
   * fails (needs the key). A header verified once in this unlocked session is not checked again while it is unchanged.
   * For other modules that must know what a credential is without reading its table (routing, executions).
   */
  header(id: string, opts: { verify?: boolean } = {}): CredentialHeader | null {
    return this.headers()(id, opts);
  }

  /**
   * A reader of headers for one piece of work (a resolution looks at several bindings): whether the cache still holds
   * is checked once, when the reader is made, not for every header. A caller that has just read rows pointing to
   * credentials passes the data_version that read saw (DATA_VERSION_COLUMN): the headers then come from the same
   * state of the file as those rows, without a statement of their own to learn it.
   */
  headers(dataVersion?: number): HeaderReader {
    if (this.vault.db.inTransaction) return this.#uncachedHeaders; // a write may still roll back: read the table itself
    const version = dataVersion ?? stmt(this.vault.db, 'PRAGMA data_version').pluck().get();
    if (version !== this.#headersVersion) {
      this.#headers.clear();
      this.#headersVersion = version;
    }
    return this.#cachedHeaders;
  }

  #readHeader(id: string): CachedHeader | null {
    const row = stmt(
      this.vault.db,
      'SELECT id, name, provider, mode, status, header_mac, secret_version FROM credentials WHERE id = ?'
    ).get(id) as HeaderRow | undefined;
    if (!row) return null;
    const header = Object.freeze({ id: row.id, name: row.name, provider: row.provider, mode: row.mode, status: row.status });
    return { row, header, verified: false };
  }

  #headerOf(e: CachedHeader | null, verify: boolean | undefined): Readonly<CredentialHeader> | null {
    if (!e) return null;
    if (verify && !e.verified) {
      if (!this.#headerVerifies(e.row)) return null;
      e.verified = true; // this entry's row verified; the entry goes when the file changes or the vault locks
    }
    return e.header;
  }

  readonly #uncachedHeaders: HeaderReader = (id, opts) => this.#headerOf(this.#readHeader(id), opts?.verify);

  readonly #cachedHeaders: HeaderReader = (id, opts) => {
    let e = this.#headers.get(id);
    if (e === undefined) this.#headers.set(id, (e = this.#readHeader(id)));
    return this.#headerOf(e, opts?.verify);
  };

  /** vault.write for this store: every change to the credentials table goes through here, and drops the header cache. */
  #write<T>(fn: (w: WriteContext) => T): T {
    try {
      return this.vault.write(fn);
    } finally {
      this.#headers.clear();
    }
  }

  #headerVerifies(r: { id: string; name: string; provider: string; mode: string; header_mac: Buffer; secret_version: number }): boolean {
    const seen = this.#verified.get(r.id);
    if (
      seen &&
      seen.name === r.name &&
      seen.provider === r.provider &&
      seen.mode === r.mode &&
      seen.version === r.secret_version &&
      seen.mac.equals(r.header_mac)
    )
      return true;
    if (!equalBytes(headerMac(this.vault.vaultKey('header_mac'), r), r.header_mac)) return false;
    this.#verified.set(r.id, {
      name: r.name,
      provider: r.provider,
      mode: r.mode,
      version: r.secret_version,
      mac: Buffer.from(r.header_mac)
    });
    return true;
  }

  #assertHeader(r: CredentialRow): void {
    if (!this.#headerVerifies(r)) {
      throw new KeydeskError(
        'HEADER_TAMPERED',
        `Credential "${printable(r.name)}" (${r.id}): its name, provider or mode was changed in the vault file. It will not be used. Remove it and add it again.`
      );
    }
  }

  #seal(
    w: WriteContext,
    id: string,
    provider: string,
    mode: string,
    version: number,
    payload: Payload
  ): { wrapped: Buffer; sealed: Buffer } {
    const dek = randomKey();
    const plain = Buffer.from(JSON.stringify(payload), 'utf8');
    try {
      return {
        sealed: seal(dek, plain, AAD.payload(id, provider, mode, version)),
        wrapped: seal(w.kek, dek, AAD.dek(id, w.kekVersion))
      };
    } finally {
      wipe(dek, plain);
    }
  }

  #nameFree(name: string, exceptId?: string): void {
    const clash = stmt(this.vault.db, 'SELECT id FROM credentials WHERE name = ? COLLATE NOCASE').get(name) as { id: string } | undefined;
    if (clash && clash.id !== exceptId) {
      throw new KeydeskError('NAME_TAKEN', `A credential named "${printable(name)}" already exists.`, {
        fields: { name: 'This name is taken' }
      });
    }
  }

  add(input: NewRecord): CredentialSummary {
    const prepared = this.#prepareAdd(input);
    return this.#write((w) => this.#insert(w, prepared));
  }

  /**
   * Adds many credentials in one write transaction (an import): nothing is stored unless all of them are; each
   * credential still gets its own audit entry.
   */
  addMany(inputs: readonly NewRecord[]): CredentialSummary[] {
    const prepared = inputs.map((input) => this.#prepareAdd(input));
    const names = new Set<string>();
    for (const p of prepared) {
      const key = p.name.toLowerCase();
      if (names.has(key)) throw new KeydeskError('NAME_TAKEN', `The name "${printable(p.name)}" appears twice in the batch.`);
      names.add(key);
    }
    return this.#write((w) => prepared.map((p) => this.#insert(w, p)));
  }

  #prepareAdd(input: NewRecord): PreparedAdd {
    const policy = this.#policyOf(input.provider, input.mode);
    const values = { ...input.values };
    const analystExpiry = input.expiresAt ?? null;
    const secretExpiry = policy.expiry?.(values) ?? null;
    const { metadata, secretsSet } = readableMetadata(policy, values);
    return {
      id: newId(),
      name: input.name,
      provider: input.provider,
      mode: input.mode,
      values,
      extra: { ...(input.extra ?? {}) },
      metadata,
      secretsSet,
      observed: input.observed ?? {},
      expiresAt: analystExpiry ?? secretExpiry,
      expirySource: analystExpiry ? 'analyst' : secretExpiry ? 'secret' : null
    };
  }

  #insert(w: WriteContext, p: PreparedAdd): CredentialSummary {
    this.#nameFree(p.name);
    const mac = headerMac(w.vaultKey('header_mac'), { ...p, secret_version: 1 });
    const { wrapped, sealed } = this.#seal(w, p.id, p.provider, p.mode, 1, { v: 1, values: p.values, extra: p.extra });
    const now = w.now;
    stmt(
      w.db,
      `INSERT INTO credentials (id, name, provider, mode, header_mac, secret_version, metadata, observed, status, expires_at, expiry_source, created_at, updated_at, rotated_at)
         VALUES (?, ?, ?, ?, ?, 1, ?, ?, 'unknown', ?, ?, ?, ?, ?)`
    ).run(
      p.id,
      p.name,
      p.provider,
      p.mode,
      mac,
      JSON.stringify({ readable: p.metadata, secretsSet: p.secretsSet }),
      observedToStore(w, p.id, p.observed),
      p.expiresAt,
      p.expirySource,
      now,
      now,
      now
    );
    stmt(w.db, 'INSERT INTO credential_secrets (credential_id, kek_version, wrapped_dek, payload) VALUES (?, ?, ?, ?)').run(
      p.id,
      w.kekVersion,
      wrapped,
      sealed
    );
    w.audit({
      action: 'credential.add',
      outcome: 'ok',
      credentialId: p.id,
      credentialName: p.name,
      detail: { provider: p.provider, mode: p.mode, fields: Object.keys(p.metadata).sort(), secrets: p.secretsSet }
    });
    return {
      id: p.id,
      name: p.name,
      provider: p.provider,
      mode: p.mode,
      metadata: p.metadata,
      secretsSet: p.secretsSet,
      observed: p.observed,
      status: 'unknown',
      lastError: null,
      checkedAt: null,
      expiresAt: p.expiresAt,
      expirySource: p.expirySource,
      createdAt: now,
      updatedAt: now,
      rotatedAt: now
    };
  }

  /**
   * Decrypts a credential. Verifies its header MAC first, then the wrapped DEK and the payload, each bound by AAD
   * to this credential. Distinct errors: HEADER_TAMPERED, SECRET_SWAPPED (the sealed data belongs to another
   * credential), SECRET_TAMPERED (any other change).
   */
  material(ref: string): CredentialMaterial {
    const r = this.#row(ref);
    const payload = this.#payloadOf(r);
    return this.#materialOf(r, payload.values, payload.extra);
  }

  /**
   * The credential as it would be with `secrets` replacing some of its secret fields (checked with `check`), for a
   * provider to prove before anything is stored. Writes nothing. Only secret fields may be given: a rotation never
   * moves where a secret is sent.
   */
  candidate(ref: string, secrets: Readonly<Record<string, string>>, check: ValuesCheck): CredentialMaterial {
    const r = this.#row(ref);
    const payload = this.#payloadOf(r);
    const mode = this.#policyOf(r.provider, r.mode);
    const notSecret = Object.keys(secrets).filter((k) => !mode.fields.some((f) => f.name === k && f.secret));
    if (notSecret.length > 0)
      throw new KeydeskError(
        'INPUT_INVALID',
        `A rotation replaces secret fields only; ${notSecret.map(printable).join(', ')} ${notSecret.length === 1 ? 'is' : 'are'} not one of ${r.provider}/${r.mode}'s secret fields (${mode.fields
          .filter((f) => f.secret)
          .map((f) => f.name)
          .join(', ')}). Change other fields with update.`,
        { fields: Object.fromEntries(notSecret.map((k) => [k, 'not a secret field of this mode'])) }
      );
    if (notSecret.length === 0 && Object.keys(secrets).length === 0)
      throw new KeydeskError('INPUT_INVALID', 'Give the new secret fields to rotate to.');
    return this.#materialOf(r, check(r.provider, r.mode, { ...payload.values, ...secrets }), payload.extra);
  }

  #materialOf(r: CredentialRow, values: Readonly<Record<string, string>>, extra: Readonly<Record<string, string>>): CredentialMaterial {
    const secrets: Record<string, Secret> = {};
    const fields: Record<string, string> = {};
    const mode = this.#policyOf(r.provider, r.mode);
    for (const [k, v] of Object.entries(values)) {
      if (mode.fields.find((f) => f.name === k)?.secret) secrets[k] = new Secret(v);
      else fields[k] = v;
    }
    for (const [k, v] of Object.entries(extra)) secrets[k] = new Secret(v);
    return { id: r.id, name: r.name, provider: r.provider, mode: r.mode, fields, secrets };
  }

  /** The decrypted payload of a row whose header MAC verifies: every field value, and the extra secrets (tokens). */
  #payloadOf(r: CredentialRow): Payload {
    const keys = this.vault.requireUnlocked();
    this.#assertHeader(r);
    return this.#openPayload(r, keys.kek, keys.kekVersion);
  }

  #secretRow(id: string): SecretRow {
    const s = stmt(
      this.vault.db,
      'SELECT credential_id, kek_version, wrapped_dek, payload FROM credential_secrets WHERE credential_id = ?'
    ).get(id) as SecretRow | undefined;
    if (!s) throw new KeydeskError('SECRET_TAMPERED', `Credential ${id}: its encrypted secret is missing from the vault file.`);
    return s;
  }

  #openPayload(r: CredentialRow, kek: SymmetricKey, kekVersion: number): Payload {
    const s = this.#secretRow(r.id);
    let dek: Buffer;
    try {
      dek = open(kek, s.wrapped_dek, AAD.dek(r.id, s.kek_version));
    } catch (e) {
      if (!(e instanceof AuthenticationFailed)) throw e;
      // Another process rotated the KEK since this handle unlocked: not tampering. Locks this handle, KEY_ROTATED.
      this.vault.assertKeyCurrent();
      if (s.kek_version !== kekVersion) {
        throw new KeydeskError(
          'SECRET_TAMPERED',
          `Credential "${printable(r.name)}": its key is marked as wrapped by key version ${s.kek_version}, but the vault is at version ${kekVersion}; the row was changed.`
        );
      }
      throw sealFailure(r.name, 'key', this.#dekOwner(kek, s.wrapped_dek, kekVersion, r.id));
    }
    try {
      const plain = open(dek, s.payload, AAD.payload(r.id, r.provider, r.mode, r.secret_version));
      try {
        return JSON.parse(plain.toString('utf8')) as Payload;
      } finally {
        wipe(plain);
      }
    } catch (e) {
      if (!(e instanceof AuthenticationFailed)) throw e;
      const older = this.#olderVersion(dek, s.payload, r);
      if (older !== null)
        throw new KeydeskError(
          'SECRET_TAMPERED',
          `Credential "${printable(r.name)}": its encrypted secret is an older copy (version ${older}; the credential is at version ${r.secret_version}) put back in the vault file. It will not be used: re-enter the secret, or restore the genuine vault file.`
        );
      throw sealFailure(r.name, 'secret', this.#payloadOwner(kek, s.payload, r.id));
    } finally {
      wipe(dek);
    }
  }

  /** Failure path only: does this payload open as one of the credential's own earlier versions? */
  #olderVersion(dek: Buffer, payload: Buffer, r: CredentialRow): number | null {
    for (let v = r.secret_version - 1; v >= 0 && v >= r.secret_version - 10_000; v--) {
      try {
        wipe(open(dek, payload, AAD.payload(r.id, r.provider, r.mode, v)));
        return v;
      } catch {
        /* not this one */
      }
    }
    return null;
  }

  /** Failure path only: does this wrapped DEK open as another credential's? */
  #dekOwner(kek: SymmetricKey, wrapped: Buffer, kekVersion: number, selfId: string): string | null {
    for (const o of stmt(this.vault.db, 'SELECT id, name FROM credentials WHERE id <> ?').iterate(selfId) as IterableIterator<{
      id: string;
      name: string;
    }>) {
      try {
        wipe(open(kek, wrapped, AAD.dek(o.id, kekVersion)));
        return o.name;
      } catch {
        /* not this one */
      }
    }
    return null;
  }

  /** Failure path only: does this payload open under another credential's DEK and AAD? */
  #payloadOwner(kek: SymmetricKey, payload: Buffer, selfId: string): string | null {
    const rows = stmt(
      this.vault.db,
      'SELECT c.id, c.name, c.provider, c.mode, c.secret_version, s.kek_version, s.wrapped_dek FROM credentials c JOIN credential_secrets s ON s.credential_id = c.id WHERE c.id <> ?'
    ).iterate(selfId) as IterableIterator<{
      id: string;
      name: string;
      provider: string;
      mode: string;
      secret_version: number;
      kek_version: number;
      wrapped_dek: Buffer;
    }>;
    for (const o of rows) {
      try {
        const dek = open(kek, o.wrapped_dek, AAD.dek(o.id, o.kek_version));
        try {
          wipe(open(dek, payload, AAD.payload(o.id, o.provider, o.mode, o.secret_version)));
          return o.name;
        } finally {
          wipe(dek);
        }
      } catch {
        /* not this one */
      }
    }
    return null;
  }

  /**
   * Changes field values. Secret fields given replace the stored ones (a new DEK seals the result). Changing an
   * endpoint override requires every secret it would send again (required ones, and optional ones stored now) and
   * is refused while sign-in tokens are stored, so nobody can redirect an existing secret.
   */
  update(ref: string, input: RecordChange, check: ValuesCheck): CredentialSummary {
    // Read, merge and write in one transaction: another process (an OAuth refresh in the app) may store new tokens
    // between a read outside it and our write, and writing back the values read before would undo its change.
    return this.#write((w) => this.#update(w, ref, input, check));
  }

  #update(w: WriteContext, ref: string, input: RecordChange, check: ValuesCheck): CredentialSummary {
    const r = this.#row(ref);
    const stored = this.#payloadOf(r);
    const mode = this.#policyOf(r.provider, r.mode);
    const given = input.values ?? {};
    if (typeof given !== 'object') throw new KeydeskError('INPUT_INVALID', 'Field values must be an object.');
    const values = check(r.provider, r.mode, { ...stored.values, ...given });

    const changedEndpoints = mode.fields.filter((f) => f.endpoint && (values[f.name] ?? '') !== (stored.values[f.name] ?? ''));
    if (changedEndpoints.length > 0) {
      // Every secret that would follow the new endpoint comes from the caller: the required ones, and optional ones
      // stored now (a session token, an OAuth client secret) unless they are cleared ("") with the change.
      const needed = mode.fields.filter(
        (f) =>
          f.secret &&
          ((f.required && (given[f.name] === undefined || given[f.name] === '')) ||
            (!f.required && stored.values[f.name] !== undefined && given[f.name] === undefined))
      );
      if (needed.length > 0) {
        const fieldErrors = Object.fromEntries(
          needed.map((f) => [f.name, `Enter ${f.label} again to change ${changedEndpoints.map((e) => e.label).join(', ')}`])
        );
        throw new KeydeskError(
          'INPUT_INVALID',
          `Changing ${changedEndpoints.map((e) => e.name).join(', ')} changes where the secret is sent, so the secret fields are required again: ${needed.map((f) => f.name).join(', ')}.`,
          { fields: fieldErrors }
        );
      }
      // Secrets a sign-in stored (OAuth access and refresh tokens) cannot be given again here: they would go to the
      // new endpoint. They must be revoked or forgotten first; the credential then signs in against the new one.
      if (Object.keys(stored.extra).length > 0) {
        throw new KeydeskError(
          'INPUT_INVALID',
          `Changing ${changedEndpoints.map((e) => e.name).join(', ')} would send the sign-in tokens this credential holds to the new endpoint. Revoke them first (keydesk revoke, or --local-only to forget them), then change it and sign in again.`,
          {
            fields: Object.fromEntries(changedEndpoints.map((e) => [e.name, `Revoke the stored sign-in tokens before changing ${e.label}`]))
          }
        );
      }
    }
    const secretChanged = mode.fields.some(
      (f) => f.secret && given[f.name] !== undefined && (values[f.name] ?? '') !== (stored.values[f.name] ?? '')
    );
    const changedFields = mode.fields.filter((f) => given[f.name] !== undefined).map((f) => f.name);
    const analystExpiry = input.expiresAt;
    const secretExpiry = mode.expiry?.(values) ?? null;
    const { metadata, secretsSet } = readableMetadata(mode, values);

    const version = r.secret_version + 1;
    const { wrapped, sealed } = this.#seal(w, r.id, r.provider, r.mode, version, { v: 1, values, extra: stored.extra });
    let expiresAt = r.expires_at;
    let expirySource = r.expiry_source;
    if (analystExpiry !== undefined) {
      expiresAt = analystExpiry ?? secretExpiry;
      expirySource = analystExpiry ? 'analyst' : secretExpiry ? 'secret' : null;
    } else if (secretChanged) {
      // A new secret invalidates what we knew about the old one's expiry, unless the analyst set it.
      expiresAt = expirySource === 'analyst' ? r.expires_at : secretExpiry;
      expirySource = expirySource === 'analyst' ? 'analyst' : secretExpiry ? 'secret' : null;
    }
    stmt(
      w.db,
      `UPDATE credentials SET secret_version = ?, header_mac = ?, metadata = ?, updated_at = ?, rotated_at = CASE WHEN ? THEN ? ELSE rotated_at END,
         status = CASE WHEN ? THEN 'unknown' ELSE status END,
         last_error_code = CASE WHEN ? THEN NULL ELSE last_error_code END,
         last_error_message = CASE WHEN ? THEN NULL ELSE last_error_message END,
         expires_at = ?, expiry_source = ? WHERE id = ?`
    ).run(
      version,
      headerMac(w.vaultKey('header_mac'), { ...r, secret_version: version }),
      JSON.stringify({ readable: metadata, secretsSet }),
      w.now,
      secretChanged ? 1 : 0,
      w.now,
      secretChanged ? 1 : 0,
      secretChanged ? 1 : 0,
      secretChanged ? 1 : 0,
      expiresAt,
      expirySource,
      r.id
    );
    stmt(w.db, 'UPDATE credential_secrets SET kek_version = ?, wrapped_dek = ?, payload = ? WHERE credential_id = ?').run(
      w.kekVersion,
      wrapped,
      sealed,
      r.id
    );
    w.audit({
      action: secretChanged ? 'credential.rotate_secret' : 'credential.update',
      outcome: 'ok',
      credentialId: r.id,
      credentialName: r.name,
      detail: { changed: changedFields.sort(), ...(analystExpiry !== undefined ? { expires_at: analystExpiry } : {}) }
    });
    return this.get(r.id);
  }

  /** Replaces the extra secrets (OAuth tokens) atomically, keeping the field values. */
  setExtraSecrets(
    ref: string,
    extra: Readonly<Record<string, string>>,
    audit: { action: string; detail?: Record<string, unknown> },
    observed?: Record<string, unknown>
  ): CredentialSummary {
    return this.#write((w) => {
      // The field values are read inside the write, so a concurrent update of them in another process is kept.
      const r = this.#row(ref);
      const { values } = this.#payloadOf(r);
      const version = r.secret_version + 1;
      const { wrapped, sealed } = this.#seal(w, r.id, r.provider, r.mode, version, { v: 1, values, extra: { ...extra } });
      stmt(w.db, 'UPDATE credential_secrets SET kek_version = ?, wrapped_dek = ?, payload = ? WHERE credential_id = ?').run(
        w.kekVersion,
        wrapped,
        sealed,
        r.id
      );
      const obs = observed ? observedToStore(w, r.id, { ...parseJsonObject(r.observed), ...observed }) : r.observed;
      stmt(w.db, 'UPDATE credentials SET secret_version = ?, header_mac = ?, updated_at = ?, observed = ? WHERE id = ?').run(
        version,
        headerMac(w.vaultKey('header_mac'), { ...r, secret_version: version }),
        w.now,
        obs,
        r.id
      );
      w.audit({ action: audit.action, outcome: 'ok', credentialId: r.id, credentialName: r.name, detail: audit.detail ?? {} });
      return this.get(r.id);
    });
  }

  /** Renames; `name` is checked by the credentials service. */
  rename(ref: string, name: string): CredentialSummary {
    return this.#write((w) => {
      const r = this.#row(ref);
      this.#assertHeader(r);
      if (r.name === name) return toSummary(r);
      this.#nameFree(name, r.id);
      const mac = headerMac(w.vaultKey('header_mac'), { ...r, name });
      stmt(w.db, 'UPDATE credentials SET name = ?, header_mac = ?, updated_at = ? WHERE id = ?').run(name, mac, w.now, r.id);
      w.audit({ action: 'credential.rename', outcome: 'ok', credentialId: r.id, credentialName: name, detail: { from: r.name, to: name } });
      return this.get(r.id);
    });
  }

  /**
   * Deletes a credential and its wrapped DEK (crypto-shredding its secret), then checkpoints the WAL so no copy
   * of the wrapped DEK stays in the WAL; secure_delete zeroes the freed space in the main file.
   */
  remove(
    ref: string,
    hooks?: { beforeDelete?: (w: WriteContext, id: string) => void }
  ): { id: string; name: string; walTruncated: boolean } {
    const removed = this.#write((w) => {
      const r = this.#row(ref);
      hooks?.beforeDelete?.(w, r.id);
      stmt(w.db, 'DELETE FROM credential_secrets WHERE credential_id = ?').run(r.id);
      stmt(w.db, 'DELETE FROM credentials WHERE id = ?').run(r.id);
      w.audit({
        action: 'credential.remove',
        outcome: 'ok',
        credentialId: r.id,
        credentialName: r.name,
        detail: { provider: r.provider, mode: r.mode }
      });
      return { id: r.id, name: r.name };
    });
    const { busy } = this.vault.checkpoint();
    return { ...removed, walTruncated: !busy };
  }

  /** Records a validation result. Audited: status changes are part of the credential's history. */
  recordHealth(ref: string, h: HealthUpdate, audit: { action?: string; detail?: Record<string, unknown> } = {}): CredentialSummary {
    return this.#write((w) => {
      const r = this.#row(ref);
      const observed = h.observed ? observedToStore(w, r.id, { ...parseJsonObject(r.observed), ...h.observed }) : r.observed;
      const expiresAt = h.expiresAt === undefined || (r.expiry_source === 'analyst' && h.expiresAt !== null) ? r.expires_at : h.expiresAt;
      const expirySource =
        h.expiresAt === undefined || r.expiry_source === 'analyst' ? r.expiry_source : h.expiresAt ? (h.expirySource ?? 'provider') : null;
      stmt(
        w.db,
        'UPDATE credentials SET status = ?, last_error_code = ?, last_error_message = ?, checked_at = ?, expires_at = ?, expiry_source = ?, observed = ? WHERE id = ?'
      ).run(h.status, h.lastError?.code ?? null, h.lastError?.message ?? null, h.checkedAt, expiresAt, expirySource, observed, r.id);
      w.audit({
        action: audit.action ?? 'credential.validate',
        outcome: h.status === 'ok' ? 'ok' : h.status === 'unknown' ? 'error' : 'failed',
        credentialId: r.id,
        credentialName: r.name,
        detail: { status: h.status, ...(h.lastError ? { error_code: h.lastError.code } : {}), ...(audit.detail ?? {}) }
      });
      return this.get(r.id);
    });
  }

  /**
   * The binding suggestions as the provider gave them (needs the key): null when there are none, and
   * BINDING_TAMPERED when the stored list does not match its MAC (edited in the file, or stored by an older Keydesk).
   */
  verifiedSuggestions(ref: string): unknown[] | null {
    const r = this.#row(ref);
    const o = parseJsonObject(r.observed);
    if (o.suggestions === undefined) return null;
    const mac = o[SUGGESTIONS_MAC];
    const expected = Buffer.from(suggestionsMac(this.vault.vaultKey('header_mac'), r.id, o.suggestions), 'hex');
    if (!Array.isArray(o.suggestions) || typeof mac !== 'string' || !equalBytes(Buffer.from(mac, 'hex'), expected)) {
      throw new KeydeskError(
        'BINDING_TAMPERED',
        `The domain suggestions stored for "${printable(r.name)}" do not match their MAC (changed in the vault file, or recorded by an older Keydesk), so they will not be bound. Validate it again to refresh them, or bind domains one by one.`
      );
    }
    return o.suggestions as unknown[];
  }

  /** Decrypts every credential, like a backup tool's integrity check. Needs the key. */
  check(): CheckReport {
    this.vault.requireUnlocked();
    const failures: CheckReport['failures'] = [];
    const ids = stmt(this.vault.db, 'SELECT id, name FROM credentials ORDER BY name').all() as { id: string; name: string }[];
    for (const { id, name } of ids) {
      try {
        this.material(id);
      } catch (e) {
        // A key rotated by another process (or a vault locked meanwhile) says nothing about this credential.
        if (e instanceof KeydeskError && e.code !== 'KEY_ROTATED' && e.code !== 'VAULT_LOCKED')
          failures.push({ id, name, code: e.code, message: e.message });
        else throw e;
      }
    }
    return { checked: ids.length, failures };
  }
}
