import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SAMPLE, keychainVault, manualClock, vaultFilesBytes, type TempVault } from '../testing/fixtures.ts';
import { defaultRegistry } from '../providers/registry.ts';

const vaults: TempVault[] = [];
afterEach(async () => {
  for (const v of vaults.splice(0)) await v.cleanup();
});
async function vault(clock = manualClock()): Promise<TempVault> {
  const v = await keychainVault({ clock });
  vaults.push(v);
  return v;
}

describe('credentials', () => {
  it('add stores readable metadata (with last four of key ids) and keeps secrets write-only', async () => {
    const v = await vault();
    const c = v.app.credentials.add({ name: 'AWS prod', ...SAMPLE.aws() });
    expect(c).toMatchObject({
      name: 'AWS prod',
      provider: 'aws',
      mode: 'access_key',
      status: 'unknown',
      lastError: null,
      checkedAt: null,
      metadata: { region: 'us-east-1', access_key_id_last4: 'MPLE' },
      secretsSet: ['access_key_id', 'secret_access_key']
    });
    expect(JSON.stringify(c)).not.toContain('wJalrXUtnFEMI');
    expect(JSON.stringify(c)).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(c.createdAt).toBe('2026-11-21T12:00:00.000Z');
    const m = v.app.credentials.material(c.id);
    expect(m.fields).toEqual({ region: 'us-east-1' });
    expect(m.secrets.secret_access_key?.reveal()).toBe('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
  });

  it('every provider has modes whose fields follow PROVIDERS.md names', () => {
    const modes = Object.fromEntries(defaultRegistry.specs().map((p) => [p.id, p.modes.map((m) => m.id)]));
    expect(modes).toEqual({
      aws: ['access_key', 'assume_role'],
      gcp: ['service_account_key', 'external_account'],
      azure: ['client_secret', 'certificate'],
      google_workspace: ['service_account_dwd', 'oauth_user'],
      microsoft_365: ['client_secret', 'certificate', 'oauth_delegated'],
      hostinger: ['api_token'],
      agentsoc_mail_block: ['bearer_token'],
      oauth: ['authorization_code']
    });
  });

  it('rejects bad input with INPUT_INVALID naming each field (never its value) and changes nothing', async () => {
    const v = await vault();
    const before = v.app.vault.info();
    const bad = [
      {
        name: 'x',
        provider: 'aws',
        mode: 'access_key',
        values: { access_key_id: 'nope', secret_access_key: 'SECRETVALUE-zz9', region: 'moon' }
      },
      { name: 'x', provider: 'nope', mode: 'access_key', values: {} },
      { name: 'x', provider: 'aws', mode: 'nope', values: {} },
      { name: '', ...SAMPLE.aws() },
      { name: '-flag', ...SAMPLE.aws() },
      { name: 'x', provider: 'hostinger', mode: 'api_token', values: { api_token: 'tok_0123456789abcdef', extra_field: '1' } },
      {
        name: 'x',
        provider: 'hostinger',
        mode: 'api_token',
        values: { api_token: 'tok_0123456789abcdef', api_base_url: 'http://evil.example' }
      },
      { name: 'x', provider: 'hostinger', mode: 'api_token', values: { api_token: 42 } },
      {
        name: 'x',
        provider: 'gcp',
        mode: 'external_account',
        values: {
          external_account_json: JSON.stringify({
            type: 'external_account',
            audience: 'a',
            subject_token_type: 't',
            token_url: 'https://sts.googleapis.com/v1/token',
            credential_source: { executable: { command: '/bin/sh' } }
          })
        }
      }
    ];
    for (const input of bad) {
      let err: unknown;
      try {
        v.app.credentials.add(input as never);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(input.values)).toMatchObject({ code: 'INPUT_INVALID' });
      expect(String((err as Error).message)).not.toContain('SECRETVALUE');
    }
    const first = (() => {
      try {
        v.app.credentials.add(bad[0] as never);
      } catch (e) {
        return e as { fields?: Record<string, string> };
      }
      return null;
    })();
    expect(Object.keys(first?.fields ?? {}).sort()).toEqual(['access_key_id', 'region', 'secret_access_key']);
    expect(v.app.vault.info()).toEqual(before);
  });

  it('executable credential sources are refused with a message that says why', async () => {
    const v = await vault();
    const values = {
      external_account_json: JSON.stringify({
        type: 'external_account',
        audience: 'a',
        subject_token_type: 't',
        token_url: 'https://sts.googleapis.com/v1/token',
        credential_source: { executable: { command: 'x' } }
      })
    };
    expect(() => v.app.credentials.add({ name: 'wif', provider: 'gcp', mode: 'external_account', values })).toThrow(
      /executable credential sources are refused/
    );
  });

  it('names are unique regardless of case', async () => {
    const v = await vault();
    v.app.credentials.add({ name: 'Hostinger', ...SAMPLE.hostinger() });
    expect(() => v.app.credentials.add({ name: 'hostinger', ...SAMPLE.hostinger() })).toThrow(
      expect.objectContaining({ code: 'NAME_TAKEN' })
    );
    expect(v.app.credentials.list()).toHaveLength(1);
  });

  it('replacing a secret re-seals it, resets health and sets the rotated time', async () => {
    const clock = manualClock();
    const v = await vault(clock);
    const c = v.app.credentials.add({ name: 'h', ...SAMPLE.hostinger('old_token_0123456789abc') });
    v.app.credentials.recordHealth(c.id, {
      status: 'failed',
      lastError: { code: '401', message: 'wrong token' },
      checkedAt: clock.now().toISOString()
    });
    clock.advance(60_000);
    const u = v.app.credentials.update(c.id, { values: { api_token: 'new_token_0123456789abc' } });
    expect(u.rotatedAt).toBe('2026-11-21T12:01:00.000Z');
    expect(u.status).toBe('unknown');
    expect(u.lastError).toBeNull();
    expect(v.app.credentials.material(c.id).secrets.api_token?.reveal()).toBe('new_token_0123456789abc');
    const actions = v.app.audit.list().map((e) => e.action);
    expect(actions).toEqual(['vault.init', 'credential.add', 'credential.validate', 'credential.rotate_secret']);
  });

  it('changing an endpoint override requires the secret fields again (a renderer cannot redirect a stored secret)', async () => {
    const v = await vault();
    const c = v.app.credentials.add({ name: 'h', ...SAMPLE.hostinger() });
    const before = v.app.audit.list().length;
    expect(() => v.app.credentials.update(c.id, { values: { api_base_url: 'https://attacker.example' } })).toThrow(
      expect.objectContaining({ code: 'INPUT_INVALID', fields: { api_token: expect.stringContaining('again') } })
    );
    expect(v.app.audit.list()).toHaveLength(before);
    expect(v.app.credentials.material(c.id).fields.api_base_url).toBeUndefined();
    const u = v.app.credentials.update(c.id, {
      values: { api_base_url: 'https://proxy.example', api_token: 'hst_sample_token_0123456789' }
    });
    expect(u.metadata.api_base_url).toBe('https://proxy.example');
    expect(v.app.credentials.material(c.id).fields.api_base_url).toBe('https://proxy.example');
  });

  it('non-secret fields can change alone; an analyst expiry is kept', async () => {
    const v = await vault();
    const c = v.app.credentials.add({ name: 'a', ...SAMPLE.aws(), expiresAt: '2027-01-31' });
    expect(c.expiresAt).toBe('2027-01-31T00:00:00.000Z');
    expect(c.expirySource).toBe('analyst');
    const u = v.app.credentials.update(c.id, { values: { region: 'eu-west-1' } });
    expect(u.metadata.region).toBe('eu-west-1');
    expect(u.expiresAt).toBe('2027-01-31T00:00:00.000Z');
    expect(() => v.app.credentials.update(c.id, { expiresAt: 'tomorrow' })).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
  });

  it('a certificate field that is not a certificate + key PEM is refused', async () => {
    const v = await vault();
    expect(() =>
      v.app.credentials.add({
        name: 'cert',
        provider: 'azure',
        mode: 'certificate',
        values: {
          tenant_id: 'contoso.onmicrosoft.com',
          client_id: '00000000-0000-0000-0000-000000000001',
          subscription_id: '00000000-0000-0000-0000-000000000002',
          certificate_pem: 'not a pem'
        }
      })
    ).toThrow(expect.objectContaining({ code: 'INPUT_INVALID', fields: { certificate_pem: expect.stringContaining('CERTIFICATE') } }));
  });

  it('rename re-MACs the header; remove destroys the wrapped key and the row', async () => {
    const v = await vault();
    const c = v.app.credentials.add({ name: 'h', ...SAMPLE.hostinger() });
    const r = v.app.credentials.rename('h', 'Hostinger prod');
    expect(r.name).toBe('Hostinger prod');
    expect(v.app.credentials.material('hostinger PROD').id).toBe(c.id);
    const wrapped = (
      v.app.vault.db.prepare('SELECT wrapped_dek FROM credential_secrets WHERE credential_id = ?').get(c.id) as { wrapped_dek: Buffer }
    ).wrapped_dek;
    expect(vaultFilesBytes(v.path).includes(wrapped)).toBe(true);
    const removed = v.app.credentials.remove(c.id);
    expect(removed.walTruncated).toBe(true);
    expect(v.app.credentials.list()).toEqual([]);
    expect(v.app.vault.db.prepare('SELECT count(*) AS n FROM credential_secrets').get()).toEqual({ n: 0 });
    expect(vaultFilesBytes(v.path).includes(wrapped)).toBe(false);
    expect(() => v.app.credentials.get(c.id)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('a header read once is read again when the file changed: another process’s rename, an edit, this process’s own writes', async () => {
    const v = await vault();
    const c = v.app.credentials.add({ name: 'Edge', ...SAMPLE.hostinger() });
    expect(v.app.credentials.header(c.id, { verify: true })).toMatchObject({ name: 'Edge', status: 'unknown' });
    // Another process renames it (a legitimate write): the next read sees the new name, and it verifies.
    const other = v.reopen();
    await other.vault.unlock();
    other.credentials.rename(c.id, 'Edge main');
    expect(v.app.credentials.header(c.id, { verify: true })).toMatchObject({ name: 'Edge main' });
    // Someone edits the provider in the file: the next read sees it, and it no longer verifies.
    const raw = new Database(v.path);
    raw.prepare("UPDATE credentials SET mode = 'oauth_user' WHERE id = ?").run(c.id);
    raw.close();
    expect(v.app.credentials.header(c.id)).toMatchObject({ mode: 'oauth_user' });
    expect(v.app.credentials.header(c.id, { verify: true })).toBeNull();
    // This process's own write (a validation result) is seen at once.
    const fresh = v.app.credentials.add({ name: 'Second', ...SAMPLE.hostinger() });
    expect(v.app.credentials.header(fresh.id)?.status).toBe('unknown');
    v.app.credentials.recordHealth(fresh.id, {
      status: 'failed',
      lastError: { code: 'X', message: 'x' },
      checkedAt: new Date().toISOString()
    });
    expect(v.app.credentials.header(fresh.id)?.status).toBe('failed');
  });

  it('remove while another process is reading: the WAL copy of the wrapped key is reported, then gone once the reader is done and the handle closes', async () => {
    const v = await vault();
    const c = v.app.credentials.add({ name: 'h', ...SAMPLE.hostinger() });
    const wrapped = (
      v.app.vault.db.prepare('SELECT wrapped_dek FROM credential_secrets WHERE credential_id = ?').get(c.id) as { wrapped_dek: Buffer }
    ).wrapped_dek;
    const reader = new Database(v.path); // another connection, as the app would be while the CLI removes
    try {
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) AS n FROM credentials').get(); // holds a read snapshot of the WAL
      const removed = v.app.credentials.remove(c.id);
      expect(removed.walTruncated).toBe(false); // said, not hidden
      expect(vaultFilesBytes(v.path).includes(wrapped)).toBe(true);
      reader.exec('COMMIT'); // the reader is done, but keeps the vault open
      await v.app.close();
      expect(vaultFilesBytes(v.path).includes(wrapped)).toBe(false);
    } finally {
      reader.close();
    }
  });

  it('addMany stores a batch in one transaction, one audit entry each; one bad item stores nothing', async () => {
    const v = await vault();
    const before = v.app.vault.info();
    const bad = [
      { name: 'b1', ...SAMPLE.hostinger() },
      { name: 'b2', provider: 'hostinger', mode: 'api_token', values: { api_token: 'short' } }
    ];
    expect(() => v.app.credentials.addMany(bad)).toThrow(
      expect.objectContaining({ code: 'INPUT_INVALID', message: expect.stringContaining('Item 2') })
    );
    expect(() =>
      v.app.credentials.addMany([
        { name: 'dup', ...SAMPLE.hostinger() },
        { name: 'DUP', ...SAMPLE.hostinger() }
      ])
    ).toThrow(expect.objectContaining({ code: 'NAME_TAKEN' }));
    expect(v.app.vault.info()).toEqual(before);
    const added = v.app.credentials.addMany([1, 2, 3].map((i) => ({ name: `batch-${i}`, ...SAMPLE.hostinger() })));
    expect(added.map((c) => c.name)).toEqual(['batch-1', 'batch-2', 'batch-3']);
    expect(v.app.credentials.list().map((c) => c.name)).toEqual(['batch-1', 'batch-2', 'batch-3']);
    expect(v.app.audit.list().filter((e) => e.action === 'credential.add')).toHaveLength(3);
    expect(await v.app.audit.verify()).toMatchObject({ ok: true });
  });

  it('a generic OAuth preset or tenant steers the token endpoint: changing it needs the client secret again', async () => {
    const v = await vault();
    const c = v.app.credentials.add({
      name: 'gh',
      provider: 'oauth',
      mode: 'authorization_code',
      values: { preset: 'github', client_id: 'Iv1.0123456789', client_secret: 'gh_client_secret_0123', scopes: 'repo' }
    });
    const before = v.app.audit.list().length;
    expect(() => v.app.credentials.update(c.id, { values: { preset: 'slack' } })).toThrow(
      expect.objectContaining({ code: 'INPUT_INVALID', fields: { client_secret: expect.any(String) } })
    );
    expect(v.app.audit.list()).toHaveLength(before);
    expect(v.app.credentials.update(c.id, { values: { preset: 'slack', client_secret: 'gh_client_secret_0123' } }).metadata.preset).toBe(
      'slack'
    );
  });
});
