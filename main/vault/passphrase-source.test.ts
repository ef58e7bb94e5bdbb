// The passphrase key source's own contract: scrypt with the recorded salt and parameters, the current passphrase
// proven before a rotation asks for a new one, and neither the passphrase nor any KEK stored anywhere.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { SAMPLE, containsAnyEncoding, passphraseVault, vaultFilesBytes, type TempVault } from '../testing/fixtures.ts';
import { AAD, KEK_CHECK_PLAINTEXT, open, seal, type SymmetricKey } from './crypto.ts';
import type { KekProof, KeyMeta } from './key-source.ts';
import { DEFAULT_KDF, derivePassphraseKey, newSalt } from './passphrase.ts';
import { PassphraseKeySource } from './passphrase-source.ts';

const PASS = 'correct horse battery staple';
const src = (s: string) => () => Promise.resolve(s);

/** A vault header whose check value `kek` opens, and the proof the vault would run against it. */
function headerFor(kek: Buffer, salt: Buffer | null, version = 1): { meta: KeyMeta; proves: KekProof } {
  const vaultId = randomUUID();
  const check = seal(kek, KEK_CHECK_PLAINTEXT, AAD.kekCheck(vaultId, version));
  const meta: KeyMeta = { vault_id: vaultId, kek_version: version, kdf_salt: salt, kdf_params: JSON.stringify(DEFAULT_KDF) };
  const proves = (k: SymmetricKey) => {
    try {
      return open(k, check, AAD.kekCheck(vaultId, version)).equals(KEK_CHECK_PLAINTEXT);
    } catch {
      return false;
    }
  };
  return { meta, proves };
}

/** A passphrase source that records how often it was asked (the analyst sees a prompt each time). */
function asked(value: string): { source: () => Promise<string>; count: () => number } {
  let n = 0;
  return {
    source: () => {
      n++;
      return Promise.resolve(value);
    },
    count: () => n
  };
}

/** Every form a 32-byte key could take on disk. */
function keyEncodings(kek: Buffer): Buffer[] {
  return [kek, Buffer.from(kek.toString('base64')), Buffer.from(kek.toString('hex')), Buffer.from(kek.toString('hex').toUpperCase())];
}

const source = new PassphraseKeySource();

describe('passphrase key source: creating the first KEK', () => {
  it('derives it with scrypt from the passphrase and a fresh 16-byte salt, and records the salt and parameters', async () => {
    const a = await source.create(randomUUID(), { passphrase: src(PASS) });
    const b = await source.create(randomUUID(), { passphrase: src(PASS) });
    expect(a.kdf?.params).toEqual({ N: 2 ** 17, r: 8, p: 1 });
    expect(a.kdf?.salt).toHaveLength(16);
    expect(a.kdf?.salt.equals(b.kdf?.salt ?? Buffer.alloc(0))).toBe(false);
    expect(a.kek.equals(await derivePassphraseKey(PASS, a.kdf?.salt ?? Buffer.alloc(0), DEFAULT_KDF))).toBe(true);
    expect(a.kek.equals(b.kek)).toBe(false); // same passphrase, another vault: another key
  });

  it('refuses no passphrase and a short one, with the messages the analyst sees', async () => {
    await expect(source.create(randomUUID(), {})).rejects.toMatchObject({
      code: 'PASSPHRASE_REQUIRED',
      message: 'A passphrase vault needs a passphrase (KEYDESK_PASSPHRASE or a prompt).'
    });
    await expect(source.create(randomUUID(), { passphrase: src('short') })).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      message: 'The passphrase must be at least 8 characters.'
    });
  });
});

describe('passphrase key source: unlocking', () => {
  it('returns the KEK only when it proves against the vault; a wrong passphrase is WRONG_PASSPHRASE', async () => {
    const salt = newSalt();
    const kek = await derivePassphraseKey(PASS, salt);
    const { meta, proves } = headerFor(kek, salt);
    expect((await source.load(meta, proves, { passphrase: src(PASS) })).equals(kek)).toBe(true);
    const wrong = source.load(meta, proves, { passphrase: src('not the passphrase') });
    await expect(wrong).rejects.toMatchObject({
      code: 'WRONG_PASSPHRASE',
      message: 'Wrong passphrase: it does not open this vault. Nothing was changed.'
    });
    await expect(source.load(meta, proves, {})).rejects.toMatchObject({
      code: 'PASSPHRASE_REQUIRED',
      message: 'This vault is protected by a passphrase: set KEYDESK_PASSPHRASE or enter it when asked.'
    });
  });

  it('a vault whose salt or parameters were removed is VAULT_CORRUPT, without asking for the passphrase', async () => {
    const salt = newSalt();
    const { meta, proves } = headerFor(await derivePassphraseKey(PASS, salt), salt);
    const noSalt = asked(PASS);
    await expect(source.load({ ...meta, kdf_salt: null }, proves, { passphrase: noSalt.source })).rejects.toMatchObject({
      code: 'VAULT_CORRUPT',
      message: 'The vault’s passphrase salt is missing.'
    });
    const noParams = asked(PASS);
    await expect(source.load({ ...meta, kdf_params: null }, proves, { passphrase: noParams.source })).rejects.toMatchObject({
      code: 'VAULT_CORRUPT'
    });
    expect([noSalt.count(), noParams.count()]).toEqual([0, 0]);
  });
});

