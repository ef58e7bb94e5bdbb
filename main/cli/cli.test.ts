// The keydesk CLI as a user runs it, in this process (main/testing/cli.ts runCli: no terminal, an explicit environment),
// on the real keychain (private session) and real scrypt. main/cli/smoke.test.ts runs the real binary.
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../testing/cli.ts';
import { tempDir } from '../testing/fixtures.ts';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function vaultPath(): string {
  const d = tempDir();
  cleanups.push(d.cleanup);
  return join(d.dir, 'vault.sqlite');
}
const HOSTINGER = JSON.stringify({ api_token: 'hst_cli_token_0123456789' });

describe('keydesk CLI', () => {
  it('init, add from stdin, list, show, status — with stable --json', async () => {
    const v = vaultPath();
    expect((await runCli(['--vault', v, 'init'])).status).toBe(0);
    const add = await runCli(
      ['--vault', v, '--json', 'add', '--provider', 'hostinger', '--mode', 'api_token', '--name', 'Hostinger prod', '--secrets-from', '-'],
      { input: HOSTINGER }
    );
    expect(add.status).toBe(0);
    const added = add.json<{ credential: { id: string; name: string; status: string } }>().credential;
    expect(added).toMatchObject({ name: 'Hostinger prod', status: 'unknown' });

    const list = await runCli(['--vault', v, 'list']);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+PROVIDER\s+MODE\s+STATUS/m);
    expect(list.stdout).toMatch(/Hostinger prod\s+hostinger\s+api_token\s+unknown/);

    const show = await runCli(['--vault', v, '--json', 'show', added.id]);
    expect(show.json<{ credential: { name: string; secretsSet: string[] } }>().credential).toMatchObject({
      name: 'Hostinger prod',
      secretsSet: ['api_token']
    });

    const status = await runCli(['--json', 'status'], { env: { KEYDESK_VAULT: v } });
    expect(status.json<{ vault: { credentials: number; keySource: string } }>().vault).toMatchObject({
      credentials: 1,
      keySource: 'keychain'
    });
  });

  it('reads secrets from a file, and refuses secrets on the command line (exit 2, nothing stored)', async () => {
    const v = vaultPath();
    await runCli(['--vault', v, 'init']);
    const f = join(v, '..', 'secrets.json');
    writeFileSync(f, HOSTINGER, { mode: 0o600 });
    expect(
      (await runCli(['--vault', v, 'add', '--provider', 'hostinger', '--mode', 'api_token', '--name', 'h', '--secrets-from', f])).status
    ).toBe(0);

    const argv = await runCli([
      '--vault',
      v,
      'add',
      '--provider',
      'hostinger',
      '--mode',
      'api_token',
      '--name',
      'h2',
      '--field',
      'api_token=hst_on_the_command_line'
    ]);
    expect(argv.status).toBe(2);
    expect(argv.stderr).toContain('[INPUT_INVALID]');
    expect(argv.stderr).toContain('--secrets-from');
    expect(argv.stderr).not.toContain('hst_on_the_command_line');
    expect((await runCli(['--vault', v, '--json', 'list'])).json<{ credentials: unknown[] }>().credentials).toHaveLength(1);
  });

  it('usage errors exit 2; failures exit 1; --json errors are {"error":{code,message}}', async () => {
    const v = vaultPath();
    expect((await runCli(['--vault', v, 'frobnicate'])).status).toBe(2);
    expect((await runCli(['--vault', v, 'add', '--provider', 'hostinger'])).status).toBe(2); // missing required options
    expect((await runCli(['--vault', v, 'init', '--key-source', 'floppy'])).status).toBe(2);

    // A script that asked for --json gets one JSON document for a usage error too (the parser's words on stderr).
    for (const args of [['frobnicate'], ['add', '--provider', 'hostinger'], ['bind']]) {
      const usage = await runCli(['--vault', v, '--json', ...args]);
      expect(usage.status, args.join(' ')).toBe(2);
      expect(usage.json(), args.join(' ')).toEqual({
        error: { code: 'INPUT_INVALID', message: expect.stringMatching(/\. See keydesk --help\.$/) }
      });
      expect(usage.stderr).toMatch(/^error: /);
    }

    const missing = await runCli(['--vault', v, '--json', 'list']);
    expect(missing.status).toBe(1);
    expect(missing.json()).toEqual({ error: { code: 'VAULT_NOT_FOUND', message: expect.stringContaining('keydesk init') } });
    // A mistyped folder is "no vault here", not a damaged vault.
    const typo = await runCli(['--vault', join(v, '..', 'no-such-folder', 'vault.sqlite'), '--json', 'status']);
    expect(typo.status).toBe(1);
    expect(typo.json()).toMatchObject({ error: { code: 'VAULT_NOT_FOUND' } });
    expect((await runCli(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);

    await runCli(['--vault', v, 'init']);
    const again = await runCli(['--vault', v, 'init']);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('[VAULT_EXISTS]');

    const badJson = await runCli(
      ['--vault', v, 'add', '--provider', 'hostinger', '--mode', 'api_token', '--name', 'h', '--secrets-from', '-'],
      { input: '{"api_token": "hst_half_written' }
    );
    expect(badJson.status).toBe(2);
    expect(badJson.stderr).not.toContain('hst_half_written');
    expect((await runCli(['--vault', v, 'show', 'nobody'])).status).toBe(1);
  });

  it('inspects a passphrase vault offline without the passphrase; key operations say what they need', async () => {
    const v = vaultPath();
    const pass = { KEYDESK_PASSPHRASE: 'offline inspection passphrase' };
    expect((await runCli(['--vault', v, 'init', '--key-source', 'passphrase'], { env: pass })).status).toBe(0);
    expect(
      (
        await runCli(['--vault', v, 'add', '--provider', 'hostinger', '--mode', 'api_token', '--name', 'h', '--secrets-from', '-'], {
          env: pass,
          input: HOSTINGER
        })
      ).status
    ).toBe(0);

    const noPass = { KEYDESK_PASSPHRASE: undefined };
    for (const args of [['status'], ['list'], ['show', 'h'], ['audit', 'export']]) {
      const r = await runCli(['--vault', v, ...args], { env: noPass });
      expect(r.status, args.join(' ')).toBe(0);
    }
    const lines = (await runCli(['--vault', v, 'audit', 'export'], { env: noPass })).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; action: string });
    expect(lines.map((e) => [e.seq, e.action])).toEqual([
      [1, 'vault.init'],
      [2, 'credential.add']
    ]);

    for (const args of [['audit', 'verify'], ['check']]) {
      const r = await runCli(['--vault', v, ...args], { env: noPass });
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toContain('[PASSPHRASE_REQUIRED]');
      expect(r.stderr).toContain('KEYDESK_PASSPHRASE');
    }
    const wrong = await runCli(['--vault', v, 'check'], { env: { KEYDESK_PASSPHRASE: 'wrong passphrase!' } });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('[WRONG_PASSPHRASE]');
    expect((await runCli(['--vault', v, 'audit', 'verify'], { env: pass })).stdout).toContain('OK: 2 audit entries verified');
  });

  it('a keychain vault file rolled back takes no write through the CLI, and the genuine file still verifies', async () => {
    const v = vaultPath();
    const add = (name: string) =>
      runCli(['--vault', v, 'add', '--provider', 'hostinger', '--mode', 'api_token', '--name', name, '--secrets-from', '-'], {
        input: HOSTINGER
      });
    expect((await runCli(['--vault', v, 'init'])).status).toBe(0);
    expect((await add('one')).status).toBe(0);
    const raw = new Database(v);
    raw.pragma('wal_checkpoint(TRUNCATE)');
    raw.close();
    copyFileSync(v, `${v}.old`);
    for (const name of ['two', 'three']) expect((await add(name)).status).toBe(0); // each anchors its head at exit
    copyFileSync(v, `${v}.genuine`);
    copyFileSync(`${v}.old`, v);
    for (const f of ['-wal', '-shm']) rmSync(`${v}${f}`, { force: true });
    for (const name of ['a', 'b', 'c', 'd']) {
      const r = await add(name);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/AUDIT_TAMPERED|ends before entry 4, anchored in the OS keychain/);
    }
    expect((await runCli(['--vault', v, 'audit', 'verify'])).status).toBe(1);
    copyFileSync(`${v}.genuine`, v);
    const verified = await runCli(['--vault', v, 'audit', 'verify']);
    expect(verified.status).toBe(0);
    expect(verified.stdout).toContain('OK: 4 audit entries verified');
  });

  it('a name edited into the file with terminal escapes reaches the terminal defused; an impossible date is refused', async () => {
    const v = vaultPath();
    await runCli(['--vault', v, 'init']);
    const add = (extra: string[]) =>
      runCli(
        ['--vault', v, '--json', 'add', '--provider', 'hostinger', '--mode', 'api_token', '--name', 'h', '--secrets-from', '-', ...extra],
        {
          input: HOSTINGER
        }
      );
    const bad = await add(['--expires', '2026-02-30']);
    expect(bad.status).toBe(2);
    expect(bad.json<{ error: { code: string; message: string } }>().error).toMatchObject({
      code: 'INPUT_INVALID',
      message: expect.stringContaining('2026-02-30 does not exist')
    });
    expect((await runCli(['--vault', v, '--json', 'list'])).json<{ credentials: unknown[] }>().credentials).toHaveLength(0);
    expect((await add(['--expires', '2028-02-29'])).status).toBe(0); // a leap day is a real day
    const raw = new Database(v);
    raw.prepare('UPDATE credentials SET name = ?').run('h\u001b]0;pwned\u0007\u001b[2J\nforged line');
    raw.close();
    for (const args of [['list'], ['show', 'h\u001b]0;pwned\u0007\u001b[2J\nforged line'], ['status']]) {
      const r = await runCli(['--vault', v, ...args]);
      // eslint-disable-next-line no-control-regex -- no control character but newlines may reach the terminal
      expect(r.stdout + r.stderr, args[0]).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
      expect(r.stdout + r.stderr, args[0]).not.toMatch(/^forged line/m);
    }
    expect((await runCli(['--vault', v, 'list'])).stdout).toContain('h?]0;pwned??[2J?forged line');
  });

  it('rotate-key: keychain, passphrase (new salt) and --change-passphrase', async () => {
    const v = vaultPath();
    await runCli(['--vault', v, 'init']);
    await runCli(['--vault', v, 'add', '--provider', 'hostinger', '--mode', 'api_token', '--name', 'h', '--secrets-from', '-'], {
      input: HOSTINGER
    });
    const rot = await runCli(['--vault', v, '--json', 'rotate-key']);
    expect(rot.json()).toEqual({ kekVersion: 2, rewrapped: 1 });
    expect((await runCli(['--vault', v, 'check'])).stdout).toContain('OK: 1 credential decrypted');

    const p = vaultPath();
    const env = { KEYDESK_PASSPHRASE: 'first passphrase 1' };
    await runCli(['--vault', p, 'init', '--key-source', 'passphrase'], { env });
    expect((await runCli(['--vault', p, 'rotate-key'], { env })).status).toBe(0);
    const changed = await runCli(['--vault', p, 'rotate-key', '--change-passphrase'], {
      env: { ...env, KEYDESK_NEW_PASSPHRASE: 'second passphrase 2' }
    });
    expect(changed.status).toBe(0);
    expect((await runCli(['--vault', p, 'check'], { env })).stderr).toContain('[WRONG_PASSPHRASE]');
    expect((await runCli(['--vault', p, 'check'], { env: { KEYDESK_PASSPHRASE: 'second passphrase 2' } })).status).toBe(0);
    const noTty = await runCli(['--vault', p, 'rotate-key', '--change-passphrase'], {
      env: { KEYDESK_PASSPHRASE: 'second passphrase 2', KEYDESK_NEW_PASSPHRASE: undefined }
    });
    expect(noTty.status).toBe(1);
    expect(noTty.stderr).toContain('KEYDESK_NEW_PASSPHRASE');
  });

  it('update, rename, remove, and check exits 1 when a credential fails authentication', async () => {
    const v = vaultPath();
    await runCli(['--vault', v, 'init']);
    await runCli(
      [
        '--vault',
        v,
        'add',
        '--provider',
        'aws',
        '--mode',
        'access_key',
        '--name',
        'a',
        '--field',
        'region=us-east-1',
        '--secrets-from',
        '-'
      ],
      {
        input: JSON.stringify({ access_key_id: 'AKIAIOSFODNN7EXAMPLE', secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' })
      }
    );
    expect((await runCli(['--vault', v, 'update', 'a', '--field', 'region=eu-west-1'])).status).toBe(0);
    expect((await runCli(['--vault', v, 'update', 'a'])).status).toBe(2);
    expect((await runCli(['--vault', v, 'rename', 'a', 'AWS prod'])).status).toBe(0);
    expect(
      (await runCli(['--vault', v, '--json', 'show', 'aws prod'])).json<{ credential: { metadata: Record<string, string> } }>().credential
        .metadata.region
    ).toBe('eu-west-1');
    const raw = new Database(v);
    raw.prepare("UPDATE credentials SET mode = 'assume_role'").run();
    raw.close();
    const check = await runCli(['--vault', v, 'check']);
    expect(check.status).toBe(1);
    expect(check.stdout).toMatch(/FAILED AWS prod .*\[HEADER_TAMPERED\]/);
    expect(check.stdout).toContain('1 of 1 credentials failed');
    expect((await runCli(['--vault', v, 'remove', 'AWS prod'])).status).toBe(0);
    expect((await runCli(['--vault', v, 'list'])).stdout).toContain('No credentials yet');
  });
});
