// Backup and restore of 10,000 credentials, each against the bare crypto of the same bytes measured in this run:
// backup = unwrapping every DEK and sealing a box the size of the backup's contents (plus its base64); restore =
// opening that box (from base64) and wrapping every DEK under a new KEK. Key derivation is excluded (scrypt costs the
// same whatever the vault holds): each scrypt the operation runs is timed alone in this run and subtracted. Target
// ≤ 2× for each. Prints; asserts nothing.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, restoreApp } from '../main/app.ts';
import { writeBackup } from '../main/vault/backup.ts';
import { AAD, keyObject, open, randomKey, seal } from '../main/vault/crypto.ts';
import { derivePassphraseKey, newSalt } from '../main/vault/passphrase.ts';

const N = Number(process.env.BENCH_N ?? 10_000);
const PASS = 'benchmark passphrase';
const dir = mkdtempSync(join(tmpdir(), 'keydesk-bench-'));
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

async function time<T>(fn: () => T | Promise<T>): Promise<{ ms: number; value: T }> {
  gc();
  const t = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, value };
}
const row = (label: string, ms: number, floorMs: number) =>
  `${label.padEnd(34)} ${ms.toFixed(1).padStart(9)} ms   floor ${floorMs.toFixed(1).padStart(8)} ms   ratio ${(ms / floorMs).toFixed(2)}x   (target <= 2x)`;

try {
  const app = await createApp({ vaultPath: join(dir, 'source.sqlite'), actor: 'analyst:bench (bench)' }, 'passphrase', () =>
    Promise.resolve(PASS)
  );
  app.credentials.addMany(
    Array.from({ length: N }, (_, i) => ({
      name: `bench-${String(i).padStart(5, '0')}`,
      provider: 'hostinger',
      mode: 'api_token',
      values: { api_token: `hst_bench_token_${i}_0123456789abcdef` }
    }))
  );
  const kdf = async () => (await time(() => derivePassphraseKey(PASS, newSalt()))).ms;
  const file = join(dir, 'bench.kdbackup');

  const kdfBackup = await kdf();
  const backup = await time(() => writeBackup(app.vault, file, () => Promise.resolve(PASS)));
  const backupMs = backup.ms - kdfBackup;

  // The bare crypto of a backup: every DEK unwrapped, one box the size of the contents sealed and base64-encoded.
  const kek = app.vault.requireUnlocked().kek;
  const secrets = app.vault.db.prepare('SELECT credential_id, kek_version, wrapped_dek FROM credential_secrets').all() as {
    credential_id: string;
    kek_version: number;
    wrapped_dek: Buffer;
  }[];
  const boxBytes = Math.floor((readFileSync(file).length * 3) / 4);
  const key = randomKey();
  const plain = Buffer.alloc(boxBytes, 0x61);
  const backupFloor = await time(() => {
    const deks = secrets.map((s) => open(kek, s.wrapped_dek, AAD.dek(s.credential_id, s.kek_version)).toString('base64'));
    return [deks.length, seal(key, plain, Buffer.alloc(0)).toString('base64').length];
  });

  // Restore onto a passphrase vault: two scrypt runs (the backup's key, the new vault's KEK).
  const kdfRestore = (await kdf()) + (await kdf());
  const restore = await time(() =>
    restoreApp(
      { vaultPath: join(dir, 'restored.sqlite') },
      file,
      () => Promise.resolve(PASS),
      'passphrase',
      () => Promise.resolve(PASS)
    )
  );
  const restoreMs = restore.ms - kdfRestore;
  const newKek = keyObject(randomKey());
  const sealedBox = seal(key, plain, Buffer.alloc(0)).toString('base64');
  const deks = secrets.map(() => randomKey());
  const restoreFloor = await time(() => {
    const opened = open(key, Buffer.from(sealedBox, 'base64'), Buffer.alloc(0));
    return [opened.length, deks.map((d, i) => seal(newKek, d, AAD.dek(secrets[i]!.credential_id, 1))).length];
  });

  console.log(`backup benchmark, ${N} credentials, ${(backup.value.bytes / 1e6).toFixed(1)} MB file (Node ${process.versions.node})`);
  console.log(row(`backup ${N} (scrypt excluded)`, backupMs, backupFloor.ms));
  console.log(row(`restore ${N} (scrypt excluded)`, restoreMs, restoreFloor.ms));
  console.log(`${'scrypt N=2^17 (each, excluded)'.padEnd(34)} ${kdfBackup.toFixed(1).padStart(9)} ms`);
  await restore.value.app.close();
  await app.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
