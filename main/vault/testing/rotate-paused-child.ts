// Test child (never imported by the app): another Keydesk process rotating the vault key, paused just after it
// wrote the new key to the keychain — holding the vault's write lock, not yet committed — until GO_FILE exists.
// usage: node main/vault/testing/rotate-paused-child.ts VAULT GO_FILE     prints "paused", then "rotated N"
import { existsSync } from 'node:fs';
import { openApp } from '../../app.ts';

const [vaultPath, goFile] = process.argv.slice(2);
if (!vaultPath || !goFile) throw new Error('usage: rotate-paused-child.ts VAULT GO_FILE');
const app = openApp({ vaultPath, actor: 'analyst:test (rotate-paused-child)' });
await app.vault.unlock();
const nap = new Int32Array(new SharedArrayBuffer(4));
const result = await app.vault.rotateKey({
  onStage: (s) => {
    if (s.stage !== 'keychain-written') return;
    process.stdout.write('paused\n');
    // The stage callback is synchronous and runs inside the rotation: wait here, lock held, without an event loop.
    while (!existsSync(goFile)) Atomics.wait(nap, 0, 0, 20);
  }
});
process.stdout.write(`rotated ${result.kekVersion}\n`);
app.vault.close();
