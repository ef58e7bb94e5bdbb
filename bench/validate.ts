// `validate --all` of 500 Hostinger-protocol credentials (one round trip each) against the loopback Hostinger peer
// with 100 ms latency, at concurrency 8. Prints the wall time as a ratio to the ideal 500 × 0.1 s / 8 (target ≤ 1.15×)
// and the most requests the peer saw in flight at once (must be ≤ 8). Prints; asserts nothing.
// The peer runs in its own thread (bench/_hostinger-peer.ts), as a real provider runs outside Keydesk's process: only
// Keydesk's own work is on the event loop being measured. The ratio needs a quiet machine (see the load line).
import { loadavg, cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { passphraseVault } from '../main/testing/fixtures.ts';

const COUNT = 500;
const LATENCY_MS = 100;
const CONCURRENCY = 8;

const worker = new Worker(new URL('./_hostinger-peer.ts', import.meta.url), { workerData: { latencyMs: LATENCY_MS } });
const ask = <T>(m: unknown): Promise<T> =>
  new Promise((resolve) => {
    worker.once('message', (r: T) => resolve(r));
    worker.postMessage(m);
  });
const peer = await ask<{ url: string; tokens: string[] }>({ tokens: COUNT });
// A passphrase vault needs no OS keychain, so the benchmark runs anywhere `npm run bench` does.
const v = await passphraseVault('bench-passphrase-0123456789');
try {
  peer.tokens.forEach((token, i) => {
    v.app.credentials.add({
      name: `vps-${String(i).padStart(3, '0')}`,
      provider: 'hostinger',
      mode: 'api_token',
      values: { api_token: token, api_base_url: peer.url }
    });
  });
  // Warm-up: loads the plugin module once, as the first validation of a session would.
  await v.app.validation.validate('vps-000');
  await ask('reset');
  const load = loadavg()[0] ?? 0;

  const started = performance.now();
  const run = await v.app.validation.validateAll({ concurrency: CONCURRENCY });
  const seconds = (performance.now() - started) / 1000;
  const ideal = (COUNT * (LATENCY_MS / 1000)) / CONCURRENCY;

  console.log(`validate --all: ${COUNT} hostinger credentials, peer latency ${LATENCY_MS} ms, concurrency ${CONCURRENCY}`);
  console.log(
    `  results:        ${run.summary.ok} ok, ${run.summary.failed} failed, ${run.summary.expired} expired, ${run.summary.unknown} unknown, ${run.summary.skipped} skipped`
  );
  console.log(
    `  wall time:      ${seconds.toFixed(2)} s (ideal ${ideal.toFixed(2)} s = ${COUNT} × ${LATENCY_MS / 1000} s / ${CONCURRENCY})`
  );
  console.log(`  ratio to ideal: ${(seconds / ideal).toFixed(3)}× (target ≤ 1.15×)`);
  const stats = await ask<{ maxInFlight: number; requests: number }>('stats');
  console.log(`  peer max in flight: ${stats.maxInFlight} (limit ${CONCURRENCY}); requests: ${stats.requests}`);
  console.log(
    `  machine load before the run: ${load.toFixed(2)} on ${cpus().length} CPUs${load > cpus().length / 2 ? ' (busy: the ratio is not a quiet-machine figure)' : ''}`
  );
} finally {
  await v.cleanup();
  worker.postMessage('close');
  await new Promise((r) => worker.once('exit', r));
}
