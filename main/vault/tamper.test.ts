import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SAMPLE, keychainVault, type TempVault } from '../testing/fixtures.ts';
import type { KeydeskApp } from '../app.ts';

// The vault file is untrusted storage: every edit to a secret row or a credential header is detected before the
// secret is used, each with its own clear error.

const vaults: TempVault[] = [];
const raws: Database.Database[] = [];
afterEach(async () => {
  for (const r of raws.splice(0)) r.close();
  for (const v of vaults.splice(0)) await v.cleanup();
});

async function twoCredentials(): Promise<{ v: TempVault; a: string; b: string; raw: Database.Database; fresh: () => Promise<KeydeskApp> }> {
  const v = await keychainVault();
  vaults.push(v);
  const a = v.app.credentials.add({ name: 'alpha', ...SAMPLE.hostinger('alpha_token_0123456789') }).id;
  const b = v.app.credentials.add({ name: 'bravo', ...SAMPLE.hostinger('bravo_token_0123456789') }).id;
  const raw = new Database(v.path);
  raws.push(raw);
  return {
    v,
    a,
    b,
    raw,
    fresh: async () => {
      const app = v.reopen();
      await app.vault.unlock();
      return app;
    }
  };
}

function getSecretRow(raw: Database.Database, id: string) {
  return raw.prepare('SELECT kek_version, wrapped_dek, payload FROM credential_secrets WHERE credential_id = ?').get(id) as {
    kek_version: number;
    wrapped_dek: Buffer;
    payload: Buffer;
  };
}

