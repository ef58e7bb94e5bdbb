#!/usr/bin/env node
// The `keydesk` command. It runs Keydesk's TypeScript directly with Node's built-in type stripping, so it needs
// no build step and runs exactly the code the app and the tests run.
import module from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(`keydesk needs Node.js 22.12 or newer (24 LTS recommended); this is ${process.versions.node}.\n`);
  process.exit(1);
}
if (!process.features.typescript) {
  // Node 22.12–22.17 strip types only behind a flag: run ourselves again with it.
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(
    process.execPath,
    ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit' }
  );
  process.exit(r.status ?? 1);
}

/**
 * Node's compile cache keeps each module's type-stripped and compiled code between runs, which makes a command start
 * several times faster (stripping types on every start costs more than the command). It lives in a folder of the
 * user's own cache directory, created private (0700); a folder that is a symlink, another user's, or writable by
 * others is not used, since whoever can write the cache can change the code the next command runs.
 */
function compileCacheDir() {
  const base =
    process.platform === 'darwin'
      ? join(homedir(), 'Library', 'Caches', 'Keydesk')
      : process.platform === 'win32'
        ? join(process.env.LOCALAPPDATA || join(homedir(), 'AppData', 'Local'), 'Keydesk', 'Cache')
        : join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'keydesk');
  const dir = join(base, 'compile-cache');
  // node:fs as the CommonJS object: an `import` of it builds a facade that loads fs.promises, streams and readline.
  const { lstatSync, mkdirSync } = process.getBuiltinModule('node:fs');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (process.platform === 'win32') return dir;
    const st = lstatSync(dir);
    const uid = process.getuid?.();
    if (st.isSymbolicLink() || !st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0) return null;
    return dir;
  } catch {
    return null;
  }
}

if (!process.env.KEYDESK_NO_COMPILE_CACHE && typeof module.enableCompileCache === 'function') {
  const dir = compileCacheDir();
  if (dir) module.enableCompileCache(dir);
}

const { run } = await import('../main/cli/index.ts');
process.exitCode = await run(process.argv.slice(2));
