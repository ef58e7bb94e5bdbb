import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openApp, restoreApp, type KeydeskApp } from '../app.ts';
import { runCli } from '../testing/cli.ts';
import { SAMPLE, containsAnyEncoding, keychainVault, tempDir, type TempVault } from '../testing/fixtures.ts';
import { writeBackup } from './backup.ts';
import { keychainAccounts, osKeychain } from './keychain.ts';

// Encrypted backup and restore on the real keychain (private session) and real scrypt: a backup restored as a new
// vault after the original and its keychain key are gone (a new machine), tampering and wrong passphrases refused
// with nothing written, and no secret in the file in any encoding.

const BACKUP_PASS = 'backup passphrase for the safe';
const SECRETS = ['hst_backup_alpha_0123456789', 'blk_backup_bravo_0123456789', 'hst_backup_charlie_0123456789'];
const pass = (p: string) => () => Promise.resolve(p);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function source(): Promise<{ v: TempVault; dir: string }> {
  const v = await keychainVault();
  cleanups.push(() => v.cleanup());
  const d = tempDir();
  cleanups.push(d.cleanup);
  const app = v.app;
  app.credentials.add({ name: 'alpha', ...SAMPLE.hostinger(SECRETS[0]) });
  app.credentials.add({ name: 'bravo', ...SAMPLE.blocklist(SECRETS[1]) });
  app.credentials.add({ name: 'charlie', ...SAMPLE.hostinger(SECRETS[2]) });
  app.credentials.update('alpha', { values: { api_token: `${SECRETS[0]}-rotated` } });
  app.routing.bind('bravo', 'corp.example', { subdomains: true });
  return { v, dir: d.dir };
}

function track(app: KeydeskApp): KeydeskApp {
  cleanups.push(() => app.close());
  return app;
}

