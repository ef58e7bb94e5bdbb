// Runs against the real Secret Service (gnome-keyring on a private D-Bus session: scripts/with-keyring.js).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openApp } from '../app.ts';
import { SAMPLE, keychainVault, type TempVault } from '../testing/fixtures.ts';
import { randomKey } from './crypto.ts';
import { keychainAccounts, osKeychain } from './keychain.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const vaults: TempVault[] = [];
afterEach(async () => {
  for (const v of vaults.splice(0)) await v.cleanup();
});
async function vault(): Promise<TempVault> {
  const v = await keychainVault();
  vaults.push(v);
  return v;
}
const digest = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('keychain key source (real Secret Service)', () => {
  it('stores a random 256-bit key per vault and unlocks a second handle with it', async () => {
    const v = await vault();
    const stored = await osKeychain().get(keychainAccounts.kek(v.app.vault.vaultId, 1));
    expect(Buffer.from(stored ?? '', 'base64')).toHaveLength(32);
    const added = v.app.credentials.add({ name: 'h1', ...SAMPLE.hostinger() });

    const other = v.reopen();
    expect(other.vault.isUnlocked()).toBe(false);
    expect(other.credentials.list().map((c) => c.name)).toEqual(['h1']); // metadata without the key
    await other.vault.unlock();
    expect(other.credentials.material(added.id).secrets.api_token?.reveal()).toBe('hst_sample_token_0123456789');
  });

  it('a locked handle refuses anything that needs a secret, and changes nothing', async () => {
    const v = await vault();
    v.app.credentials.add({ name: 'h1', ...SAMPLE.hostinger() });
    v.app.vault.lock();
    const before = v.app.vault.info();
    expect(() => v.app.credentials.add({ name: 'h2', ...SAMPLE.hostinger() })).toThrow(expect.objectContaining({ code: 'VAULT_LOCKED' }));
    expect(() => v.app.credentials.material('h1')).toThrow(expect.objectContaining({ code: 'VAULT_LOCKED' }));
    expect(v.app.vault.info()).toEqual(before);
  });

  it('a missing keychain entry is KEY_NOT_FOUND, a replaced one KEY_MISMATCH; the file is untouched', async () => {
    const v = await vault();
    const id = v.app.vault.vaultId;
    await v.app.close();
    const before = digest(v.path);
    const account = keychainAccounts.kek(id, 1);
    const kc = osKeychain();
    const original = await kc.get(account);

    await kc.set(account, randomKey().toString('base64'));
    const a = v.reopen();
    await expect(a.vault.unlock()).rejects.toMatchObject({ code: 'KEY_MISMATCH' });

    await kc.delete(account);
    await expect(a.vault.unlock()).rejects.toMatchObject({ code: 'KEY_NOT_FOUND' });
    expect(a.vault.isUnlocked()).toBe(false);
    expect(digest(v.path)).toBe(before);

    await kc.set(account, original ?? '');
    await a.vault.unlock();
    expect(a.vault.isUnlocked()).toBe(true);
  });

  it('no Secret Service on the bus is KEYCHAIN_UNAVAILABLE, fast and clear (CLI, exit 1)', async () => {
    const v = await vault();
    await v.app.close();
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_RUNTIME_DIR: mkdtempSync(join(tmpdir(), 'nobus-')), DISPLAY: '' };
    delete env.DBUS_SESSION_BUS_ADDRESS;
    const r = spawnSync(process.execPath, ['bin/keydesk.js', '--vault', v.path, 'check'], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      timeout: 30_000
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('[KEYCHAIN_UNAVAILABLE]');
    expect(r.stderr).toMatch(/passphrase/);
    // Offline inspection still works without any keychain.
    const list = spawnSync(process.execPath, ['bin/keydesk.js', '--vault', v.path, 'list', '--json'], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      timeout: 30_000
    });
    expect(list.status).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual({ credentials: [] });
  });

  it('a locked keyring is KEYCHAIN_LOCKED (distinct from a missing key), and nothing changes', () => {
    // A private session: create a vault with the keyring unlocked, lock the login collection over D-Bus, then ask.
    const home = mkdtempSync(join(tmpdir(), 'lockedring-'));
    const vaultPath = join(home, 'v.sqlite');
    const script = [
      'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1',
      `"${process.execPath}" bin/keydesk.js --vault "${vaultPath}" init >/dev/null || exit 90`,
      'dbus-send --session --dest=org.freedesktop.secrets --type=method_call /org/freedesktop/secrets org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null || exit 91',
      `exec "${process.execPath}" bin/keydesk.js --vault "${vaultPath}" check`
    ].join('\n');
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_DATA_HOME: join(home, 'data'), XDG_RUNTIME_DIR: home, DISPLAY: '' };
    delete env.DBUS_SESSION_BUS_ADDRESS;
    const r = spawnSync('dbus-run-session', ['--', 'sh', '-c', script], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('[KEYCHAIN_LOCKED]');
    expect(r.stderr).toMatch(/unlock/i);
    const after = openApp({ vaultPath });
    expect(after.vault.info().auditEntries).toBe(1);
    after.vault.close();
  });
});
