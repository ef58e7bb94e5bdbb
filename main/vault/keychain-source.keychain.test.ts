// The keychain key source's own contract, against the real Secret Service (scripts/with-keyring.js): which entries
// it writes and deletes around a rotation's commit, and which it never touches. A recording wrapper passes every
// call through to the real keychain; it only notes which accounts the source wrote and deleted.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, openApp, type KeydeskApp } from '../app.ts';
import { KeydeskError } from '../errors.ts';
import { SAMPLE, TEST_ACTOR, containsAnyEncoding, keychainVault, passphraseVault, tempDir } from '../testing/fixtures.ts';
import { AAD, KEK_CHECK_PLAINTEXT, open, randomKey, seal, type SymmetricKey } from './crypto.ts';
import type { KekProof, KeyMeta, KeySourceStage } from './key-source.ts';
import { KeychainKeySource } from './keychain-source.ts';
import { KEYCHAIN_SERVICE, keychainAccounts, osKeychain, type KeychainClient } from './keychain.ts';
import { DEFAULT_KDF, derivePassphraseKey } from './passphrase.ts';

const real = osKeychain();

interface Recording {
  client: KeychainClient;
  /** Accounts the source asked to write, and those whose write completed. */
  sets: string[];
  written: string[];
  deletes: string[];
}

/** The real keychain, noting the accounts written and deleted. `failSet`: the write lands, then the call fails. */
function recording(opts: { failSet?: boolean } = {}): Recording {
  const r: Recording = {
    sets: [],
    written: [],
    deletes: [],
    client: {
      get: (account) => real.get(account),
      async set(account, value) {
        r.sets.push(account);
        await real.set(account, value);
        r.written.push(account);
        if (opts.failSet) throw new KeydeskError('KEYCHAIN_UNAVAILABLE', 'The OS keychain is not available.');
      },
      delete(account) {
        r.deletes.push(account);
        return real.delete(account);
      }
    }
  };
  return r;
}

const vaultIds: string[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const id of vaultIds.splice(0)) {
    for (let v = 1; v <= 5; v++) await real.delete(keychainAccounts.kek(id, v));
    await real.delete(keychainAccounts.auditAnchor(id));
  }
});

/** A vault id whose keychain entries this test owns, with `versions` stored as distinct random keys. */
async function vaultWith(versions: number[]): Promise<{ vaultId: string; keys: Map<number, Buffer> }> {
  const vaultId = randomUUID();
  vaultIds.push(vaultId);
  const keys = new Map<number, Buffer>();
  for (const v of versions) {
    const k = randomKey();
    keys.set(v, k);
    await real.set(keychainAccounts.kek(vaultId, v), k.toString('base64'));
  }
  return { vaultId, keys };
}

/** The header of a vault at `version` whose check value `kek` opens, and the proof the vault would run. */
function headerFor(vaultId: string, version: number, kek: Buffer): { meta: KeyMeta; proves: KekProof } {
  const check = seal(kek, KEK_CHECK_PLAINTEXT, AAD.kekCheck(vaultId, version));
  const proves = (k: SymmetricKey) => {
    try {
      return open(k, check, AAD.kekCheck(vaultId, version)).equals(KEK_CHECK_PLAINTEXT);
    } catch {
      return false;
    }
  };
  return { meta: { vault_id: vaultId, kek_version: version, kdf_salt: null, kdf_params: null }, proves };
}

const stored = async (vaultId: string, version: number) => real.get(keychainAccounts.kek(vaultId, version));
const b64 = (k: Buffer | undefined) => k?.toString('base64');

describe('keychain key source: creating the first KEK', () => {
  it('stores a random 256-bit key under version 1 and records nothing in vault_meta; discard removes exactly it', async () => {
    const vaultId = randomUUID();
    vaultIds.push(vaultId);
    const rec = recording();
    const first = await new KeychainKeySource(rec.client).create(vaultId);
    expect(first.kek).toHaveLength(32);
    expect(first.kdf).toBeNull();
    expect(await stored(vaultId, 1)).toBe(first.kek.toString('base64'));
    expect(rec.sets).toEqual([keychainAccounts.kek(vaultId, 1)]);

    await first.discard();
    expect(rec.deletes).toEqual([keychainAccounts.kek(vaultId, 1)]);
    expect(await stored(vaultId, 1)).toBeNull();
  });
});

