// A vault picks its key source once, from vault_meta.key_source, when it is opened.
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { passphraseVault, type TempVault } from '../testing/fixtures.ts';
import { Vault } from './vault.ts';

const vaults: TempVault[] = [];
afterEach(async () => {
  for (const v of vaults.splice(0)) await v.cleanup();
});

describe('choosing the key source', () => {
  it('a passphrase vault opens with the passphrase source and describes the scrypt parameters it records', async () => {
    const v = await passphraseVault('correct horse battery staple');
    vaults.push(v);
    const other = v.reopen();
    expect(other.vault.keySource.kind).toBe('passphrase');
    expect(other.vault.describeKeySource()).toEqual({ kind: 'passphrase', label: 'passphrase (scrypt N=2^17, r=8, p=1)' });
    expect(other.vault.info().keySource).toBe('passphrase');
  });

  it('a file naming a key source Keydesk does not know is refused at open (VAULT_CORRUPT), not unlocked some other way', async () => {
    const v = await passphraseVault('correct horse battery staple');
    vaults.push(v);
    await v.app.close();
    const raw = new Database(v.path);
    raw.pragma('ignore_check_constraints = ON');
    raw.prepare("UPDATE vault_meta SET key_source = 'hsm'").run();
    raw.close();
    expect(() => Vault.open(v.path)).toThrow(
      expect.objectContaining({
        code: 'VAULT_CORRUPT',
        message: `${v.path} names a key source Keydesk does not know; it is not a usable vault.`
      })
    );
  });
});
