import type { Database } from 'better-sqlite3';

// Domain bindings, capability executions and re-auth prompts (issue 5).
// Migrations never import application code: the schema they write must not change when the app does.
export function up(db: Database): void {
  db.exec(`
    -- A tenant-scoped credential protects a domain (and, with subdomains = 1, every domain under it).
    -- mac = HMAC(binding_mac key, id, credential id, domain, subdomains): verified before routing uses it.
    -- Removing a credential removes its bindings (ON DELETE CASCADE).
    CREATE TABLE bindings (
      id            TEXT PRIMARY KEY,
      credential_id TEXT NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
      domain        TEXT NOT NULL,
      subdomains    INTEGER NOT NULL CHECK (subdomains IN (0, 1)),
      created_at    TEXT NOT NULL,
      mac           BLOB NOT NULL
    ) STRICT;
    CREATE UNIQUE INDEX bindings_credential_domain ON bindings (credential_id, domain);
    CREATE INDEX bindings_domain ON bindings (domain);

    -- One run of one capability against one target. History outlives the credential (credential_id is set to NULL
    -- when it is removed; its name stays). steps and result are JSON; revert_context is JSON captured before the
    -- provider call. claimed_by/lease_until say which process runs it (a run found running with a dead owner at
    -- start-up is interrupted); revert_claimed_by/revert_lease_until do the same for a revert in progress.
    CREATE TABLE executions (
      id                 TEXT PRIMARY KEY,
      capability         TEXT NOT NULL,
      target             TEXT NOT NULL,
      host_email         TEXT,
      host_domain        TEXT,
      reason             TEXT NOT NULL,
      actor              TEXT NOT NULL,
      actor_kind         TEXT NOT NULL CHECK (actor_kind IN ('analyst', 'agent')),
      credential_id      TEXT REFERENCES credentials (id) ON DELETE SET NULL,
      credential_name    TEXT NOT NULL,
      provider           TEXT NOT NULL,
      mode               TEXT NOT NULL,
      binding_id         TEXT,
      bound_domain       TEXT,
      status             TEXT NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'reverted', 'revert_failed', 'awaiting_reauth', 'expired_awaiting_reauth')),
      failure_reason     TEXT CHECK (failure_reason IN ('credential_invalid', 'cloud_api_error', 'inventory_not_found', 'input_invalid')),
      marker             TEXT CHECK (marker IN ('superseded', 'interrupted')),
      related_id         TEXT,
      error_code         TEXT,
      error_message      TEXT,
      result             TEXT,
      revert_context     TEXT,
      steps              TEXT NOT NULL DEFAULT '[]',
      dedupe_key         TEXT NOT NULL,
      deadline           TEXT,
      attempts           INTEGER NOT NULL DEFAULT 0,
      claimed_by         TEXT,
      lease_until        TEXT,
      revert_claimed_by  TEXT,
      revert_lease_until TEXT,
      created_at         TEXT NOT NULL,
      updated_at         TEXT NOT NULL,
      finished_at        TEXT,
      reverted_at        TEXT
    ) STRICT;
    CREATE INDEX executions_status ON executions (status);
    CREATE INDEX executions_credential ON executions (credential_id, status);
    CREATE INDEX executions_dedupe ON executions (dedupe_key, status);
    CREATE INDEX executions_created ON executions (created_at);

    -- A pending re-auth prompt per credential while runs wait on it; cleared (resolved or expired) afterwards.
    CREATE TABLE reauth_prompts (
      id            TEXT PRIMARY KEY,
      credential_id TEXT NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
      state         TEXT NOT NULL CHECK (state IN ('pending', 'resolved', 'expired')),
      reason_code   TEXT NOT NULL,
      reason        TEXT NOT NULL,
      raised_at     TEXT NOT NULL,
      deadline      TEXT NOT NULL,
      cleared_at    TEXT
    ) STRICT;
    CREATE UNIQUE INDEX reauth_prompts_one_pending ON reauth_prompts (credential_id) WHERE state = 'pending';
  `);
}
