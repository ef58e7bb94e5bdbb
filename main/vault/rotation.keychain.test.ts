// KEK rotation is crash-safe: a process killed at any moment of it leaves a vault that opens (with exactly one
// of the two keys) and decrypts. Real child processes, real SIGKILL, real keychain and SQLite.
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openApp } from '../app.ts';
import { SAMPLE, keychainVault, passphraseVault, type TempVault } from '../testing/fixtures.ts';
import { keychainAccounts, osKeychain } from './keychain.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CHILD = 'main/testing/rotate-child.ts';
const vaults: TempVault[] = [];
afterEach(async () => {
  for (const v of vaults.splice(0)) await v.cleanup();
});

async function seeded(n: number): Promise<TempVault> {
  const v = await keychainVault();
  vaults.push(v);
  for (let i = 0; i < n; i++) v.app.credentials.add({ name: `cred-${i}`, ...SAMPLE.hostinger(`token_${i}_0123456789abcdef`) });
  await v.app.close();
  return v;
}

function rotateChild(vaultPath: string, killAt: string, loops = 1, env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [CHILD, vaultPath, killAt, String(loops)], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
}

/** Opens the vault fresh, as the app would after the crash, and proves every secret decrypts and the log verifies. */
async function assertIntact(vaultPath: string, n: number, passphrase?: string): Promise<number> {
  const app = openApp({ vaultPath });
  try {
    await app.vault.unlock(passphrase ? { passphrase: () => Promise.resolve(passphrase) } : {});
    const report = app.credentials.check();
    expect(report).toEqual({ checked: n, failures: [] });
    expect(app.credentials.material('cred-0').secrets.api_token?.reveal()).toBe('token_0_0123456789abcdef');
    expect(await app.audit.verify()).toMatchObject({ ok: true });
    return app.vault.meta().kek_version;
  } finally {
    app.vault.close();
  }
}

describe('KEK rotation killed at fixed points', () => {
  it('after the keychain write, before the SQLite commit: the old key still opens it', async () => {
    const v = await seeded(5);
    const r = rotateChild(v.path, 'keychain-written');
    expect(r.signal).toBe('SIGKILL');
    expect(await assertIntact(v.path, 5)).toBe(1);
    // The orphaned next-version key does not stop a later rotation.
    expect(rotateChild(v.path, 'none').status).toBe(0);
    expect(await assertIntact(v.path, 5)).toBe(2);
  });

  it('between re-wraps: nothing of the half-done rotation is visible', async () => {
    const v = await seeded(5);
    expect(rotateChild(v.path, 'rewrapped:3').signal).toBe('SIGKILL');
    expect(await assertIntact(v.path, 5)).toBe(1);
  });

  it('just before the commit: the old key still opens it', async () => {
    const v = await seeded(5);
    expect(rotateChild(v.path, 'before-commit').signal).toBe('SIGKILL');
    expect(await assertIntact(v.path, 5)).toBe(1);
  });

  it('after the commit, before the old key is deleted: the new key opens it and the old one is tidied away', async () => {
    const v = await seeded(5);
    const app = openApp({ vaultPath: v.path });
    const vaultId = app.vault.vaultId;
    app.vault.close();
    expect(rotateChild(v.path, 'committed').signal).toBe('SIGKILL');
    expect(await osKeychain().get(keychainAccounts.kek(vaultId, 1))).not.toBeNull();
    expect(await assertIntact(v.path, 5)).toBe(2);
    expect(await osKeychain().get(keychainAccounts.kek(vaultId, 1))).toBeNull();
  });

  it('passphrase vault killed just before the commit opens with the old salt', async () => {
    const v = await passphraseVault('rotation passphrase');
    vaults.push(v);
    for (let i = 0; i < 3; i++) v.app.credentials.add({ name: `cred-${i}`, ...SAMPLE.hostinger(`token_${i}_0123456789abcdef`) });
    await v.app.close();
    const r = rotateChild(v.path, 'before-commit', 1, { ...process.env, KEYDESK_PASSPHRASE: 'rotation passphrase' });
    expect(r.signal).toBe('SIGKILL');
    expect(await assertIntact(v.path, 3, 'rotation passphrase')).toBe(1);
  });
});

describe('KEK rotation killed at random moments', () => {
  it('survives repeated SIGKILLs mid-rotation: the vault always opens and check passes', async () => {
    const n = 300;
    const v = await seeded(n);
    const versions = new Set<number>();
    for (let round = 0; round < 6; round++) {
      const child = spawn(process.execPath, [CHILD, v.path, 'none', '1000'], { cwd: ROOT, stdio: 'ignore' });
      // Wait for the child to be mid-work (it rotates in a loop), then kill it at a random moment.
      await new Promise((r) => setTimeout(r, 600 + Math.floor(Math.random() * 900)));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      versions.add(await assertIntact(v.path, n));
    }
    // The rotations really happened (the version moved on), so the kills landed in live rotations.
    expect(Math.max(...versions)).toBeGreaterThan(1);
  });
});
