// `keydesk list` on a 50-credential vault, as a whole process (the real bin/keydesk.js), against `node -e 0` in the
// same run: the CLI's start-up cost as a ratio to Node's own (target ≤ 3×). Both are spawned alternately, after one
// warm-up run that fills the CLI's compile cache (as any second command on a machine finds it), and the medians are
// compared. Prints; asserts nothing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { passphraseVault } from '../main/testing/fixtures.ts';

const RUNS = 25;
const CREDENTIALS = 50;
const BIN = resolve(import.meta.dirname, '../bin/keydesk.js');

const v = await passphraseVault('bench-passphrase-0123456789');
const cache = mkdtempSync(join(tmpdir(), 'keydesk-bench-cache-'));
try {
  v.app.credentials.addMany(
    Array.from({ length: CREDENTIALS }, (_, i) => ({
      name: `vps-${String(i).padStart(2, '0')}`,
      provider: 'hostinger',
      mode: 'api_token',
      values: { api_token: `hst_bench_token_${String(i).padStart(4, '0')}_abcdef` }
    }))
  );
  v.app.vault.lock();
  // A clean environment: the vault named explicitly, the compile cache in a temp folder, no passphrase.
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), XDG_CACHE_HOME: cache };
  const time = (args: string[]): number => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.toString().slice(0, 500)}`);
    return ms;
  };
  const list = [BIN, '--vault', v.path, 'list'];
  const out = spawnSync(process.execPath, list, { env }).stdout.toString();
  if (out.split('\n').filter((l) => l.startsWith('vps-')).length !== CREDENTIALS) throw new Error('keydesk list did not list the vault');
  time(['-e', '0']);
  const node: number[] = [];
  const cli: number[] = [];
  const load = loadavg()[0] ?? 0;
  for (let i = 0; i < RUNS; i++) {
    node.push(time(['-e', '0']));
    cli.push(time(list));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const n = median(node);
  const c = median(cli);
  console.log(`CLI start: keydesk list on a ${CREDENTIALS}-credential vault vs node -e 0, ${RUNS} runs each, alternating`);
  console.log(`  node -e 0:     median ${n.toFixed(1)} ms`);
  console.log(`  keydesk list:  median ${c.toFixed(1)} ms`);
  console.log(`  ratio:         ${(c / n).toFixed(2)}× (target ≤ 3×)`);
  console.log(
    `  machine load before the runs: ${load.toFixed(2)} on ${cpus().length} CPUs${load > cpus().length / 2 ? ' (busy: the ratio is not a quiet-machine figure)' : ''}`
  );
} finally {
  rmSync(cache, { recursive: true, force: true });
  await v.cleanup();
}
