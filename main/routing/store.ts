import type { Statement } from 'better-sqlite3';
import { DATA_VERSION_COLUMN, stmt, type Db } from '../vault/db.ts';

/** A binding row, as stored. */
export interface BindingRow {
  id: string;
  credential_id: string;
  domain: string;
  subdomains: number;
  created_at: string;
  mac: Buffer;
}

const COLUMNS = 'id, credential_id, domain, subdomains, created_at, mac';

/**
 * All SQL on the `bindings` table: routing owns it. What a binding points to (the credential's name, provider, mode
 * and header MAC) comes from the credentials service, never from a join on its table.
 */
export class BindingStore {
  readonly #db: Db;
  #atDomain: Statement<[string], BindingRow & { data_version: number }> | null = null;

  constructor(db: Db) {
    this.#db = db;
  }

  all(): BindingRow[] {
    return stmt(this.#db, `SELECT ${COLUMNS} FROM bindings ORDER BY domain`).all() as BindingRow[];
  }

  ofCredential(credentialId: string): BindingRow[] {
    return stmt(this.#db, `SELECT ${COLUMNS} FROM bindings WHERE credential_id = ? ORDER BY domain`).all(credentialId) as BindingRow[];
  }

  get(id: string): BindingRow | undefined {
    return stmt(this.#db, `SELECT ${COLUMNS} FROM bindings WHERE id = ?`).get(id) as BindingRow | undefined;
  }

  /**
   * The bindings of exactly this domain (the hot path of every resolution), each with the file's data_version as of
   * this read, against which the credential header cache is checked.
   */
  atDomain(domain: string): (BindingRow & { data_version: number })[] {
    // `IN (?)`, not `= ?`: SQLite re-plans a statement on every new value bound to an equality term that an index could
    // use (its STAT4 re-prepare), which costs several times the lookup itself; the one-element IN list plans once.
    this.#atDomain ??= this.#db.prepare<[string], BindingRow & { data_version: number }>(
      `SELECT ${COLUMNS}, ${DATA_VERSION_COLUMN} FROM bindings WHERE domain IN (?)`
    );
    return this.#atDomain.all(domain);
  }

  find(credentialId: string, domain: string): BindingRow | undefined {
    return stmt(this.#db, `SELECT ${COLUMNS} FROM bindings WHERE credential_id = ? AND domain = ?`).get(credentialId, domain) as
      BindingRow | undefined;
  }

  insert(db: Db, row: BindingRow): void {
    stmt(db, `INSERT INTO bindings (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`).run(
      row.id,
      row.credential_id,
      row.domain,
      row.subdomains,
      row.created_at,
      row.mac
    );
  }

  setSubdomains(db: Db, id: string, subdomains: boolean, mac: Buffer): void {
    stmt(db, 'UPDATE bindings SET subdomains = ?, mac = ? WHERE id = ?').run(subdomains ? 1 : 0, mac, id);
  }

  delete(db: Db, id: string): void {
    stmt(db, 'DELETE FROM bindings WHERE id = ?').run(id);
  }
}
