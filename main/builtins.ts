import type * as Crypto from 'node:crypto';
import type * as Fs from 'node:fs';
import type * as Util from 'node:util';

/**
 * Node built-ins whose ES module import costs more than most commands use. `import … from 'node:fs'` builds a facade
 * that evaluates every lazy getter of the module (fs.promises, its streams and readline; util's diff and worker
 * machinery), and node:crypto alone loads some 10 ms of modules that `keydesk list`, `show` or `status` never call.
 * Main takes these from here, at the first call that needs them (process.getBuiltinModule loads a built-in
 * synchronously, as the CommonJS object, without a facade); the lint refuses a value import of them elsewhere.
 */
let crypto: typeof Crypto | undefined;
export function nodeCrypto(): typeof Crypto {
  return (crypto ??= process.getBuiltinModule('node:crypto'));
}

/** A random UUID (v4), for new row ids. */
export function newId(): string {
  return nodeCrypto().randomUUID();
}

let fs: typeof Fs | undefined;
export function nodeFs(): typeof Fs {
  return (fs ??= process.getBuiltinModule('node:fs'));
}

let util: typeof Util | undefined;
export function nodeUtil(): typeof Util {
  return (util ??= process.getBuiltinModule('node:util'));
}
