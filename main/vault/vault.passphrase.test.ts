import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SAMPLE, passphraseVault, type TempVault } from '../testing/fixtures.ts';
import { DEFAULT_KDF, parseKdfParams } from './passphrase.ts';

const PASS = 'correct horse battery staple';
const vaults: TempVault[] = [];
afterEach(async () => {
  for (const v of vaults.splice(0)) await v.cleanup();
});
async function vault(): Promise<TempVault> {
  const v = await passphraseVault(PASS);
  vaults.push(v);
  return v;
}
const digest = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const src = (s: string) => () => Promise.resolve(s);

describe('passphrase key source (scrypt N=2^17, r=8, p=1)', () => {
  it('stores the scrypt parameters and a 16-byte random salt, and unlocks with the passphrase', async () => {
    const v = await vault();
    const m = v.app.vault.meta();
    expect(JSON.parse(m.kdf_params ?? '')).toEqual({ N: 131072, r: 8, p: 1 });
    expect(m.kdf_salt).toHaveLength(16);
    const c = v.app.credentials.add({ name: 'h', ...SAMPLE.hostinger() });
    const other = v.reopen();
    await other.vault.unlock({ passphrase: src(PASS) });
    expect(other.credentials.material(c.id).secrets.api_token?.reveal()).toBe('hst_sample_token_0123456789');
  });

  it('a wrong passphrase is WRONG_PASSPHRASE; no passphrase is PASSPHRASE_REQUIRED; nothing changes', async () => {
    const v = await vault();
    await v.app.close();
    const before = digest(v.path);
    const other = v.reopen();
    await expect(other.vault.unlock({ passphrase: src('not the passphrase') })).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
    await expect(other.vault.unlock()).rejects.toMatchObject({ code: 'PASSPHRASE_REQUIRED' });
    expect(other.vault.isUnlocked()).toBe(false);
    expect(digest(v.path)).toBe(before);
  });

  it('rotation keeps the passphrase under a new salt, or changes it with a new passphrase', async () => {
    const v = await vault();
    const c = v.app.credentials.add({ name: 'h', ...SAMPLE.hostinger() });
    const salt1 = v.app.vault.meta().kdf_salt;
    await v.app.vault.rotateKey({ passphrase: src(PASS) });
    const salt2 = v.app.vault.meta().kdf_salt;
    expect(salt2?.equals(salt1 ?? Buffer.alloc(0))).toBe(false);
    expect(v.app.vault.meta().kek_version).toBe(2);

    const again = v.reopen();
    await again.vault.unlock({ passphrase: src(PASS) });
    expect(again.credentials.material(c.id).secrets.api_token?.reveal()).toBe('hst_sample_token_0123456789');

    await v.app.vault.rotateKey({ passphrase: src(PASS), newPassphrase: src('a brand new passphrase') });
    const third = v.reopen();
    await expect(third.vault.unlock({ passphrase: src(PASS) })).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
    await third.vault.unlock({ passphrase: src('a brand new passphrase') });
    expect(third.credentials.check()).toEqual({ checked: 1, failures: [] });
  });

  it('rotation refuses a wrong current passphrase and a too-short new one, changing nothing', async () => {
    const v = await vault();
    const before = v.app.vault.meta();
    await expect(v.app.vault.rotateKey({ passphrase: src('wrong wrong wrong') })).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
    await expect(v.app.vault.rotateKey({ passphrase: src(PASS), newPassphrase: src('short') })).rejects.toMatchObject({
      code: 'INPUT_INVALID'
    });
    await expect(v.app.vault.rotateKey()).rejects.toMatchObject({ code: 'PASSPHRASE_REQUIRED' });
    expect(v.app.vault.meta()).toEqual(before);
  });

  it('refuses to derive with weaker scrypt parameters written into the file', async () => {
    const v = await vault();
    await v.app.close();
    const raw = new Database(v.path);
    raw.prepare('UPDATE vault_meta SET kdf_params = ?').run(JSON.stringify({ N: 1024, r: 8, p: 1 }));
    raw.close();
    const other = v.reopen();
    await expect(other.vault.unlock({ passphrase: src(PASS) })).rejects.toMatchObject({ code: 'VAULT_CORRUPT' });
  });

  it('parses only sane parameters', () => {
    expect(parseKdfParams(JSON.stringify(DEFAULT_KDF))).toEqual(DEFAULT_KDF);
    for (const bad of ['{', 'null', '{"N":131073,"r":8,"p":1}', '{"N":131072,"r":1,"p":1}', '{"N":"x","r":8,"p":1}']) {
      expect(() => parseKdfParams(bad), bad).toThrow(expect.objectContaining({ code: 'VAULT_CORRUPT' }));
    }
  });
});