describe('passphrase key source: rotating', () => {
  it('proves the current passphrase before it asks for a new one', async () => {
    const salt = newSalt();
    const { meta, proves } = headerFor(await derivePassphraseKey(PASS, salt), salt);
    const next = asked('a brand new passphrase');
    await expect(source.rotate(meta, proves, { passphrase: src('wrong wrong wrong'), newPassphrase: next.source })).rejects.toMatchObject({
      code: 'WRONG_PASSPHRASE',
      message: 'Wrong passphrase: it does not open this vault. Nothing was changed.'
    });
    expect(next.count()).toBe(0);
    await expect(source.rotate(meta, proves, { newPassphrase: next.source })).rejects.toMatchObject({
      code: 'PASSPHRASE_REQUIRED',
      message: 'Rotating a passphrase vault needs its current passphrase.'
    });
    expect(next.count()).toBe(0);
    await expect(source.rotate(meta, proves, { passphrase: src(PASS), newPassphrase: src('short') })).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      message: 'The new passphrase must be at least 8 characters.'
    });
  });

  it('keeps the passphrase under a new salt, or derives the next KEK from the new passphrase', async () => {
    const salt = newSalt();
    const kek = await derivePassphraseKey(PASS, salt);
    const { meta, proves } = headerFor(kek, salt, 4);

    const same = await source.rotate(meta, proves, { passphrase: src(PASS) });
    expect(same.version).toBe(5);
    expect(same.kdf?.salt.equals(salt)).toBe(false);
    expect(same.kdf?.params).toEqual(DEFAULT_KDF);
    expect(same.kek.equals(kek)).toBe(false);
    expect(same.kek.equals(await derivePassphraseKey(PASS, same.kdf?.salt ?? Buffer.alloc(0)))).toBe(true);

    const changed = await source.rotate(meta, proves, { passphrase: src(PASS), newPassphrase: src('a brand new passphrase') });
    expect(changed.kek.equals(await derivePassphraseKey('a brand new passphrase', changed.kdf?.salt ?? Buffer.alloc(0)))).toBe(true);
  });
});

describe('passphrase key source: describe', () => {
  it('names scrypt and the parameters the vault records', () => {
    const meta: KeyMeta = { vault_id: randomUUID(), kek_version: 1, kdf_salt: newSalt(), kdf_params: JSON.stringify(DEFAULT_KDF) };
    expect(source.describe(meta)).toEqual({ kind: 'passphrase', label: 'passphrase (scrypt N=2^17, r=8, p=1)' });
    expect(source.describe({ ...meta, kdf_params: JSON.stringify({ N: 2 ** 18, r: 8, p: 2 }) }).label).toBe(
      'passphrase (scrypt N=2^18, r=8, p=2)'
    );
    expect(source.describe({ ...meta, kdf_params: '{' }).label).toBe('passphrase (scrypt, parameters unreadable)');
  });
});

describe('security: a passphrase vault never stores its passphrase or a KEK', () => {
  const vaults: TempVault[] = [];
  afterEach(async () => {
    for (const v of vaults.splice(0)) await v.cleanup();
  });

  it('not in the vault file, its WAL or the audit log, through create, unlock and both kinds of rotation', async () => {
    const NEW_PASS = 'a brand new passphrase';
    const v = await passphraseVault(PASS);
    vaults.push(v);
    const keks: Buffer[] = [];
    const kekNow = async (pass: string) => {
      const m = v.app.vault.meta();
      const kek = await derivePassphraseKey(pass, m.kdf_salt ?? Buffer.alloc(0), DEFAULT_KDF);
      // The key this test looks for is the vault's real KEK (else the scan below would prove nothing).
      expect(open(kek, m.kek_check, AAD.kekCheck(m.vault_id, m.kek_version)).equals(KEK_CHECK_PLAINTEXT)).toBe(true);
      keks.push(kek);
    };
    const leaks = (bytes: Buffer): string[] => [
      ...[PASS, NEW_PASS].filter((p) => containsAnyEncoding(bytes, p) !== null),
      ...keks.flatMap((k, i) => (keyEncodings(k).some((e) => bytes.includes(e)) ? [`kek ${i + 1}`] : []))
    ];

    await kekNow(PASS);
    v.app.credentials.add({ name: 'h', ...SAMPLE.hostinger() });
    expect(leaks(vaultFilesBytes(v.path))).toEqual([]);

    await v.app.vault.rotateKey({ passphrase: src(PASS) });
    await kekNow(PASS);
    await v.app.vault.rotateKey({ passphrase: src(PASS), newPassphrase: src(NEW_PASS) });
    await kekNow(NEW_PASS);
    const other = v.reopen();
    await other.vault.unlock({ passphrase: src(NEW_PASS) });
    expect(other.credentials.check()).toEqual({ checked: 1, failures: [] });
    expect(leaks(vaultFilesBytes(v.path))).toEqual([]);
    expect(leaks(Buffer.from(JSON.stringify(other.audit.list())))).toEqual([]);

    await other.close();
    await v.app.close();
    expect(keks).toHaveLength(3);
    expect(leaks(vaultFilesBytes(v.path))).toEqual([]);
  });
});
