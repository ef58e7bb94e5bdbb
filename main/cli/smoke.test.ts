// Smoke tests of the real `keydesk` binary (bin/keydesk.js) as child processes without a terminal: what only a real
// process does — its exit status, its streams, stdin, its own environment and the missing terminal. Everything else
// about the commands is tested in this process through runCli (cli.test.ts and the files beside the commands).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, spawnCli } from '../testing/cli.ts';
import { passphraseVault, tempDir } from '../testing/fixtures.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('the keydesk binary', () => {
  it('--version prints the package version and exits 0', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = spawnCli(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${version}\n`);
  });

  it('a usage error exits 2; with --json stdout is one {"error":{code,message}} document and the parser speaks on stderr', () => {
    const d = tempDir();
    cleanups.push(d.cleanup);
    const v = join(d.dir, 'vault.sqlite');
    expect(spawnCli(['--vault', v, 'add', '--provider', 'hostinger']).status).toBe(2);
    const r = spawnCli(['--vault', v, '--json', 'frobnicate']);
    expect(r.status).toBe(2);
    expect(r.json()).toEqual({ error: { code: 'INPUT_INVALID', message: expect.stringMatching(/\. See keydesk --help\.$/) } });
    expect(r.stderr).toMatch(/^error: /);
  });

  it('init, add with the secrets piped on stdin, and list --json on the vault named by KEYDESK_VAULT', () => {
    const d = tempDir();
    cleanups.push(d.cleanup);
    const v = join(d.dir, 'vault.sqlite');
    expect(spawnCli(['--vault', v, 'init']).status).toBe(0);
    const add = spawnCli(
      ['--vault', v, 'add', '--provider', 'hostinger', '--mode', 'api_token', '--name', 'piped', '--secrets-from', '-'],
      {
        input: JSON.stringify({ api_token: 'hst_smoke_piped_0123456789' })
      }
    );
    expect(add.status, add.stderr).toBe(0);
    expect(add.stdout + add.stderr).not.toContain('hst_smoke_piped_0123456789');
    const list = spawnCli(['--json', 'list'], { env: { KEYDESK_VAULT: v } });
    expect(list.status).toBe(0);
    expect(list.json<{ credentials: { name: string; secretsSet: string[] }[] }>().credentials).toEqual([
      expect.objectContaining({ name: 'piped', secretsSet: ['api_token'] })
    ]);
  });

  it('a passphrase vault without KEYDESK_PASSPHRASE and without a terminal: exit 1, PASSPHRASE_REQUIRED, no prompt', async () => {
    const tv = await passphraseVault('smoke passphrase, never typed');
    cleanups.push(() => tv.cleanup());
    await tv.app.close();
    const r = spawnCli(['--vault', tv.path, 'check'], { env: { KEYDESK_PASSPHRASE: undefined }, timeoutMs: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('[PASSPHRASE_REQUIRED]');
    expect(r.stderr).toContain('KEYDESK_PASSPHRASE');
    expect(r.stdout).toBe('');
  });
});
