/**
 * One of the "two processes" of the cross-process refresh test: opens the vault (same keychain session), unlocks it,
 * says "ready", waits for "go" on stdin, then asks for the credential's access token (`accessToken`: refreshed when
 * close to expiry) or forces a refresh (`refresh`), and prints a SHA-256 prefix of the access token it ended with —
 * never the token. It says "waiting" when it finds another process holding the credential's refresh lease, so the
 * test can check that the race it forces happened. Test support only.
 *
 *   node e2e/peers/oidc-refresh-child.ts VAULT_PATH CREDENTIAL accessToken|refresh
 */
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { openApp } from '../../main/app.ts';
import { toErrorShape } from '../../main/errors.ts';
import { OAuthService } from '../../main/oauth/service.ts';
import { sleepOn, systemTimers } from '../../main/oauth/flow/timers.ts';

const [vaultPath, credential, op] = process.argv.slice(2);
if (!vaultPath || !credential || (op !== 'accessToken' && op !== 'refresh')) {
  process.stderr.write('usage: oidc-refresh-child.ts VAULT CREDENTIAL accessToken|refresh\n');
  process.exit(2);
}
const app = openApp({ vaultPath, actor: `analyst:child-${process.pid} (test)` });
await app.vault.unlock();
// The service as openApp builds it (app.oauth), except that its wait for a held lease is announced first.
const sleep = sleepOn(systemTimers);
let announced = false;
const oauth = new OAuthService({
  vault: app.vault,
  credentials: app.credentials,
  drivers: app.providers,
  calls: app.calls,
  events: app.vault.events,
  clock: app.vault.clock,
  lease: {
    sleep: (ms) => {
      if (!announced) process.stdout.write('waiting\n');
      announced = true;
      return sleep(ms);
    }
  }
});
process.stdout.write('ready\n');
const rl = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => rl.once('line', () => resolve()));
rl.close();
try {
  if (op === 'refresh') await oauth.refresh(credential);
  const token = (await oauth.accessToken(credential)).reveal();
  process.stdout.write(`${JSON.stringify({ ok: true, sha256: createHash('sha256').update(token).digest('hex').slice(0, 16) })}\n`);
} catch (e) {
  process.stdout.write(`${JSON.stringify({ ok: false, error: toErrorShape(e) })}\n`);
} finally {
  await app.close();
}
