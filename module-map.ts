// The module map of main/: what each module (a folder, or a top-level file) may import. eslint.config.js turns it
// into import-x/no-restricted-paths zones, and docs/ARCHITECTURE.md shows the same table (a test keeps them equal):
// change both or neither.

/**
 * One module: `paths` are globs relative to the repository root; `mayImport` names other modules (or parts of them).
 * Every module may import itself, the kernel and preload/ (the contract's error codes and types).
 */
export interface ModuleEntry {
  name: string;
  paths: string[];
  mayImport: string[];
  role: string;
}

export const MODULES: ModuleEntry[] = [
  {
    name: 'kernel',
    paths: ['main/builtins.ts', 'main/clock.ts', 'main/errors.ts', 'main/events.ts', 'main/external.ts', 'main/paths.ts', 'main/text.ts'],
    mayImport: [],
    role: 'lazily loaded built-ins, the clock, the one error type, the event bus, the one checked openExternal, default paths, text helpers'
  },
  {
    name: 'vault',
    paths: ['main/vault/**'],
    mayImport: [],
    role: 'SQLite, migrations, envelope crypto, key sources, the sealed credential store, the audit chain; knows no provider'
  },
  {
    name: 'providers',
    paths: ['main/providers/**'],
    mayImport: ['vault', 'oauth-generic'],
    role: 'manifests and their registry, field rules, the capability catalogue, the provider-call helper'
  },
  {
    name: 'oauth-generic',
    paths: ['main/oauth/drivers/**', 'main/oauth/flow/**'],
    mayImport: ['vault', 'providers-generic'],
    role: 'the generic OAuth flow pieces: PKCE, the loopback listener, tokens, the driver contract'
  },
  {
    name: 'credentials',
    paths: ['main/credentials/**'],
    mayImport: ['vault', 'providers'],
    role: 'the credentials service: field checks, create/update, validation runs, the credential view'
  },
  {
    name: 'audit',
    paths: ['main/audit/**'],
    mayImport: ['vault'],
    role: 'audit reads, verification, the keychain anchor, the audit entry view'
  },
  {
    name: 'routing',
    paths: ['main/routing/**'],
    mayImport: ['vault', 'providers', 'credentials'],
    role: 'domain bindings (their store), resolution, the binding view'
  },
  {
    name: 'oauth',
    paths: ['main/oauth/*.ts'],
    mayImport: ['vault', 'providers-generic', 'oauth-generic', 'credentials'],
    role: 'sign-in, refresh (with cross-process leases), pasted tokens, revocation; drivers come injected'
  },
  {
    name: 'executions',
    paths: ['main/executions/**'],
    mayImport: ['vault', 'providers', 'credentials', 'routing'],
    role: 'runner, re-auth waits, revert, recovery, queries, their store, the execution and prompt views'
  },
  {
    name: 'core',
    paths: ['main/core.ts'],
    mayImport: ['vault', 'providers', 'credentials', 'audit'],
    role: 'the composition every process needs: vault, providers, credentials, audit (offline inspection opens only this)'
  },
  {
    name: 'app',
    paths: ['main/app.ts'],
    mayImport: ['vault', 'providers', 'credentials', 'audit', 'routing', 'oauth', 'oauth-generic', 'executions', 'core'],
    role: 'the composition root: builds every service from one config'
  },
  {
    name: 'shell',
    paths: ['main/shell/**'],
    mayImport: ['vault', 'providers', 'credentials', 'audit', 'routing', 'oauth', 'oauth-generic', 'executions', 'core', 'app', 'ipc'],
    role: 'the desktop shell’s pure parts: session, window options, CSP, navigation guard, scheduler, auto-lock'
  },
  {
    name: 'ipc',
    paths: ['main/ipc/**'],
    mayImport: ['vault', 'providers', 'credentials', 'audit', 'routing', 'oauth', 'oauth-generic', 'executions', 'core', 'app', 'shell'],
    role: 'one handler module per contract domain, the dispatcher, the sender check'
  },
  {
    name: 'cli',
    paths: ['main/cli/**'],
    mayImport: ['vault', 'providers', 'credentials', 'audit', 'routing', 'oauth', 'oauth-generic', 'executions', 'core', 'app'],
    role: 'the keydesk command line'
  },
  {
    name: 'electron',
    paths: ['main/electron/**', 'main/index.ts'],
    mayImport: [
      'vault',
      'providers',
      'credentials',
      'audit',
      'routing',
      'oauth',
      'oauth-generic',
      'executions',
      'core',
      'app',
      'shell',
      'ipc'
    ],
    role: 'Electron’s entry and its thin adapters (the only code that imports electron)'
  }
];

/**
 * Parts of a module that another may import while the rest is off limits. OAuth may use the providers' shared
 * plumbing (the call helper, the scrubber, field rules, plugin types), never a provider's folder or the registry.
 */
export const PARTS: Record<string, { of: string; paths: string[] }> = {
  'providers-generic': {
    of: 'providers',
    paths: ['main/providers/{answers,call,capabilities,http,manifest,outcome,plugin,scrub,spec,trust}.ts']
  }
};

/** A file path as a glob that matches only it (no-restricted-paths wants a zone's `from` all globs or none). */
function glob(p: string): string {
  return /[*{[]/.test(p) ? p : `${p.slice(0, -1)}[${p.slice(-1)}]`;
}

/**
 * import-x/no-restricted-paths zones: for each module, everything in main/ it may not import. `root` is the
 * repository's absolute path (the rule matches `except` globs against absolute paths).
 */
export function zones(root: string): { target: string[]; from: string[]; except?: string[]; message: string }[] {
  const names = new Set(MODULES.map((m) => m.name));
  for (const m of MODULES) {
    for (const n of m.mayImport) if (!names.has(n) && !(n in PARTS)) throw new Error(`module-map.js: ${m.name} names unknown module ${n}`);
  }
  return MODULES.map((m) => {
    const allowed = new Set(['kernel', m.name, ...m.mayImport]);
    const forbidden = MODULES.filter((x) => !allowed.has(x.name));
    const except = m.mayImport.filter((n) => n in PARTS && forbidden.some((f) => f.name === PARTS[n]!.of)).flatMap((n) => PARTS[n]!.paths);
    return {
      target: m.paths,
      from: forbidden.flatMap((x) => x.paths).map(glob),
      ...(except.length ? { except: except.map((e) => `${root}/${e}`) } : {}),
      message: `${m.name} may import only ${[...allowed].filter((n) => n !== m.name).join(', ')} (docs/ARCHITECTURE.md).`
    };
  });
}
