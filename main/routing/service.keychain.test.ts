import { generateKeyPairSync } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KeydeskApp } from '../app.ts';
import { SAMPLE, keychainVault, type TempVault } from '../testing/fixtures.ts';

let tv: TempVault;
let app: KeydeskApp;

beforeEach(async () => {
  tv = await keychainVault();
  app = tv.app;
});
afterEach(async () => tv.cleanup());

const m365 = (name: string, secret = 'm365-client-secret-value') =>
  app.credentials.add({
    name,
    provider: 'microsoft_365',
    mode: 'client_secret',
    values: { tenant_id: '11111111-2222-3333-4444-555555555555', client_id: '66666666-7777-8888-9999-000000000000', client_secret: secret }
  });

let saKey: string | null = null;
const workspace = (name: string, mode: 'service_account_dwd' | 'oauth_user' = 'service_account_dwd') => {
  if (mode === 'oauth_user') {
    return app.credentials.add({
      name,
      provider: 'google_workspace',
      mode,
      values: { client_id: 'client-123.apps.googleusercontent.com' }
    });
  }
  saKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const sa = {
    type: 'service_account',
    project_id: 'p',
    private_key_id: 'kid1',
    private_key: saKey,
    client_email: 'sa@p.iam.gserviceaccount.com'
  };
  return app.credentials.add({
    name,
    provider: 'google_workspace',
    mode,
    values: { service_account_json: JSON.stringify(sa), delegated_admin_email: 'admin@corp.example', customer_id: 'C01234abc' }
  });
};

const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return (e as { code?: string }).code;
  }
};

function raw(): Database.Database {
  return new Database(tv.path);
}

