// Test child: rotates a vault's key, optionally SIGKILLing itself at a named stage of the rotation.
// usage: node main/testing/rotate-child.ts VAULT KILL_AT LOOPS
//   KILL_AT: none | keychain-written | rewrapped:N | before-commit | committed
import { openApp } from '../app.ts';

const [vaultPath, killAt = 'none', loopsArg = '1'] = process.argv.slice(2);
if (!vaultPath) throw new Error('usage: rotate-child.ts VAULT KILL_AT LOOPS');
const app = openApp({ vaultPath, actor: 'analyst:test (rotate-child)' });
const passphrase = () => Promise.resolve(process.env.KEYDESK_PASSPHRASE ?? '');
await app.vault.unlock({ passphrase });
for (let i = 0; i < Number(loopsArg); i++) {
  await app.vault.rotateKey({
    ...(app.vault.meta().key_source === 'passphrase' ? { passphrase } : {}),
    onStage: (s) => {
      const label = s.stage === 'rewrapped' ? `rewrapped:${s.done}` : s.stage;
      if (label === killAt) process.kill(process.pid, 'SIGKILL');
    }
  });
  process.stdout.write(`rotated ${app.vault.meta().kek_version}\n`);
}
app.vault.close();