describe('keychain key source: unlocking', () => {
  it('returns the stored key only when it proves; a missing entry is KEY_NOT_FOUND, another key KEY_MISMATCH', async () => {
    const { vaultId, keys } = await vaultWith([2]);
    const { meta, proves } = headerFor(vaultId, 2, keys.get(2) ?? randomKey());
    const rec = recording();
    const source = new KeychainKeySource(rec.client);
    expect(b64(await source.load(meta, proves))).toBe(b64(keys.get(2)));

    const account = keychainAccounts.kek(vaultId, 2);
    const mismatch = {
      code: 'KEY_MISMATCH',
      message: 'The key in the OS keychain does not open this vault (the keychain entry was replaced or belongs to another vault).'
    };
    await real.set(account, randomKey().toString('base64'));
    await expect(source.load(meta, proves)).rejects.toMatchObject(mismatch);
    await real.set(account, Buffer.from('sixteen byte key').toString('base64')); // not a 256-bit key at all
    await expect(source.load(meta, proves)).rejects.toMatchObject(mismatch);

    await real.delete(account);
    await expect(source.load(meta, proves)).rejects.toMatchObject({
      code: 'KEY_NOT_FOUND',
      message: `The OS keychain has no key for this vault (vault ${vaultId}, key version 2). It may have been created under another user account or machine; restore the keychain entry to open it.`
    });
    // Loading only reads: whatever is (or is not) there, the source wrote and deleted nothing.
    expect([rec.sets, rec.deletes]).toEqual([[], []]);
  });

  it('tidies only the previous version left by a rotation that died after its commit, never the next one', async () => {
    const { vaultId, keys } = await vaultWith([2, 3, 4]);
    const rec = recording();
    const source = new KeychainKeySource(rec.client);
    // Version 3 is current; 4 may be the key another process is about to commit.
    await source.tidy(headerFor(vaultId, 3, keys.get(3) ?? randomKey()).meta);
    expect(rec.deletes).toEqual([keychainAccounts.kek(vaultId, 2)]);
    expect(await stored(vaultId, 2)).toBeNull();
    expect(await stored(vaultId, 3)).toBe(b64(keys.get(3)));
    expect(await stored(vaultId, 4)).toBe(b64(keys.get(4)));

    const { vaultId: fresh, keys: freshKeys } = await vaultWith([1, 2]);
    const none = recording();
    await new KeychainKeySource(none.client).tidy(headerFor(fresh, 1, freshKeys.get(1) ?? randomKey()).meta);
    expect(none.deletes).toEqual([]);
    expect(await stored(fresh, 2)).toBe(b64(freshKeys.get(2)));
  });
});

