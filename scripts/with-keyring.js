#!/usr/bin/env node
// Runs a command inside a private D-Bus session with a fresh, unlocked gnome-keyring, so tests use the
// real OS keychain (Secret Service via keytar) without touching the developer's own keyring.
// Usage: node scripts/with-keyring.js <command> [args...]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error('usage: node scripts/with-keyring.js <command> [args...]');
  process.exit(2);
}

const have = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;

if (process.platform !== 'linux') {
  // macOS Keychain and Windows Credential Manager need no session of their own.
  const r = spawnSync(args[0], args.slice(1), { stdio: 'inherit', shell: process.platform === 'win32' });
  process.exit(r.status ?? 1);
}

const missing = ['dbus-run-session', 'gnome-keyring-daemon'].filter((b) => !have(b));
if (missing.length > 0) {
  console.error(
    `with-keyring: ${missing.join(', ')} not found. The keychain tests need a real Secret Service:\n` +
      '  sudo apt-get install -y gnome-keyring dbus-x11 libsecret-tools libsecret-1-dev'
  );
  process.exit(1);
}

const home = mkdtempSync(join(tmpdir(), 'keydesk-keyring-'));
const env = { ...process.env, XDG_DATA_HOME: join(home, 'data'), XDG_RUNTIME_DIR: home, KEYDESK_TEST_KEYRING: '1' };
delete env.DBUS_SESSION_BUS_ADDRESS;
const script = 'printf keydesk-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1 || exit 97; exec "$@"';
const r = spawnSync('dbus-run-session', ['--', 'sh', '-c', script, 'sh', ...args], { stdio: 'inherit', env });
rmSync(home, { recursive: true, force: true });
if (r.status === 97) console.error('with-keyring: gnome-keyring-daemon did not start.');
process.exit(r.status ?? 1);
