// One `isolate` run on an EC2 instance (two interfaces, cut connections on), end to end through the executions
// service, against the loopback STS and EC2 peers with 50 ms latency per call. Keydesk's own overhead is the run's wall
// time against the sum of the provider's answer times for the calls it made (measured by the peers in the same run):
// target ≤ 1.2×. Prints the calls made and the ratio; asserts nothing.
// The peers run in their own thread (bench/_aws-peers.ts), as real providers run outside Keydesk's process.
import { cpus, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { passphraseVault } from '../main/testing/fixtures.ts';

const LATENCY_MS = 50;
const RUNS = 10;

const worker = new Worker(new URL('./_aws-peers.ts', import.meta.url), { workerData: { latencyMs: LATENCY_MS } });
const ask = <T>(m: unknown): Promise<T> =>
  new Promise((resolve) => {
    worker.once('message', (r: T) => resolve(r));
    worker.postMessage(m);
  });
interface Setup {
  sts: string;
  ec2: string;
  accessKeyId: string;
  secretAccessKey: string;
  instanceIds: string[];
}
interface Call {
  peer: string;
  action: string;
  ms: number;
}
const peers = await ask<Setup>({ hosts: RUNS + 1 });
const v = await passphraseVault('bench-passphrase-0123456789');
try {
  v.app.credentials.add({
    name: 'aws',
    provider: 'aws',
    mode: 'access_key',
    values: {
      access_key_id: peers.accessKeyId,
      secret_access_key: peers.secretAccessKey,
      region: 'us-east-1',
      sts_endpoint: peers.sts,
      ec2_endpoint: peers.ec2
    }
  });
  const isolate = (target: string) =>
    v.app.executions.run({ capability: 'isolate', target, reason: 'bench', credential: 'aws' }, { cutoffMs: 120_000 });
  // Warm-up: loads the provider modules and the SDK once, as the first run of a session would.
  await isolate(peers.instanceIds[RUNS]!);
  await ask('reset');
  const load = loadavg()[0] ?? 0;

  let wall = 0;
  let provider = 0;
  const actions = new Map<string, number>();
  let calls = 0;
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const run = await isolate(peers.instanceIds[i]!);
    wall += performance.now() - started;
    if (run.status !== 'succeeded') throw new Error(`isolate ended ${run.status}: ${run.error?.code ?? ''}`);
    const stats = await ask<{ calls: Call[] }>('stats');
    await ask('reset');
    calls += stats.calls.length;
    provider += stats.calls.reduce((s, c) => s + c.ms, 0);
    if (i === 0) for (const c of stats.calls) actions.set(c.action, (actions.get(c.action) ?? 0) + 1);
  }

  console.log(`isolate: ${RUNS} runs on EC2 instances with 2 interfaces (cut connections on), peer latency ${LATENCY_MS} ms per call`);
  console.log(`  calls per run:  ${calls / RUNS} (${[...actions].map(([a, n]) => `${a} ×${n}`).join(', ')})`);
  console.log(
    `  wall per run:   ${(wall / RUNS).toFixed(1)} ms; provider time per run ${(provider / RUNS).toFixed(1)} ms (the peers' answer times)`
  );
  console.log(`  ratio:          ${(wall / provider).toFixed(3)}× (target ≤ 1.2×)`);
  console.log(
    `  machine load before the runs: ${load.toFixed(2)} on ${cpus().length} CPUs${load > cpus().length / 2 ? ' (busy: the ratio is not a quiet-machine figure)' : ''}`
  );
} finally {
  await v.cleanup();
  worker.postMessage('close');
  await new Promise((r) => worker.once('exit', r));
}
