// Canary: a secret planted in a credential never appears — raw, base64, hex or URL-encoded — in the vault file,
// its WAL, any command's stdout/stderr, or the audit log, through add, update, rotate, check, export and remove.
// After remove, the credential's wrapped DEK is gone from the files too. The commands run in this process (runCli),
// with their output buffered as a user would see it (anything written to process.stdout/stderr included).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../testing/cli.ts';
import { containsAnyEncoding, tempDir, vaultFilesBytes } from '../testing/fixtures.ts';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function leakCheck(vaultPath: string, canaries: string[], outputs: CliResult[]): void {
  const files = vaultFilesBytes(vaultPath);
  for (const c of canaries) {
    expect(containsAnyEncoding(files, c), `canary in vault files`).toBeNull();
    for (const o of outputs) {
      expect(containsAnyEncoding(o.stdout, c), `canary in stdout`).toBeNull();
      expect(containsAnyEncoding(o.stderr, c), `canary in stderr`).toBeNull();
    }
  }
}

describe('secrets never leak (canary)', () => {
  it('through every CLI path of a keychain vault, and the wrapped DEK is gone after remove', async () => {
    const d = tempDir();
    cleanups.push(d.cleanup);
    const v = join(d.dir, 'vault.sqlite');
    const c1 = `CANARY1-${randomBytes(12).toString('hex')}`;
    const c2 = `CANARY2-${randomBytes(12).toString('hex')}`;
    const c3 = `CANARY3-${randomBytes(12).toString('hex')}`;
    const outputs: CliResult[] = [];
    const run = async (args: string[], input?: string) => {
      const r = await runCli(['--vault', v, ...args], input === undefined ? {} : { input });
      outputs.push(r);
      return r;
    };

    expect((await run(['init'])).status).toBe(0);
    expect(
      (
        await run(
          ['add', '--provider', 'hostinger', '--mode', 'api_token', '--name', 'canary', '--secrets-from', '-'],
          JSON.stringify({ api_token: c1 })
        )
      ).status
    ).toBe(0);
    leakCheck(v, [c1], outputs);
    await run(['list']);
    await run(['--json', 'list']);
    await run(['show', 'canary']);
    await run(['--json', 'show', 'canary']);
    expect((await run(['update', 'canary', '--secrets-from', '-'], JSON.stringify({ api_token: c2 }))).status).toBe(0);
    expect((await run(['rotate-key'])).status).toBe(0);
    expect((await run(['check'])).status).toBe(0);
    expect((await run(['audit', 'verify'])).status).toBe(0);
    const exported = await run(['audit', 'export']);
    expect(exported.stdout.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(4);
    // Error paths: the secret must not be echoed back.
    expect(
      (
        await run(
          ['add', '--provider', 'hostinger', '--mode', 'api_token', '--name', 'bad', '--secrets-from', '-'],
          JSON.stringify({ api_token: `${c3} has spaces` })
        )
      ).status
    ).toBe(2);
    expect(
      (
        await run(
          ['add', '--provider', 'hostinger', '--mode', 'api_token', '--name', 'bad', '--secrets-from', '-'],
          `{"api_token": "${c3}"`
        )
      ).status
    ).toBe(2);
    expect(
      (await run(['add', '--provider', 'hostinger', '--mode', 'api_token', '--name', 'bad', '--field', `api_token=${c3}`])).status
    ).toBe(2);
    leakCheck(v, [c1, c2, c3], outputs);

    const raw = new Database(v, { readonly: true });
    const { wrapped_dek: wrapped, payload } = raw.prepare('SELECT wrapped_dek, payload FROM credential_secrets').get() as {
      wrapped_dek: Buffer;
      payload: Buffer;
    };
    raw.close();
    expect(vaultFilesBytes(v).includes(wrapped)).toBe(true);
    expect((await run(['remove', 'canary'])).status).toBe(0);
    const after = vaultFilesBytes(v);
    expect(after.includes(wrapped)).toBe(false);
    expect(after.includes(payload)).toBe(false);
    await run(['audit', 'export']);
    leakCheck(v, [c1, c2, c3], outputs);
  });

  it('the passphrase itself never reaches the vault file or any output', async () => {
    const d = tempDir();
    cleanups.push(d.cleanup);
    const v = join(d.dir, 'vault.sqlite');
    const pass = `PASSCANARY-${randomBytes(8).toString('hex')}`;
    const env = { KEYDESK_PASSPHRASE: pass };
    const outputs = [
      await runCli(['--vault', v, 'init', '--key-source', 'passphrase'], { env }),
      await runCli(['--vault', v, 'add', '--provider', 'hostinger', '--mode', 'api_token', '--name', 'h', '--secrets-from', '-'], {
        env,
        input: JSON.stringify({ api_token: 'hst_token_0123456789ab' })
      }),
      await runCli(['--vault', v, 'rotate-key'], { env }),
      await runCli(['--vault', v, 'check'], { env: { KEYDESK_PASSPHRASE: `${pass}-wrong` } }),
      await runCli(['--vault', v, 'audit', 'export'])
    ];
    expect(outputs.map((o) => o.status)).toEqual([0, 0, 0, 1, 0]);
    leakCheck(v, [pass], outputs);
  });
});
