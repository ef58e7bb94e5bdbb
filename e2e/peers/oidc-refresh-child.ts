/**
 * One of the "two processes" of the cross-process refresh test: opens the vault (same keychain session), unlocks it,
 * says "ready", waits for "go" on stdin, then asks for the credential's access token (`accessToken`: refreshed when
 * close to expiry) or forces a refresh (`refresh`), and prints a SHA-256 prefix of the access token it ended with —
 * never the token. Test support only.
 *
 *   node e2e/peers/oidc-refresh-child.ts VAULT_PATH CREDENTIAL accessToken|refresh
 */
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { openApp } from '../../main/app.ts';
import { toErrorShape } from '../../main/errors.ts';

const [vaultPath, credential, op] = process.argv.slice(2);
if (!vaultPath || !credential || (op !== 'accessToken' && op !== 'refresh')) {
  process.stderr.write('usage: oidc-refresh-child.ts VAULT CREDENTIAL accessToken|refresh\n');
  process.exit(2);
}
const app = openApp({ vaultPath, actor: `analyst:child-${process.pid} (test)` });
await app.vault.unlock();
process.stdout.write('ready\n');
const rl = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => rl.once('line', () => resolve()));
rl.close();
try {
  if (op === 'refresh') await app.oauth.refresh(credential);
  const token = (await app.oauth.accessToken(credential)).reveal();
  process.stdout.write(`${JSON.stringify({ ok: true, sha256: createHash('sha256').update(token).digest('hex').slice(0, 16) })}\n`);
} catch (e) {
  process.stdout.write(`${JSON.stringify({ ok: false, error: toErrorShape(e) })}\n`);
} finally {
  await app.close();
}
