// The app and the CLI may hold one vault open at once: every write is one BEGIN IMMEDIATE transaction with its
// audit entry, so concurrent writers lose nothing and the audit chain stays intact.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openApp } from '../app.ts';
import { SAMPLE, keychainVault, type TempVault } from '../testing/fixtures.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const vaults: TempVault[] = [];
afterEach(async () => {
  for (const v of vaults.splice(0)) await v.cleanup();
});

interface Writer {
  ready: Promise<void>;
  go(): void;
  exit: Promise<number | null>;
}

function writer(vaultPath: string, prefix: string, n: number): Writer {
  const child = spawn(process.execPath, ['main/testing/writer-child.ts', vaultPath, prefix, String(n)], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit']
  });
  return {
    ready: new Promise((r) => child.stdout.once('data', () => r())),
    go: () => child.stdin.end('go\n'),
    exit: new Promise((r) => child.once('exit', (code) => r(code)))
  };
}

describe('two processes writing one vault', () => {
  it('loses no write and keeps the audit chain verifiable', async () => {
    const v = await keychainVault();
    vaults.push(v);
    await v.app.close();
    const n = 150;
    const writers = [writer(v.path, 'app', n), writer(v.path, 'cli', n)];
    await Promise.all(writers.map((w) => w.ready));
    for (const w of writers) w.go();
    const codes = await Promise.all(writers.map((w) => w.exit));
    expect(codes).toEqual([0, 0]);
    const app = openApp({ vaultPath: v.path });
    await app.vault.unlock();
    const names = app.credentials.list().map((c) => c.name);
    expect(names).toHaveLength(2 * n);
    for (let i = 0; i < n; i++) expect(names).toEqual(expect.arrayContaining([`app-${i}`, `cli-${i}`]));
    const audit = app.audit.list();
    expect(audit).toHaveLength(1 + 2 * n);
    expect(audit.filter((e) => e.action === 'credential.add')).toHaveLength(2 * n);
    // The two writers really interleaved (otherwise this test would prove nothing about concurrency).
    const actors = audit.slice(1).map((e) => e.actor);
    const switches = actors.filter((a, i) => i > 0 && a !== actors[i - 1]).length;
    expect(switches).toBeGreaterThan(1);
    expect(await app.audit.verify()).toMatchObject({ ok: true, entries: 1 + 2 * n });
    expect(app.credentials.check().failures).toEqual([]);
    app.vault.close();
  });
});

describe('an update racing a token refresh in another process', () => {
  it('does not write back the tokens it read before the refresh (no lost update)', async () => {
    const v = await keychainVault();
    vaults.push(v);
    v.app.credentials.add({ name: 'aws', ...SAMPLE.aws(), extra: { refresh_token: 'rt-1' } });
    const child = spawn(process.execPath, ['main/vault/testing/refresh-child.ts', v.path, 'aws', '1500'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit']
    });
    const lines: string[] = [];
    const locked = new Promise<void>((ok) =>
      child.stdout.on('data', (d: Buffer) => {
        lines.push(...d.toString().split('\n').filter(Boolean));
        if (lines.includes('locked')) ok();
      })
    );
    const exit = new Promise<number | null>((r) => child.once('exit', r));
    await locked;
    // The update waits for the child's lock; the child stores new tokens the moment it lets go.
    v.app.credentials.update('aws', { values: { region: 'eu-west-1' } });
    expect(await exit).toBe(0);
    expect(lines).toContain('stored');
    const m = v.app.credentials.material('aws');
    expect(m.fields.region).toBe('eu-west-1');
    expect(m.secrets.refresh_token?.reveal()).toBe('rt-2-from-the-other-process');
  });
});