describe('backup and restore', () => {
  it('restored on a "new machine" (vault file and keychain key gone): every credential decrypts, bindings hold, verify passes with the restore recorded', async () => {
    const { v, dir } = await source();
    const file = join(dir, 'vault.kdbackup');
    const before = v.app.audit.list().length;
    const report = await writeBackup(v.app.vault, file, pass(BACKUP_PASS));
    expect(report).toMatchObject({ credentials: 3, auditEntries: before, kdf: 'scrypt N=2^17, r=8, p=1' });
    expect(v.app.audit.list().at(-1)).toMatchObject({ action: 'vault.backup', detail: { credentials: 3 } });
    const sourceId = v.app.vault.vaultId;
    const bindingsBefore = v.app.routing.list().map((b) => [b.domain, b.credentialName, b.subdomains]);

    // The old machine is gone: its vault file and its keychain key.
    await v.app.close();
    await osKeychain().delete(keychainAccounts.kek(sourceId, 1));
    const target = join(dir, 'restored', 'vault.sqlite');
    const { app, report: r } = await restoreApp(
      { vaultPath: target, actor: 'analyst:new-laptop (test)' },
      file,
      pass(BACKUP_PASS),
      'keychain'
    );
    track(app);
    const newId = app.vault.vaultId;
    cleanups.push(async () => void (await osKeychain().delete(keychainAccounts.kek(newId, 1))));
    expect(r).toMatchObject({ sourceVaultId: sourceId, credentials: 3 });
    expect(newId).not.toBe(sourceId); // a new vault: the original's keychain entries are never touched
    expect(app.credentials.material('alpha').secrets.api_token?.reveal()).toBe(`${SECRETS[0]}-rotated`);
    expect(app.credentials.material('bravo').secrets.token?.reveal()).toBe(SECRETS[1]);
    expect(app.credentials.material('charlie').secrets.api_token?.reveal()).toBe(SECRETS[2]);
    expect(app.routing.list().map((b) => [b.domain, b.credentialName, b.subdomains])).toEqual(bindingsBefore);
    expect(app.routing.resolve('block_email_domain', { hostDomain: 'mail.corp.example' }).credentialName).toBe('bravo');
    const entries = app.audit.list();
    expect(entries).toHaveLength(before + 1);
    expect(entries.at(-1)).toMatchObject({ action: 'vault.restore', detail: { source_vault_id: sourceId, credentials: 3 } });
    expect(await app.audit.verify()).toMatchObject({ ok: true, entries: before + 1 });
    // It is a vault like any other: it reopens with its own new key, and takes writes.
    await app.close();
    const again = track(openApp({ vaultPath: target }));
    await again.vault.unlock();
    again.credentials.add({ name: 'delta', ...SAMPLE.hostinger() });
    expect(await again.audit.verify()).toMatchObject({ ok: true });
  });

  it('no secret is in the backup file, in clear, base64, hex or URL-encoded', async () => {
    const { v, dir } = await source();
    const file = join(dir, 'vault.kdbackup');
    await writeBackup(v.app.vault, file, pass(BACKUP_PASS));
    const bytes = readFileSync(file);
    for (const s of [...SECRETS, `${SECRETS[0]}-rotated`, BACKUP_PASS]) expect(containsAnyEncoding(bytes, s), s).toBeNull();
    expect(JSON.parse(bytes.toString('utf8'))).toMatchObject({ format: 'keydesk-backup/1', kdf: { name: 'scrypt', N: 2 ** 17 } });
  });

  it('a wrong passphrase, a changed byte or a cut-short file is refused with its own error, and nothing is written', async () => {
    const { v, dir } = await source();
    const file = join(dir, 'vault.kdbackup');
    await writeBackup(v.app.vault, file, pass(BACKUP_PASS));
    const text = readFileSync(file, 'utf8');
    const target = join(dir, 'restored.sqlite');
    const attempt = async (content: string, p = BACKUP_PASS) => {
      const f = join(dir, 'attempt.kdbackup');
      writeFileSync(f, content);
      const e = (await restoreApp({ vaultPath: target }, f, pass(p), 'keychain').then(
        () => null,
        (x: unknown) => x
      )) as { code: string } | null;
      expect(existsSync(target), 'nothing written').toBe(false);
      return e?.code ?? 'RESTORED';
    };
    expect(await attempt(text, 'not the backup passphrase')).toBe('WRONG_PASSPHRASE');
    const o = JSON.parse(text) as { box: string; created_at: string; check: string };
    const flip = (b64: string, at: number) => {
      const b = Buffer.from(b64, 'base64');
      b[at]! ^= 0x01;
      return b.toString('base64');
    };
    const box = Buffer.from(o.box, 'base64');
    for (const at of [0, 12, Math.floor(box.length / 2), box.length - 1])
      expect(await attempt(JSON.stringify({ ...o, box: flip(o.box, at) })), `box byte ${at}`).toBe('BACKUP_TAMPERED');
    expect(await attempt(JSON.stringify({ ...o, created_at: '2020-01-01T00:00:00.000Z' }))).toBe('WRONG_PASSPHRASE'); // the header is the AAD
    expect(await attempt(JSON.stringify({ ...o, check: flip(o.check, 20) }))).toBe('WRONG_PASSPHRASE');
    expect(await attempt(text.slice(0, Math.floor(text.length / 2)))).toBe('BACKUP_INVALID');
    expect(await attempt(JSON.stringify({ ...o, kdf: { name: 'scrypt', N: 1024, r: 8, p: 1, salt: 'AAAAAAAAAAAAAAAAAAAAAA==' } }))).toBe(
      'BACKUP_INVALID'
    );
    expect(await attempt('{"format":"something else"}')).toBe('BACKUP_INVALID');
  });

  it('refuses a place that already holds a vault, and a backup file that exists, changing neither', async () => {
    const { v, dir } = await source();
    const file = join(dir, 'vault.kdbackup');
    await writeBackup(v.app.vault, file, pass(BACKUP_PASS));
    const first = readFileSync(file);
    await expect(writeBackup(v.app.vault, file, pass(BACKUP_PASS))).rejects.toMatchObject({ code: 'BACKUP_EXISTS' });
    expect(readFileSync(file).equals(first)).toBe(true);
    const entries = v.app.audit.list().length;
    await expect(restoreApp({ vaultPath: v.path }, file, pass(BACKUP_PASS), 'keychain')).rejects.toMatchObject({ code: 'VAULT_EXISTS' });
    expect(v.app.audit.list()).toHaveLength(entries);
    await expect(writeBackup(v.app.vault, join(dir, 'short.kdbackup'), pass('short'))).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    expect(existsSync(join(dir, 'short.kdbackup'))).toBe(false);
  });

  it('through the CLI: keydesk backup, then keydesk restore onto a passphrase vault', async () => {
    const { v, dir } = await source();
    await v.app.close();
    const file = join(dir, 'cli.kdbackup');
    const backup = await runCli(['--vault', v.path, '--json', 'backup', file], { env: { KEYDESK_BACKUP_PASSPHRASE: BACKUP_PASS } });
    expect(backup.status, backup.stderr).toBe(0);
    expect(backup.json<{ backup: { credentials: number } }>().backup.credentials).toBe(3);
    const target = join(dir, 'cli-restored.sqlite');
    const env = { KEYDESK_BACKUP_PASSPHRASE: BACKUP_PASS, KEYDESK_PASSPHRASE: 'the new laptop passphrase' };
    const restored = await runCli(['--vault', target, 'restore', file, '--key-source', 'passphrase'], { env });
    expect(restored.status, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/Restored 3 credentials and \d+ audit entries from the backup of vault/);
    const verify = await runCli(['--vault', target, 'audit', 'verify'], { env });
    expect(verify.status).toBe(0);
    expect((await runCli(['--vault', target, 'check'], { env })).status).toBe(0);
    const again = await runCli(['--vault', target, '--json', 'restore', file], { env });
    expect(again.status).toBe(1);
    expect(again.json<{ error: { code: string } }>().error.code).toBe('VAULT_EXISTS');
  });
});