describe('keychain key source: rotating', () => {
  it('writes the next version before it reports the write; a failed commit deletes exactly that entry', async () => {
    const { vaultId, keys } = await vaultWith([1]);
    const { meta, proves } = headerFor(vaultId, 1, keys.get(1) ?? randomKey());
    const rec = recording();
    const rotation = await new KeychainKeySource(rec.client).rotate(meta, proves, {});
    expect(rotation.version).toBe(2);
    expect(rotation.kdf).toBeNull();
    expect(rotation.kek).toHaveLength(32);
    expect(rotation.kek.equals(keys.get(1) ?? Buffer.alloc(0))).toBe(false);
    expect(rec.sets).toEqual([]); // making the key stores nothing: the vault has not taken its write lock yet

    const reports: { stage: KeySourceStage; written: string[] }[] = [];
    await rotation.store((s) => reports.push({ stage: s, written: [...rec.written] }));
    expect(reports).toEqual([{ stage: { stage: 'keychain-written', version: 2 }, written: [keychainAccounts.kek(vaultId, 2)] }]);
    expect(await stored(vaultId, 2)).toBe(rotation.kek.toString('base64'));

    await rotation.abandon();
    expect(rec.deletes).toEqual([keychainAccounts.kek(vaultId, 2)]);
    expect(await stored(vaultId, 2)).toBeNull();
    expect(await stored(vaultId, 1)).toBe(b64(keys.get(1))); // the current key: never touched
  });

  it('security: a rotation abandoned before it stored anything leaves the next version another process wrote', async () => {
    // VAULT_BUSY / KEY_ROTATED: this rotation never held the write lock, so version 2 is someone else's key.
    const { vaultId, keys } = await vaultWith([1, 2]);
    const rec = recording();
    const rotation = await new KeychainKeySource(rec.client).rotate(headerFor(vaultId, 1, keys.get(1) ?? randomKey()).meta, () => true, {});
    await rotation.abandon();
    expect(rec.deletes).toEqual([]);
    expect(await stored(vaultId, 2)).toBe(b64(keys.get(2)));
  });

  it('a keychain write that fails half-way is still undone by abandon', async () => {
    const { vaultId, keys } = await vaultWith([1]);
    const rec = recording({ failSet: true });
    const rotation = await new KeychainKeySource(rec.client).rotate(headerFor(vaultId, 1, keys.get(1) ?? randomKey()).meta, () => true, {});
    const reports: KeySourceStage[] = [];
    await expect(rotation.store((s) => reports.push(s))).rejects.toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE' });
    expect(reports).toEqual([]);
    expect(await stored(vaultId, 2)).toBe(rotation.kek.toString('base64')); // the write landed before the failure
    await rotation.abandon();
    expect(rec.deletes).toEqual([keychainAccounts.kek(vaultId, 2)]);
    expect(await stored(vaultId, 2)).toBeNull();
    expect(await stored(vaultId, 1)).toBe(b64(keys.get(1)));
  });

  it('after the commit, retire deletes exactly the previous version', async () => {
    const { vaultId, keys } = await vaultWith([3]);
    const rec = recording();
    const rotation = await new KeychainKeySource(rec.client).rotate(headerFor(vaultId, 3, keys.get(3) ?? randomKey()).meta, () => true, {});
    await rotation.store(() => {});
    await rotation.retire();
    expect(rec.deletes).toEqual([keychainAccounts.kek(vaultId, 3)]);
    expect(await stored(vaultId, 3)).toBeNull();
    expect(await stored(vaultId, 4)).toBe(rotation.kek.toString('base64'));
  });

  it('has no passphrase to change: INPUT_INVALID, and nothing written', async () => {
    const { vaultId, keys } = await vaultWith([1]);
    const rec = recording();
    const source = new KeychainKeySource(rec.client);
    await expect(
      source.rotate(headerFor(vaultId, 1, keys.get(1) ?? randomKey()).meta, () => true, {
        newPassphrase: () => Promise.resolve('new pass phrase')
      })
    ).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      message: 'This vault keeps its key in the OS keychain; it has no passphrase to change.'
    });
    expect([rec.sets, rec.deletes]).toEqual([[], []]);
  });

  // The Secret Service is the keychain these tests run on (scripts/with-keyring.js); macOS and Windows name their own.
  it.runIf(process.platform === 'linux')('a keychain vault opens with the keychain source: "OS keychain (Secret Service)"', async () => {
    const v = await keychainVault();
    cleanups.push(() => v.cleanup());
    vaultIds.push(v.app.vault.vaultId);
    const other = v.reopen();
    expect(other.vault.keySource.kind).toBe('keychain');
    expect(other.vault.describeKeySource()).toEqual({ kind: 'keychain', label: 'OS keychain (Secret Service)' });
    expect(other.vault.info().keySource).toBe('keychain');
  });
});