describe('binding', () => {
  it('binds a tenant-scoped credential to a normalised domain and lists it (also locked, unverified)', () => {
    const c = m365('Corp M365');
    const b = app.routing.bind('Corp M365', 'Corp.Example.');
    expect(b).toMatchObject({ credentialId: c.id, domain: 'corp.example', subdomains: false, change: 'added', intact: true });
    expect(app.audit.list({ newestFirst: true, limit: 1 })[0]).toMatchObject({
      action: 'binding.add',
      credentialId: c.id,
      detail: { domain: 'corp.example', subdomains: false }
    });

    const other = tv.reopen(); // like another process, never unlocked
    expect(other.routing.list()).toEqual([expect.objectContaining({ domain: 'corp.example', credentialName: 'Corp M365', intact: null })]);
  });

  it('stores IDNA names in ASCII and shows them in Unicode', () => {
    m365('Bücher');
    const b = app.routing.bind('Bücher', 'Bücher.Example');
    expect(b).toMatchObject({ domain: 'xn--bcher-kva.example', domainDisplay: 'bücher.example' });
    expect(app.routing.resolve('disable_user', { hostEmail: 'anna@BÜCHER.example' })).toMatchObject({
      credentialName: 'Bücher',
      domain: 'xn--bcher-kva.example'
    });
  });

  it('binding the same pair again only changes the subdomains flag', () => {
    m365('Corp');
    app.routing.bind('Corp', 'corp.example');
    expect(app.routing.bind('Corp', 'corp.example')).toMatchObject({ change: 'unchanged' });
    expect(app.routing.bind('Corp', 'corp.example', { subdomains: true })).toMatchObject({ change: 'updated', subdomains: true });
    expect(app.routing.list()).toHaveLength(1);
  });

  it('refuses a binding that would make a resolution ambiguous, naming the other credential, and changes nothing', () => {
    m365('Corp M365');
    workspace('Corp Workspace');
    app.routing.bind('Corp M365', 'corp.example');
    const before = app.audit.list().length;
    let err: { code?: string; message?: string } = {};
    try {
      app.routing.bind('Corp Workspace', 'corp.example', { subdomains: true });
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.code).toBe('AMBIGUOUS_BINDING');
    expect(err.message).toContain('"Corp M365"');
    expect(app.routing.list()).toHaveLength(1);
    expect(app.audit.list()).toHaveLength(before);
  });

  it('lets credentials with disjoint capabilities share a domain; each capability routes to the one that can run it', () => {
    workspace('Workspace user', 'oauth_user'); // block_sender, disable_user
    app.credentials.add({ name: 'Blocklist', ...SAMPLE.blocklist() }); // block_email_domain
    app.routing.bind('Workspace user', 'corp.example');
    app.routing.bind('Blocklist', 'corp.example');
    expect(app.routing.resolve('disable_user', { hostDomain: 'corp.example' }).credentialName).toBe('Workspace user');
    expect(app.routing.resolve('block_email_domain', { hostEmail: 'x@corp.example' }).credentialName).toBe('Blocklist');
  });

  it('refuses to bind a credential that is not tenant-scoped, and bad domains, changing nothing', () => {
    app.credentials.add({ name: 'VPS', ...SAMPLE.hostinger() });
    m365('Corp');
    const before = app.audit.list().length;
    expect(codeOf(() => app.routing.bind('VPS', 'corp.example'))).toBe('INPUT_INVALID');
    for (const bad of ['corp', 'https://corp.example', '*.corp.example', 'alice@corp.example', '10.0.0.1']) {
      expect(codeOf(() => app.routing.bind('Corp', bad))).toBe('INPUT_INVALID');
    }
    expect(codeOf(() => app.routing.bind('Nobody', 'corp.example'))).toBe('NOT_FOUND');
    expect(app.routing.list()).toHaveLength(0);
    expect(app.audit.list()).toHaveLength(before);
  });

  it('needs the vault key to bind (locked: VAULT_LOCKED, nothing written)', () => {
    m365('Corp');
    app.vault.lock();
    expect(codeOf(() => app.routing.bind('Corp', 'corp.example'))).toBe('VAULT_LOCKED');
    expect(app.routing.list()).toHaveLength(0);
  });

  it('unbinds, and removing a credential removes its bindings', () => {
    m365('A');
    m365('B');
    app.routing.bind('A', 'a.example');
    app.routing.bind('A', 'a2.example');
    app.routing.bind('B', 'b.example');
    expect(app.routing.unbind('A', 'A.example.')).toMatchObject({ domain: 'a.example' });
    expect(codeOf(() => app.routing.unbind('A', 'a.example'))).toBe('NOT_FOUND');
    app.credentials.remove('A');
    expect(app.routing.list().map((b) => b.domain)).toEqual(['b.example']);
    expect(codeOf(() => app.routing.resolve('disable_user', { hostDomain: 'a2.example' }))).toBe('NO_BINDING');
  });

  it('accepts the provider’s domain suggestions in one step (only valid, unbound ones)', () => {
    const c = m365('Corp');
    app.credentials.recordHealth(c.id, {
      status: 'ok',
      lastError: null,
      checkedAt: new Date().toISOString(),
      observed: { suggestions: ['corp.example', 'Corp.onmicrosoft.com', 'not a domain', 'corp.example'] }
    });
    app.routing.bind('Corp', 'corp.example');
    expect(app.routing.suggestions('Corp')).toEqual(['corp.onmicrosoft.com']);
    const added = app.routing.acceptSuggestions('Corp', { subdomains: true });
    expect(added.map((b) => [b.domain, b.subdomains])).toEqual([['corp.onmicrosoft.com', true]]);
    expect(app.routing.suggestions('Corp')).toEqual([]);
    expect(codeOf(() => app.routing.acceptSuggestions('Corp'))).toBe('NOT_FOUND');
  });

  it('accepting suggestions is all or nothing: one conflict refuses them all', () => {
    m365('Other');
    app.routing.bind('Other', 'b.example');
    const c = m365('Corp');
    app.credentials.recordHealth(c.id, {
      status: 'ok',
      lastError: null,
      checkedAt: new Date().toISOString(),
      observed: { suggestions: ['a.example', 'b.example'] }
    });
    expect(codeOf(() => app.routing.acceptSuggestions('Corp'))).toBe('AMBIGUOUS_BINDING');
    expect(app.routing.list({ credential: 'Corp' })).toEqual([]);
  });

  it('security: a suggestion planted in the vault file is never bound (it would route another tenant’s actions here)', () => {
    const c = m365('Corp');
    app.credentials.recordHealth(c.id, {
      status: 'ok',
      lastError: null,
      checkedAt: new Date().toISOString(),
      observed: { suggestions: ['corp.example'] }
    });
    const before = app.audit.list().length;
    const raw = new Database(tv.path);
    try {
      const stored = JSON.parse(
        (raw.prepare('SELECT observed FROM credentials WHERE id = ?').get(c.id) as { observed: string }).observed
      ) as Record<string, unknown>;
      raw
        .prepare('UPDATE credentials SET observed = ? WHERE id = ?')
        .run(JSON.stringify({ ...stored, suggestions: ['corp.example', 'victim.example'] }), c.id);
      expect(app.routing.suggestions('Corp')).toEqual(['corp.example', 'victim.example']); // shown as stored (display)…
      expect(codeOf(() => app.routing.acceptSuggestions('Corp'))).toBe('BINDING_TAMPERED'); // …but never bound
      // Stripping the MAC (or a list stored without one) is refused the same way.
      raw.prepare('UPDATE credentials SET observed = ? WHERE id = ?').run(JSON.stringify({ suggestions: ['victim.example'] }), c.id);
      expect(codeOf(() => app.routing.acceptSuggestions('Corp'))).toBe('BINDING_TAMPERED');
    } finally {
      raw.close();
    }
    expect(app.routing.list()).toEqual([]);
    expect(app.audit.list()).toHaveLength(before);
    // Validating again records the provider's list with a fresh MAC, and it binds.
    app.credentials.recordHealth(c.id, {
      status: 'ok',
      lastError: null,
      checkedAt: new Date().toISOString(),
      observed: { suggestions: ['corp.example'] }
    });
    expect(app.routing.acceptSuggestions('Corp').map((b) => b.domain)).toEqual(['corp.example']);
    expect(app.credentials.get('Corp').observed).not.toHaveProperty('suggestions_mac'); // internal, never shown
  });
});

