#!/usr/bin/env node
// The `keydesk` command. It runs Keydesk's TypeScript directly with Node's built-in type stripping, so it needs
// no build step and runs exactly the code the app and the tests run.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(`keydesk needs Node.js 22.12 or newer (24 LTS recommended); this is ${process.versions.node}.\n`);
  process.exit(1);
}
if (!process.features.typescript) {
  // Node 22.12–22.17 strip types only behind a flag: run ourselves again with it.
  const r = spawnSync(
    process.execPath,
    ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit' }
  );
  process.exit(r.status ?? 1);
}
const { run } = await import('../main/cli/index.ts');
process.exitCode = await run(process.argv.slice(2));