describe('a vault rotation whose commit fails, on the keychain source', () => {
  it('security: deletes exactly the next version’s entry, keeps the current one, and the vault still opens', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const rec = recording();
    const config = { vaultPath: join(dir, 'vault.sqlite'), actor: TEST_ACTOR, keychain: rec.client };
    const app = await createApp(config, 'keychain');
    cleanups.push(() => app.close());
    const vaultId = app.vault.vaultId;
    vaultIds.push(vaultId);
    const a = app.credentials.add({ name: 'alpha', ...SAMPLE.hostinger('alpha_token_0123456789') }).id;
    app.credentials.add({ name: 'bravo', ...SAMPLE.hostinger('bravo_token_0123456789') });
    const v1 = await stored(vaultId, 1);

    // One wrapped DEK edited in the file: the re-wrap stops on it after the next key is in the keychain.
    const raw = new Database(config.vaultPath);
    const row = raw.prepare('SELECT wrapped_dek FROM credential_secrets WHERE credential_id = ?').get(a) as { wrapped_dek: Buffer };
    const bad = Buffer.from(row.wrapped_dek);
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0x01;
    raw.prepare('UPDATE credential_secrets SET wrapped_dek = ? WHERE credential_id = ?').run(bad, a);
    raw.close();

    rec.sets.length = 0;
    rec.deletes.length = 0;
    const stages: string[] = [];
    await expect(app.vault.rotateKey({ onStage: (s) => stages.push(s.stage) })).rejects.toMatchObject({ code: 'SECRET_TAMPERED' });
    expect(stages.filter((s) => s !== 'rewrapped')).toEqual(['keychain-written']); // stored, and never committed
    expect(rec.sets).toEqual([keychainAccounts.kek(vaultId, 2)]);
    expect(rec.deletes).toEqual([keychainAccounts.kek(vaultId, 2)]);
    expect(await stored(vaultId, 2)).toBeNull();
    expect(await stored(vaultId, 1)).toBe(v1);

    const fresh: KeydeskApp = openApp({ vaultPath: config.vaultPath });
    cleanups.push(() => fresh.close());
    await fresh.vault.unlock();
    expect(fresh.vault.info().kekVersion).toBe(1);
    expect(fresh.credentials.check().failures.map((f) => f.id)).toEqual([a]); // only the edited row, as before
  });
});

describe('security: a passphrase vault keeps nothing in the OS keychain', () => {
  it('through create, unlock, both kinds of rotation and close (which anchors keychain vaults)', async () => {
    const PASS = 'correct horse battery staple';
    const NEW_PASS = 'a brand new passphrase';
    const v = await passphraseVault(PASS); // on the real keychain client, as the app would open it
    cleanups.push(() => v.cleanup());
    const vaultId = v.app.vault.vaultId;
    v.app.credentials.add({ name: 'h', ...SAMPLE.hostinger() });
    const keks = [await kekOf(v.app, PASS)];
    await v.app.vault.rotateKey({ passphrase: () => Promise.resolve(PASS) });
    keks.push(await kekOf(v.app, PASS));
    await v.app.vault.rotateKey({ passphrase: () => Promise.resolve(PASS), newPassphrase: () => Promise.resolve(NEW_PASS) });
    keks.push(await kekOf(v.app, NEW_PASS));
    const other = v.reopen();
    await other.vault.unlock({ passphrase: () => Promise.resolve(NEW_PASS) });
    other.credentials.add({ name: 'h2', ...SAMPLE.hostinger() });
    await other.close();
    await v.app.close();

    const entries = await allKeydeskEntries();
    expect(entries.filter((e) => e.account.includes(vaultId)).map((e) => e.account)).toEqual([]);
    for (const e of entries) {
      expect(containsAnyEncoding(e.password, PASS), e.account).toBeNull();
      expect(containsAnyEncoding(e.password, NEW_PASS), e.account).toBeNull();
      for (const k of keks) expect(e.password.includes(k.toString('base64')), e.account).toBe(false);
    }
  });
});

/** The vault's current KEK, derived here and proven against its check value (so the scan above is not vacuous). */
async function kekOf(app: KeydeskApp, passphrase: string): Promise<Buffer> {
  const m = app.vault.meta();
  const kek = await derivePassphraseKey(passphrase, m.kdf_salt ?? Buffer.alloc(0), DEFAULT_KDF);
  expect(open(kek, m.kek_check, AAD.kekCheck(m.vault_id, m.kek_version)).equals(KEK_CHECK_PLAINTEXT)).toBe(true);
  return kek;
}

async function allKeydeskEntries(): Promise<{ account: string; password: string }[]> {
  const mod = (await import('keytar')) as unknown as {
    default?: { findCredentials(service: string): Promise<{ account: string; password: string }[]> };
    findCredentials?: (service: string) => Promise<{ account: string; password: string }[]>;
  };
  const find = mod.default?.findCredentials ?? mod.findCredentials;
  if (!find) throw new Error('keytar has no findCredentials');
  return find(KEYCHAIN_SERVICE);
}
