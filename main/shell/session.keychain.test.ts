import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, TEST_ACTOR } from '../testing/fixtures.ts';
import { AppSession } from './session.ts';
import { backgroundTasks } from './tasks.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function paths() {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return join(t.dir, 'vault.sqlite');
}

function session(vaultPath: string) {
  const s = new AppSession({ vaultPath, actor: TEST_ACTOR });
  cleanups.push(() => s.close());
  return s;
}

describe('app session start-up', () => {
  it('a keychain vault unlocks on start', async () => {
    const path = paths();
    const first = session(path);
    await first.create('keychain');
    await first.close();
    const s = session(path);
    expect(s.status().state).toBe('locked');
    expect(await s.unlockOnStart()).toBeNull();
    expect(s.status()).toMatchObject({ state: 'unlocked', keySource: 'keychain', autoLockMinutes: 15 });
  });

  it('a passphrase vault stays locked on start (the lock screen asks), and a wrong passphrase says so', async () => {
    const path = paths();
    const first = session(path);
    await first.create('passphrase', 'correct horse battery');
    await first.close();
    const s = session(path);
    expect(await s.unlockOnStart()).toBeNull();
    expect(s.status().state).toBe('locked');
    await expect(s.unlock()).rejects.toMatchObject({ code: 'PASSPHRASE_REQUIRED' });
    await expect(s.unlock('wrong passphrase')).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
    expect((await s.unlock('correct horse battery')).state).toBe('unlocked');
  });

  it('a file that is not a vault is reported as unusable, never overwritten', async () => {
    const path = paths();
    writeFileSync(path, 'not a database');
    const s = session(path);
    expect(s.status()).toMatchObject({ state: 'unusable', problem: { code: 'VAULT_CORRUPT' } });
    await expect(s.create('keychain')).rejects.toMatchObject({ code: 'VAULT_EXISTS' });
  });

  it('picks up a vault another process created after start', async () => {
    const path = paths();
    const s = session(path);
    expect(s.status().state).toBe('missing');
    const other = session(path);
    await other.create('keychain');
    expect(s.status().state).toBe('locked');
  });

  it('locking anchors the audit head in the keychain, and the anchor task does it periodically', async () => {
    const s = session(paths());
    await s.create('keychain');
    const app = s.app();
    app.credentials.add({ name: 'VPS', provider: 'hostinger', mode: 'api_token', values: { api_token: 'abcdefghijklmnop1' } });
    expect(app.vault.needsAnchor).toBe(true);
    const anchorTask = backgroundTasks(s).find((t) => t.name === 'audit-anchor');
    await anchorTask!.run();
    expect(app.vault.needsAnchor).toBe(false);
    expect(await app.audit.readAnchor()).toMatchObject({ seq: 2 });
    app.credentials.add({ name: 'VPS 2', provider: 'hostinger', mode: 'api_token', values: { api_token: 'abcdefghijklmnop2' } });
    await s.lock();
    expect(await app.audit.readAnchor()).toMatchObject({ seq: 3 });
    expect(s.isUnlocked()).toBe(false);
  });
});
