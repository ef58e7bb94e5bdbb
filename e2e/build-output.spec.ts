// Guards: the Electron app that cannot run here (no Electron binary) is at least assembled right. These read what
// `electron-vite build` wrote (the e2e global setup builds it) and check what would only fail at run time in Electron:
// module formats, the preload and renderer paths main computes, the sandboxed preload's one allowed import, every
// import of the main bundle resolvable in a packaged app, the protocol registered before `ready`, and the CSP <meta>.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { expect, test } from '@playwright/test';
import { RENDERER_CSP_META } from '../main/shell/csp.ts';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'out');
const read = (p: string) => readFileSync(join(OUT, p), 'utf8');
const mainFiles = ['main/index.js', ...readdirSync(join(OUT, 'main/chunks')).map((f) => `main/chunks/${f}`)];

/** Static `import … from "x"`, `export … from "x"` and dynamic `import("x")` specifiers of an ES module. */
function specifiers(code: string): string[] {
  const out = new Set<string>();
  for (const m of code.matchAll(
    /^\s*(?:import|export)\b[^'"]*?\bfrom\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm
  ))
    out.add((m[1] ?? m[2] ?? m[3])!);
  return [...out];
}

test.describe('the built Electron app', () => {
  test('main is an ES module whose every import resolves: its own chunks, Node built-ins, electron, or a production dependency', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      type?: string;
      main?: string;
      dependencies?: Record<string, string>;
    };
    expect(pkg.type).toBe('module');
    expect(pkg.main).toBe('./out/main/index.js');
    const deps = new Set(Object.keys(pkg.dependencies ?? {}));
    const builtins = new Set(builtinModules);
    const problems: string[] = [];
    for (const file of mainFiles) {
      const code = read(file);
      expect(code, `${file} uses require (not defined in an ES module)`).not.toMatch(/(^|[^.\w])require\(/m);
      for (const s of specifiers(code)) {
        if (s.startsWith('.')) {
          if (!existsSync(resolve(join(OUT, file), '..', s))) problems.push(`${file}: ${s} does not exist`);
        } else if (!(
          s === 'electron' ||
          s.startsWith('node:') ||
          builtins.has(s) ||
          deps.has(s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!)
        )) {
          problems.push(`${file}: ${s} is not a production dependency (a packaged app would not have it)`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  test('paths main computes from import.meta.dirname point at the built preload and renderer', () => {
    const index = read('main/index.js');
    // Only the entry uses import.meta.dirname: in a chunk (out/main/chunks) the relative paths would be one level off.
    for (const chunk of mainFiles.slice(1)) expect(read(chunk), chunk).not.toContain('import.meta.dirname');
    const joined = [...index.matchAll(/join\(import\.meta\.dirname,\s*"([^"]+)"\)/g)].map((m) => m[1]!);
    expect(joined.sort()).toEqual(['../preload/index.cjs', '../renderer']);
    expect(existsSync(resolve(OUT, 'main', '../preload/index.cjs'))).toBe(true);
    expect(existsSync(resolve(OUT, 'main', '../renderer', 'index.html'))).toBe(true);
  });

  test('the preload is CommonJS and requires nothing but electron (a sandboxed preload can require nothing else)', () => {
    const preload = read('preload/index.cjs');
    const required = [...preload.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
    expect(required).toEqual(['electron']);
    expect(preload).not.toMatch(/^\s*(import|export)\s/m);
    expect(preload).not.toContain('import.meta');
    expect(preload).toContain('exposeInMainWorld("keydesk"');
    expect(preload).not.toMatch(/exposeInMainWorld\((?!"keydesk")/);
  });

  test('the app:// scheme is registered as privileged at load, before the window waits for ready', () => {
    const index = read('main/index.js');
    const register = index.indexOf('protocol.registerSchemesAsPrivileged(');
    const defined = index.lastIndexOf('function registerAppScheme(', register);
    const called = index.indexOf('registerAppScheme();');
    const ready = index.indexOf('app.whenReady()');
    expect(register).toBeGreaterThan(-1);
    expect(defined).toBeGreaterThan(-1);
    expect(called).toBeGreaterThan(-1);
    expect(called).toBeLessThan(ready);
    // The call is at the module's top level (not inside the ready callback), and userData is set before the lock.
    expect(index.lastIndexOf('app.whenReady()', called)).toBe(-1);
    expect(index.indexOf('app.setPath("userData"')).toBeLessThan(index.indexOf('app.requestSingleInstanceLock()'));
  });

  test('the renderer page carries the CSP <meta> of main/shell/csp.ts and runs no inline script', () => {
    const html = read('renderer/index.html');
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html);
    expect(meta?.[1]).toBe(RENDERER_CSP_META);
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(body!.trim(), 'inline script').toBe('');
      expect(attrs).toMatch(/src="\.\/assets\/[^"]+\.js"/);
    }
  });
});
