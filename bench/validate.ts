// `validate --all` of 500 Hostinger-protocol credentials (one round trip each) against the loopback Hostinger peer
// with 100 ms latency, at concurrency 8. Prints the wall time as a ratio to the ideal 500 × 0.1 s / 8 (target ≤ 1.15×)
// and the most requests the peer saw in flight at once (must be ≤ 8). Prints; asserts nothing.
import { startHostingerPeer } from '../e2e/peers/hostinger.ts';
import { passphraseVault } from '../main/testing/fixtures.ts';

const COUNT = 500;
const LATENCY_MS = 100;
const CONCURRENCY = 8;

const peer = await startHostingerPeer({ latencyMs: LATENCY_MS });
// A passphrase vault needs no OS keychain, so the benchmark runs anywhere `npm run bench` does.
const v = await passphraseVault('bench-passphrase-0123456789');
try {
  for (let i = 0; i < COUNT; i++) {
    v.app.credentials.add({ name: `vps-${String(i).padStart(3, '0')}`, provider: 'hostinger', mode: 'api_token', values: { api_token: peer.hostinger.addToken(), api_base_url: peer.url } });
  }
  // Warm-up: loads the plugin module once, as the first validation of a session would.
  await v.app.validation.validate('vps-000');
  peer.reset();

  const started = performance.now();
  const run = await v.app.validation.validateAll({ concurrency: CONCURRENCY });
  const seconds = (performance.now() - started) / 1000;
  const ideal = (COUNT * (LATENCY_MS / 1000)) / CONCURRENCY;

  console.log(`validate --all: ${COUNT} hostinger credentials, peer latency ${LATENCY_MS} ms, concurrency ${CONCURRENCY}`);
  console.log(`  results:        ${run.summary.ok} ok, ${run.summary.failed} failed, ${run.summary.expired} expired, ${run.summary.unknown} unknown, ${run.summary.skipped} skipped`);
  console.log(`  wall time:      ${seconds.toFixed(2)} s (ideal ${ideal.toFixed(2)} s = ${COUNT} × ${LATENCY_MS / 1000} s / ${CONCURRENCY})`);
  console.log(`  ratio to ideal: ${(seconds / ideal).toFixed(3)}× (target ≤ 1.15×)`);
  console.log(`  peer max in flight: ${peer.control.maxInFlight} (limit ${CONCURRENCY}); requests: ${peer.control.requests.length}`);
} finally {
  await v.cleanup();
  await peer.close();
}