describe('resolution', () => {
  beforeEach(() => {
    m365('Corp M365');
    workspace('Labs Workspace');
    app.credentials.add({ name: 'Blocklist', ...SAMPLE.blocklist() });
  });

  it('resolves an exact domain, and a mailbox by its domain', () => {
    app.routing.bind('Corp M365', 'corp.example');
    expect(app.routing.resolve('disable_user', { hostDomain: 'corp.example' })).toMatchObject({
      credentialName: 'Corp M365',
      matched: 'exact',
      verified: true
    });
    expect(app.routing.resolve('block_sender', { hostEmail: 'Alice@Corp.Example' })).toMatchObject({
      credentialName: 'Corp M365',
      host: { kind: 'email', value: 'alice@corp.example', domain: 'corp.example' }
    });
  });

  it('reaches subdomains only with the subdomains flag, and the most specific binding wins', () => {
    app.routing.bind('Corp M365', 'corp.example');
    expect(codeOf(() => app.routing.resolve('disable_user', { hostDomain: 'labs.corp.example' }))).toBe('NO_BINDING');
    app.routing.bind('Corp M365', 'corp.example', { subdomains: true });
    expect(app.routing.resolve('disable_user', { hostDomain: 'x.labs.corp.example' })).toMatchObject({
      credentialName: 'Corp M365',
      matched: 'parent',
      domain: 'corp.example'
    });
    app.routing.bind('Labs Workspace', 'labs.corp.example');
    expect(app.routing.resolve('disable_user', { hostEmail: 'bob@labs.corp.example' })).toMatchObject({
      credentialName: 'Labs Workspace',
      matched: 'exact'
    });
    // labs.corp.example is bound exactly (no subdomains): deeper hosts fall back to the covering parent.
    expect(app.routing.resolve('disable_user', { hostDomain: 'x.labs.corp.example' }).credentialName).toBe('Corp M365');
  });

  it('no binding is NO_BINDING; a bound domain whose credential cannot run the capability is INPUT_INVALID, naming the credential', () => {
    expect(codeOf(() => app.routing.resolve('disable_user', { hostDomain: 'corp.example' }))).toBe('NO_BINDING');
    app.routing.bind('Blocklist', 'corp.example');
    try {
      app.routing.resolve('disable_user', { hostDomain: 'corp.example' });
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'INPUT_INVALID' });
      expect((e as Error).message).toContain('"Blocklist" (agentsoc_mail_block/bearer_token)');
    }
  });

  it('refuses bad capability and host input with INPUT_INVALID', () => {
    app.routing.bind('Corp M365', 'corp.example');
    expect(codeOf(() => app.routing.resolve('launch_missiles', { hostDomain: 'corp.example' }))).toBe('INPUT_INVALID');
    expect(codeOf(() => app.routing.resolve('disable_user', { hostEmail: 'not-an-email' }))).toBe('INPUT_INVALID');
    expect(codeOf(() => app.routing.resolve('disable_user', { hostEmail: 'a@corp.example', hostDomain: 'corp.example' }))).toBe(
      'INPUT_INVALID'
    );
    expect(codeOf(() => app.routing.resolve('disable_user', {}))).toBe('INPUT_INVALID');
  });

  it('needs the key to verify; offline inspection of a locked vault says it did not verify', () => {
    app.routing.bind('Corp M365', 'corp.example');
    const other = tv.reopen();
    expect(codeOf(() => other.routing.resolve('disable_user', { hostDomain: 'corp.example' }))).toBe('VAULT_LOCKED');
    expect(other.routing.resolve('disable_user', { hostDomain: 'corp.example' }, { verify: false })).toMatchObject({
      credentialName: 'Corp M365',
      verified: false
    });
  });
});