describe('tamper detection', () => {
  it('a flip of any byte of the wrapped DEK (nonce, ciphertext, tag) is SECRET_TAMPERED, and only that credential fails', async () => {
    const { a, b, raw, fresh } = await twoCredentials();
    const app = await fresh();
    const original = getSecretRow(raw, a).wrapped_dek;
    for (let i = 0; i < original.length; i++) {
      const bad = Buffer.from(original);
      bad[i] = bad[i]! ^ 0x80;
      raw.prepare('UPDATE credential_secrets SET wrapped_dek = ? WHERE credential_id = ?').run(bad, a);
      expect(() => app.credentials.material(a), `byte ${i}`).toThrow(expect.objectContaining({ code: 'SECRET_TAMPERED' }));
    }
    expect(app.credentials.material(b).secrets.api_token?.reveal()).toBe('bravo_token_0123456789');
    raw.prepare('UPDATE credential_secrets SET wrapped_dek = ? WHERE credential_id = ?').run(original, a);
    expect(app.credentials.material(a).secrets.api_token?.reveal()).toBe('alpha_token_0123456789');
  });

  it('a flip of any byte of the sealed payload is SECRET_TAMPERED', async () => {
    const { a, raw, fresh } = await twoCredentials();
    const app = await fresh();
    const original = getSecretRow(raw, a).payload;
    for (let i = 0; i < original.length; i++) {
      const bad = Buffer.from(original);
      bad[i] = bad[i]! ^ 0x01;
      raw.prepare('UPDATE credential_secrets SET payload = ? WHERE credential_id = ?').run(bad, a);
      expect(() => app.credentials.material(a), `byte ${i}`).toThrow(expect.objectContaining({ code: 'SECRET_TAMPERED' }));
    }
  });

  it('two rows with their secrets swapped are SECRET_SWAPPED, naming the owner', async () => {
    const { a, b, raw, fresh } = await twoCredentials();
    const ra = getSecretRow(raw, a);
    const rb = getSecretRow(raw, b);
    const put = raw.prepare('UPDATE credential_secrets SET wrapped_dek = ?, payload = ? WHERE credential_id = ?');
    put.run(rb.wrapped_dek, rb.payload, a);
    put.run(ra.wrapped_dek, ra.payload, b);
    const app = await fresh();
    expect(() => app.credentials.material(a)).toThrow(
      expect.objectContaining({ code: 'SECRET_SWAPPED', message: expect.stringContaining('"bravo"') })
    );
    expect(() => app.credentials.material(b)).toThrow(
      expect.objectContaining({ code: 'SECRET_SWAPPED', message: expect.stringContaining('"alpha"') })
    );
    // Only the payloads swapped (each keeps its own DEK): still caught, still named.
    put.run(ra.wrapped_dek, rb.payload, a);
    put.run(rb.wrapped_dek, ra.payload, b);
    expect(() => app.credentials.material(a)).toThrow(
      expect.objectContaining({ code: 'SECRET_SWAPPED', message: expect.stringContaining('"bravo"') })
    );
  });

  it('an older copy of a secret row put back (its own, from before the update) is refused, naming both versions', async () => {
    const { v, a, b, raw, fresh } = await twoCredentials();
    const before = getSecretRow(raw, a);
    v.app.credentials.update('alpha', { values: { api_token: 'alpha_token_rotated_0123456789' } });
    raw
      .prepare('UPDATE credential_secrets SET kek_version = ?, wrapped_dek = ?, payload = ? WHERE credential_id = ?')
      .run(before.kek_version, before.wrapped_dek, before.payload, a);
    const app = await fresh();
    expect(() => app.credentials.material(a)).toThrow(
      expect.objectContaining({
        code: 'SECRET_TAMPERED',
        message: expect.stringContaining('an older copy (version 1; the credential is at version 2)')
      })
    );
    expect(app.credentials.material(b).secrets.api_token?.reveal()).toBe('bravo_token_0123456789');
    // Nor does the version column rolled back with it pass: the header MAC binds the version.
    raw.prepare('UPDATE credentials SET secret_version = 1 WHERE id = ?').run(a);
    const again = await fresh();
    expect(() => again.credentials.material(a)).toThrow(expect.objectContaining({ code: 'HEADER_TAMPERED' }));
  });

  it('a credential from before secret versions (version 0, the older MAC and AAD) opens, and its next change moves it to version 1', async () => {
    const { v, a, raw, fresh } = await twoCredentials();
    // Written as schema version 6 wrote it, with the older formats the code still reads.
    const { AAD, randomKey, seal } = await import('./crypto.ts');
    const { headerMac } = await import('./vault.ts');
    const keys = v.app.vault.requireUnlocked();
    const dek = randomKey();
    const payload = seal(
      dek,
      Buffer.from(JSON.stringify({ v: 1, values: { api_token: 'legacy_token_0123456789' }, extra: {} })),
      AAD.payload(a, 'hostinger', 'api_token')
    );
    raw
      .prepare('UPDATE credential_secrets SET kek_version = ?, wrapped_dek = ?, payload = ? WHERE credential_id = ?')
      .run(keys.kekVersion, seal(keys.kek, dek, AAD.dek(a, keys.kekVersion)), payload, a);
    raw
      .prepare('UPDATE credentials SET secret_version = 0, header_mac = ? WHERE id = ?')
      .run(headerMac(keys.vaultKeys.header_mac, { id: a, provider: 'hostinger', mode: 'api_token', name: 'alpha' }), a);
    const app = await fresh();
    expect(app.credentials.material(a).secrets.api_token?.reveal()).toBe('legacy_token_0123456789');
    app.credentials.update('alpha', { values: { api_token: 'alpha_token_rotated_0123456789' } });
    expect(raw.prepare('SELECT secret_version FROM credentials WHERE id = ?').pluck().get(a)).toBe(1);
    expect((await fresh()).credentials.material(a).secrets.api_token?.reveal()).toBe('alpha_token_rotated_0123456789');
  });

  it('a wrapped DEK relabelled with another KEK version is refused', async () => {
    const { a, raw, fresh } = await twoCredentials();
    raw.prepare('UPDATE credential_secrets SET kek_version = 7 WHERE credential_id = ?').run(a);
    const app = await fresh();
    expect(() => app.credentials.material(a)).toThrow(
      expect.objectContaining({ code: 'SECRET_TAMPERED', message: expect.stringContaining('key version 7') })
    );
  });

  it('an edited header (name, provider or mode) is HEADER_TAMPERED before any secret is decrypted', async () => {
    const { a, b, raw, fresh } = await twoCredentials();
    const app = await fresh();
    raw.prepare("UPDATE credentials SET name = 'charlie' WHERE id = ?").run(a);
    expect(() => app.credentials.material(a)).toThrow(expect.objectContaining({ code: 'HEADER_TAMPERED' }));
    raw.prepare("UPDATE credentials SET name = 'alpha', provider = 'agentsoc_mail_block', mode = 'bearer_token' WHERE id = ?").run(a);
    expect(() => app.credentials.material(a)).toThrow(expect.objectContaining({ code: 'HEADER_TAMPERED' }));
    raw.prepare("UPDATE credentials SET provider = 'hostinger', mode = 'api_token' WHERE id = ?").run(a);
    expect(app.credentials.material(a).name).toBe('alpha');
    // Names swapped between two rows (routing by name would hit the wrong credential): both refused.
    raw.prepare("UPDATE credentials SET name = 'tmp' WHERE id = ?").run(a);
    raw.prepare("UPDATE credentials SET name = 'alpha' WHERE id = ?").run(b);
    raw.prepare("UPDATE credentials SET name = 'bravo' WHERE id = ?").run(a);
    expect(() => app.credentials.material('alpha')).toThrow(expect.objectContaining({ code: 'HEADER_TAMPERED' }));
    expect(() => app.credentials.material('bravo')).toThrow(expect.objectContaining({ code: 'HEADER_TAMPERED' }));
    // A tampered header is not blessed by a rename either.
    expect(() => app.credentials.rename('alpha', 'renamed')).toThrow(expect.objectContaining({ code: 'HEADER_TAMPERED' }));
  });

  it('check reports every credential that fails, with its error', async () => {
    const { a, raw, fresh } = await twoCredentials();
    raw.prepare("UPDATE credentials SET name = 'charlie' WHERE id = ?").run(a);
    const app = await fresh();
    const report = app.credentials.check();
    expect(report.checked).toBe(2);
    expect(report.failures).toEqual([expect.objectContaining({ id: a, name: 'charlie', code: 'HEADER_TAMPERED' })]);
  });

  it('a changed check value or vault key is caught at unlock', async () => {
    const { v, raw } = await twoCredentials();
    const meta = raw.prepare('SELECT kek_check FROM vault_meta').get() as { kek_check: Buffer };
    const bad = Buffer.from(meta.kek_check);
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
    raw.prepare('UPDATE vault_meta SET kek_check = ?').run(bad);
    await expect(v.reopen().vault.unlock()).rejects.toMatchObject({ code: 'KEY_MISMATCH' });
    raw.prepare('UPDATE vault_meta SET kek_check = ?').run(meta.kek_check);

    const key = raw.prepare("SELECT wrapped FROM vault_keys WHERE name = 'header_mac'").get() as { wrapped: Buffer };
    const badKey = Buffer.from(key.wrapped);
    badKey[0] = badKey[0]! ^ 1;
    raw.prepare("UPDATE vault_keys SET wrapped = ? WHERE name = 'header_mac'").run(badKey);
    await expect(v.reopen().vault.unlock()).rejects.toMatchObject({ code: 'VAULT_CORRUPT' });
  });
});
