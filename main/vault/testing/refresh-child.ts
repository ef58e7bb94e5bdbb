// Test child (never imported by the app): another Keydesk process storing new OAuth tokens (setExtraSecrets) right
// after a write lock it held is released — while the parent waits for that lock in the middle of an update.
// usage: node main/vault/testing/refresh-child.ts VAULT CREDENTIAL HOLD_MS     prints "locked", then "stored"
import Database from 'better-sqlite3';
import { openApp } from '../../app.ts';

const [vaultPath, ref, holdMs = '1500'] = process.argv.slice(2);
if (!vaultPath || !ref) throw new Error('usage: refresh-child.ts VAULT CREDENTIAL HOLD_MS');
const app = openApp({ vaultPath, actor: 'analyst:test (refresh-child)' });
await app.vault.unlock();
const lock = new Database(vaultPath);
lock.exec('BEGIN IMMEDIATE');
process.stdout.write('locked\n');
await new Promise((r) => setTimeout(r, Number(holdMs)));
// Release and, in the same tick, take the lock again for the refresh: the waiting parent's busy handler is asleep.
lock.exec('ROLLBACK');
app.credentials.setExtraSecrets(ref, { refresh_token: 'rt-2-from-the-other-process' }, { action: 'oauth.refresh' });
lock.close();
process.stdout.write('stored\n');
await app.close();