describe('binding integrity (security: a binding edited in the vault file is never used)', () => {
  beforeEach(() => {
    m365('Corp M365');
    m365('Attacker tenant');
    app.routing.bind('Corp M365', 'corp.example');
    app.routing.bind('Attacker tenant', 'attacker.example');
  });

  const edit = (sql: string) => {
    const db = raw();
    db.prepare(sql).run();
    db.close();
  };

  it('a binding re-pointed at another credential is BINDING_TAMPERED (another process checks the file)', async () => {
    const attacker = app.credentials.get('Attacker tenant');
    edit(`UPDATE bindings SET credential_id = '${attacker.id}' WHERE domain = 'corp.example'`);
    const other = tv.reopen();
    await other.vault.unlock();
    expect(codeOf(() => other.routing.resolve('disable_user', { hostDomain: 'corp.example' }))).toBe('BINDING_TAMPERED');
    expect(other.routing.list().find((b) => b.domain === 'corp.example')?.intact).toBe(false);
    expect(other.routing.tampered().map((b) => b.domain)).toEqual(['corp.example']);
  });

  it('a binding moved to another domain, or given the subdomains flag, is BINDING_TAMPERED', async () => {
    edit("UPDATE bindings SET domain = 'victim.example' WHERE domain = 'attacker.example'");
    expect(codeOf(() => app.routing.resolve('disable_user', { hostDomain: 'victim.example' }))).toBe('BINDING_TAMPERED');
    edit("UPDATE bindings SET subdomains = 1 WHERE domain = 'corp.example'");
    expect(codeOf(() => app.routing.resolve('disable_user', { hostDomain: 'mail.corp.example' }))).toBe('BINDING_TAMPERED');
  });

  it('a credential whose mode was edited (to change what it can run) is refused through its binding', () => {
    edit("UPDATE credentials SET mode = 'oauth_delegated' WHERE name = 'Corp M365'");
    expect(codeOf(() => app.routing.resolve('disable_user', { hostDomain: 'corp.example' }))).toBe('BINDING_TAMPERED');
  });

  it('a row edited after it was verified and remembered is checked again (the verification cache keys on the exact contents)', () => {
    const attacker = app.credentials.get('Attacker tenant');
    expect(app.routing.resolve('disable_user', { hostDomain: 'corp.example' }).credentialName).toBe('Corp M365');
    expect(app.routing.resolve('disable_user', { hostDomain: 'corp.example' }).credentialName).toBe('Corp M365');
    edit(`UPDATE bindings SET credential_id = '${attacker.id}' WHERE domain = 'corp.example'`);
    expect(codeOf(() => app.routing.resolve('disable_user', { hostDomain: 'corp.example' }))).toBe('BINDING_TAMPERED');
    expect(app.routing.resolve('disable_user', { hostDomain: 'attacker.example' }).credentialName).toBe('Attacker tenant');
    edit("UPDATE credentials SET name = 'Renamed in the file' WHERE name = 'Attacker tenant'");
    expect(codeOf(() => app.routing.resolve('disable_user', { hostDomain: 'attacker.example' }))).toBe('BINDING_TAMPERED');
  });

  it('a forged binding row (no valid MAC) is refused', () => {
    const attacker = app.credentials.get('Attacker tenant');
    edit(
      `INSERT INTO bindings (id, credential_id, domain, subdomains, created_at, mac) VALUES ('forged', '${attacker.id}', 'bank.example', 1, 'x', x'00')`
    );
    expect(codeOf(() => app.routing.resolve('disable_user', { hostEmail: 'ceo@bank.example' }))).toBe('BINDING_TAMPERED');
  });
});
