// The Hostinger peer of bench/validate.ts, in its own thread: the provider is not in Keydesk's process, so its
// request handling must not be billed to Keydesk's event loop. Messages: {tokens: n} → {url, tokens}; 'reset'; 'stats'
// → {maxInFlight, requests}. Test support only.
import { parentPort, workerData } from 'node:worker_threads';
import { startHostingerPeer } from '../e2e/peers/hostinger.ts';

const peer = await startHostingerPeer({ latencyMs: (workerData as { latencyMs: number }).latencyMs });
parentPort?.on('message', (m: unknown) => {
  if (m && typeof m === 'object' && 'tokens' in m) {
    const tokens = Array.from({ length: Number((m as { tokens: number }).tokens) }, () => peer.hostinger.addToken());
    parentPort?.postMessage({ url: peer.url, tokens });
  } else if (m === 'reset') {
    peer.reset();
    parentPort?.postMessage('reset');
  } else if (m === 'stats') {
    parentPort?.postMessage({ maxInFlight: peer.control.maxInFlight, requests: peer.control.requests.length });
  } else if (m === 'close') {
    void peer.close().then(() => parentPort?.close());
  }
});
