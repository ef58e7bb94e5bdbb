import type { KeydeskApp } from '../../main/app.ts';
import { containsAnyEncoding, vaultFilesBytes } from '../../main/testing/fixtures.ts';

/**
 * Canary support for provider tests (test support only): records the events a run emits, then lists every surface a
 * validation result reaches — the returned result, the stored credentials, the audit log, the events, the vault
 * files on disk — and reports the first place a secret (in any of its encodings) shows up.
 */

export interface LeakWatch {
  /** Stops recording events and returns `[surface, text]` pairs to search. */
  surfaces(result: unknown): [string, string | Buffer][];
}

export function watchForLeaks(app: KeydeskApp): LeakWatch {
  const events: unknown[] = [];
  const offs = [
    app.vault.events.on('validation.progress', (p) => events.push(p)),
    app.vault.events.on('vault.changed', (p) => events.push(p))
  ];
  return {
    surfaces(result) {
      for (const off of offs) off();
      return [
        ['validation result', JSON.stringify(result)],
        ['stored credentials', JSON.stringify(app.credentials.list())],
        ['audit log', JSON.stringify([...app.audit.export()])],
        ['events', JSON.stringify(events)],
        ['vault files', vaultFilesBytes(app.config.vaultPath)]
      ];
    }
  };
}

/** The first `surface: encoding` where any of `secrets` appears, or null. */
export function findLeak(surfaces: [string, string | Buffer][], secrets: readonly string[]): string | null {
  for (const [what, text] of surfaces) {
    for (const s of secrets) {
      const hit = containsAnyEncoding(text, s);
      if (hit) return `${what}: ${hit.slice(0, 24)}…`;
    }
  }
  return null;
}

/** The base64 lines of a PEM body: any of them in an output means the key leaked. */
export function pemLines(pem: string): string[] {
  return pem
    .split(/\r?\n/)
    .filter((l) => l && !l.startsWith('-----'))
    .map((l) => l.trim())
    .filter((l) => l.length >= 32);
}
