import { readFileSync, readdirSync } from 'node:fs';
import { join, matchesGlob, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MODULES, PARTS } from '../module-map.ts';

const ROOT = resolve(import.meta.dirname, '..');

/** The module-map table of docs/ARCHITECTURE.md: one row per module (name, paths, may import, owns). */
function documentedModules(): { name: string; paths: string[]; mayImport: string[]; role: string }[] {
  const doc = readFileSync(join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8');
  const table = /<!-- module-map:start -->([\s\S]*?)<!-- module-map:end -->/.exec(doc)?.[1];
  if (!table) throw new Error('docs/ARCHITECTURE.md has no module-map table');
  const codes = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
  return table
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) => {
      const [name = '', paths = '', may = '', role = ''] = l
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
      return { name: codes(name)[0] ?? '', paths: codes(paths), mayImport: codes(may), role };
    });
}

function productionFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'testing' ? [] : productionFiles(p);
    return /\.ts$/.test(e.name) && !/\.test\.ts$/.test(e.name) ? [relative(ROOT, p)] : [];
  });
}

describe('the module map', () => {
  it('docs/ARCHITECTURE.md shows exactly the map the lint enforces (module-map.js)', () => {
    expect(documentedModules()).toEqual(MODULES.map((m) => ({ name: m.name, paths: m.paths, mayImport: m.mayImport, role: m.role })));
  });

  it('every production file in main/ belongs to exactly one module, so none escapes the rules', () => {
    const files = productionFiles(join(ROOT, 'main'));
    expect(files.length).toBeGreaterThan(50);
    const owners = (f: string) => MODULES.filter((m) => m.paths.some((p) => matchesGlob(f, p))).map((m) => m.name);
    expect(files.filter((f) => owners(f).length !== 1).map((f) => `${f}: ${owners(f).join(', ') || 'no module'}`)).toEqual([]);
  });

  it('names only modules that exist, and parts only of modules that exist', () => {
    const names = new Set(MODULES.map((m) => m.name));
    for (const m of MODULES) for (const n of m.mayImport) expect(names.has(n) || n in PARTS, `${m.name} → ${n}`).toBe(true);
    for (const p of Object.values(PARTS)) expect(names.has(p.of)).toBe(true);
  });
});
