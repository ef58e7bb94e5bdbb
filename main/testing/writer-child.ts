// Test child: adds N credentials named PREFIX-i to a vault, one audited write each.
// usage: node main/testing/writer-child.ts VAULT PREFIX N
// Prints "ready" once unlocked and starts writing when a line arrives on stdin, so several writers contend.
import { createInterface } from 'node:readline';
import { openApp } from '../app.ts';

const [vaultPath, prefix = 'w', nArg = '10'] = process.argv.slice(2);
if (!vaultPath) throw new Error('usage: writer-child.ts VAULT PREFIX N');
const app = openApp({ vaultPath, actor: `analyst:${prefix} (writer-child)` });
await app.vault.unlock();
process.stdout.write('ready\n');
const rl = createInterface({ input: process.stdin });
await new Promise((r) => rl.once('line', r));
rl.close();
for (let i = 0; i < Number(nArg); i++) {
  app.credentials.add({
    name: `${prefix}-${i}`,
    provider: 'hostinger',
    mode: 'api_token',
    values: { api_token: `${prefix}_token_${i}_0123456789` }
  });
  // Yield between writes, as real clients do; back-to-back writers starve each other in SQLite's busy handler.
  await new Promise((r) => setTimeout(r, 1));
}
await app.close();
