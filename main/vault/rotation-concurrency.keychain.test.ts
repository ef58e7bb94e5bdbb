// Another Keydesk process rotates the vault key while this one has the vault open (the app and the CLI share a
// vault). Real child processes, real keychain, real SQLite locks.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { openApp } from '../app.ts';
import { SAMPLE, keychainVault, type TempVault } from '../testing/fixtures.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const vaults: TempVault[] = [];
afterEach(async () => {
  for (const v of vaults.splice(0)) await v.cleanup();
});

async function seeded(n: number): Promise<TempVault> {
  const v = await keychainVault();
  vaults.push(v);
  for (let i = 0; i < n; i++) v.app.credentials.add({ name: `cred-${i}`, ...SAMPLE.hostinger(`token_${i}_0123456789abcdef`) });
  return v;
}

/** Another process rotates the key to completion. */
function rotateElsewhere(vaultPath: string): void {
  const r = spawnSync(process.execPath, ['main/testing/rotate-child.ts', vaultPath, 'none', '1'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000
  });
  expect(r.status, r.stderr).toBe(0);
}

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
};

describe('two processes rotating the vault key at once', () => {
  it('security: a rotation that cannot take the write lock never deletes the key the other process is committing', async () => {
    const v = await seeded(3);
    await v.app.close();
    const go = join(v.dir, 'go');
    const child = spawn(process.execPath, ['main/vault/testing/rotate-paused-child.ts', v.path, go], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe']
    });
    const lines: string[] = [];
    const paused = new Promise<void>((ok, fail) => {
      createInterface({ input: child.stdout }).on('line', (l) => {
        lines.push(l);
        if (l === 'paused') ok();
      });
      child.once('exit', (code) => fail(new Error(`child exited ${code} before pausing`)));
    });
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    await paused; // the child holds the write lock, its new key is in the keychain, nothing committed yet

    const other = v.reopen();
    await other.vault.unlock(); // still version 1: the child has not committed
    await expect(other.vault.rotateKey()).rejects.toMatchObject({ code: 'VAULT_BUSY' });

    writeFileSync(go, '');
    expect(await exited).toBe(0);
    expect(lines).toContain('rotated 2');

    const fresh = openApp({ vaultPath: v.path });
    try {
      await fresh.vault.unlock(); // KEY_NOT_FOUND if the busy rotation had deleted the child's version-2 key
      expect(fresh.vault.meta().kek_version).toBe(2);
      expect(fresh.credentials.check()).toEqual({ checked: 3, failures: [] });
      expect((await fresh.audit.verify()).ok).toBe(true);
    } finally {
      fresh.vault.close();
    }
  });
});

describe('a handle whose key another process rotated', () => {
  it('reading a secret says KEY_ROTATED (never "tampered"), locks the handle, and works after unlocking again', async () => {
    const v = await seeded(2);
    const app = v.app;
    const locks: boolean[] = [];
    app.vault.events.on('vault.lock', ({ locked }) => locks.push(locked));
    rotateElsewhere(v.path);

    expect(codeOf(() => app.credentials.material('cred-0'))).toBe('KEY_ROTATED');
    expect(app.vault.isUnlocked()).toBe(false);
    expect(locks).toEqual([true]);
    expect(codeOf(() => app.credentials.material('cred-0'))).toBe('VAULT_LOCKED');

    await app.vault.unlock();
    expect(app.credentials.material('cred-0').secrets.api_token?.reveal()).toBe('token_0_0123456789abcdef');
    expect(app.credentials.check()).toEqual({ checked: 2, failures: [] });
  });

  it('check does not report every credential as failing authentication: it stops with KEY_ROTATED', async () => {
    const v = await seeded(2);
    rotateElsewhere(v.path);
    expect(codeOf(() => v.app.credentials.check())).toBe('KEY_ROTATED');
  });

  it('a write is refused with KEY_ROTATED, changes nothing, and locks the handle', async () => {
    const v = await seeded(1);
    const app = v.app;
    const before = app.audit.list().length;
    rotateElsewhere(v.path);
    expect(codeOf(() => app.credentials.add({ name: 'late', ...SAMPLE.hostinger() }))).toBe('KEY_ROTATED');
    expect(app.vault.isUnlocked()).toBe(false);
    expect(app.credentials.list().map((c) => c.name)).toEqual(['cred-0']);
    expect(app.audit.list()).toHaveLength(before + 1); // the other process's rotation entry only
    await app.vault.unlock();
    app.credentials.add({ name: 'late', ...SAMPLE.hostinger() });
    expect((await app.audit.verify()).ok).toBe(true);
  });

  it('a rotation from the stale handle is refused with KEY_ROTATED and leaves the vault opening', async () => {
    const v = await seeded(1);
    rotateElsewhere(v.path);
    await expect(v.app.vault.rotateKey()).rejects.toMatchObject({ code: 'KEY_ROTATED' });
    expect(v.app.vault.isUnlocked()).toBe(false);
    const fresh = openApp({ vaultPath: v.path });
    try {
      await fresh.vault.unlock();
      expect(fresh.credentials.check()).toEqual({ checked: 1, failures: [] });
    } finally {
      fresh.vault.close();
    }
  });
});
