import type { Database } from 'better-sqlite3';

// Version 1: the vault itself, credentials with their sealed secrets, and the audit chain.
// Migrations never import application code: the schema they write must not change when the app does.
export function up(db: Database): void {
  db.exec(`
    CREATE TABLE vault_meta (
      id          INTEGER PRIMARY KEY CHECK (id = 1),
      vault_id    TEXT NOT NULL,
      created_at  TEXT NOT NULL,
      key_source  TEXT NOT NULL CHECK (key_source IN ('keychain', 'passphrase')),
      kek_version INTEGER NOT NULL CHECK (kek_version >= 1),
      kek_check   BLOB NOT NULL,
      kdf_salt    BLOB,
      kdf_params  TEXT
    ) STRICT;

    -- Vault-wide keys (header MAC, audit MAC), each a random key wrapped by the KEK.
    CREATE TABLE vault_keys (
      name        TEXT PRIMARY KEY,
      kek_version INTEGER NOT NULL,
      wrapped     BLOB NOT NULL
    ) STRICT;

    CREATE TABLE credentials (
      id                 TEXT PRIMARY KEY,
      name               TEXT NOT NULL,
      provider           TEXT NOT NULL,
      mode               TEXT NOT NULL,
      header_mac         BLOB NOT NULL,
      metadata           TEXT NOT NULL DEFAULT '{}',
      observed           TEXT NOT NULL DEFAULT '{}',
      status             TEXT NOT NULL DEFAULT 'unknown' CHECK (status IN ('ok', 'failed', 'expired', 'unknown')),
      last_error_code    TEXT,
      last_error_message TEXT,
      checked_at         TEXT,
      expires_at         TEXT,
      expiry_source      TEXT CHECK (expiry_source IN ('provider', 'secret', 'analyst')),
      created_at         TEXT NOT NULL,
      updated_at         TEXT NOT NULL,
      rotated_at         TEXT NOT NULL
    ) STRICT;
    CREATE UNIQUE INDEX credentials_name ON credentials (name COLLATE NOCASE);

    -- The sealed half of a credential: a per-credential DEK wrapped by the KEK, and the payload sealed by the DEK.
    CREATE TABLE credential_secrets (
      credential_id TEXT PRIMARY KEY REFERENCES credentials (id) ON DELETE CASCADE,
      kek_version   INTEGER NOT NULL,
      wrapped_dek   BLOB NOT NULL,
      payload       BLOB NOT NULL
    ) STRICT;

    CREATE TABLE audit_log (
      seq             INTEGER PRIMARY KEY,
      at              TEXT NOT NULL,
      actor           TEXT NOT NULL,
      action          TEXT NOT NULL,
      credential_id   TEXT,
      credential_name TEXT,
      outcome         TEXT NOT NULL,
      detail          TEXT NOT NULL DEFAULT '{}',
      mac             BLOB NOT NULL
    ) STRICT;
  `);
}
