import { rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { ESLint } from 'eslint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The lint rules are the module map's enforcement (docs/ARCHITECTURE.md): this proves they refuse what the map
 * forbids — and allow what it allows — by linting fixture files placed where real code would sit, with the
 * project's own eslint.config.js.
 */

const ROOT = resolve(import.meta.dirname, '..');
const made: string[] = [];
let eslint: ESLint;

/** A fixture file at `dir/name` (removed after the tests); `dir` is created inside the tree when it is new. */
function fixture(dir: string, name: string, code: string): string {
  const d = join(ROOT, dir);
  const file = join(d, name);
  writeFileSync(file, code);
  made.push(file);
  return file;
}

async function ruleIds(file: string): Promise<string[]> {
  const [r] = await eslint.lintFiles([file]);
  return (r?.messages ?? []).map((m) => m.ruleId ?? `fatal: ${m.message}`);
}

beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT });
});
afterAll(() => {
  for (const f of made) rmSync(f, { force: true });
});

const TAG = `lintfixture${process.pid}`;

describe('the lint config enforces the module map', () => {
  it('refuses a provider import in the vault (the vault knows no provider)', async () => {
    const f = fixture(
      'main/vault',
      `${TAG}-a.ts`,
      "import { defaultRegistry } from '../providers/registry.ts';\nexport const ids = defaultRegistry.ids();\n"
    );
    expect(await ruleIds(f)).toContain('import-x/no-restricted-paths');
  });

  it('refuses execution and OAuth code in the vault, and the services that use them in providers', async () => {
    const vault = fixture(
      'main/vault',
      `${TAG}-b.ts`,
      "import { ExecutionService } from '../executions/service.ts';\nexport const x = ExecutionService;\n"
    );
    const provider = fixture(
      'main/providers/hostinger',
      `${TAG}-c.ts`,
      "import { RoutingService } from '../../routing/service.ts';\nexport const x = RoutingService;\n"
    );
    expect(await ruleIds(vault)).toContain('import-x/no-restricted-paths');
    expect(await ruleIds(provider)).toContain('import-x/no-restricted-paths');
  });

  it('refuses a provider folder or the registry in main/oauth, and allows the shared provider plumbing there', async () => {
    const folder = fixture(
      'main/oauth',
      `${TAG}-d.ts`,
      "import { hostinger } from '../providers/hostinger/index.ts';\nexport const x = hostinger;\n"
    );
    const registry = fixture(
      'main/oauth',
      `${TAG}-e.ts`,
      "import { defaultRegistry } from '../providers/registry.ts';\nexport const x = defaultRegistry;\n"
    );
    const shared = fixture('main/oauth', `${TAG}-f.ts`, "import { openCall } from '../providers/call.ts';\nexport const x = openCall;\n");
    expect(await ruleIds(folder)).toContain('import-x/no-restricted-paths');
    expect(await ruleIds(registry)).toContain('import-x/no-restricted-paths');
    expect(await ruleIds(shared)).not.toContain('import-x/no-restricted-paths');
  });

  it('refuses electron outside main/index.ts and main/electron/', async () => {
    const f = fixture('main/credentials', `${TAG}-g.ts`, "import { app } from 'electron';\nexport const x = app;\n");
    expect(await ruleIds(f)).toContain('@typescript-eslint/no-restricted-imports');
  });

  it('refuses a value import of node:crypto, node:fs or node:util in main (main/builtins.ts hands them out), not a type import', async () => {
    const value = fixture('main/vault', `${TAG}-i.ts`, "import { randomUUID } from 'node:crypto';\nexport const id = randomUUID();\n");
    const type = fixture('main/vault', `${TAG}-j.ts`, "import type { KeyObject } from 'node:crypto';\nexport type K = KeyObject;\n");
    expect(await ruleIds(value)).toContain('@typescript-eslint/no-restricted-imports');
    expect(await ruleIds(type)).toEqual([]);
  });

  it('refuses main/ in the renderer', async () => {
    const f = fixture(
      'renderer/src/components',
      `${TAG}-h.ts`,
      "import { printable } from '../../../main/text.ts';\nexport const x = printable;\n"
    );
    expect(await ruleIds(f)).toContain('no-restricted-imports');
  });

  it('refuses an import cycle', async () => {
    const a = `${TAG}-cycle-a.ts`;
    const b = `${TAG}-cycle-b.ts`;
    const fa = fixture('main/routing', a, `import { b } from './${b}';\nexport const a = (): number => b() + 1;\n`);
    fixture('main/routing', b, `import { a } from './${a}';\nexport const b = (): number => a() - 1;\n`);
    expect(await ruleIds(fa)).toContain('import-x/no-cycle');
  });

  it('lints the fixtures as real files of the tree (the checks above are not vacuous)', async () => {
    const clean = fixture(
      'main/routing',
      `${TAG}-clean.ts`,
      "import { printable } from '../text.ts';\nexport const x = printable('ok');\n"
    );
    expect(await ruleIds(clean)).toEqual([]);
    expect(relative(ROOT, clean)).toBe(`main/routing/${basename(clean)}`);
  });
});
