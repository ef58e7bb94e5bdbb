import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'vite';

export const ROOT = resolve(import.meta.dirname, '../..');
export const RENDERER_DIR = join(ROOT, 'out/renderer');
export const BRIDGE_SCRIPT = join(ROOT, 'out/e2e/bridge.js');

/** Builds the renderer exactly as `npm run build` does (electron-vite), then the in-page bridge script. */
export async function buildForE2E(): Promise<void> {
  if (process.env.KEYDESK_E2E_SKIP_BUILD !== '1') {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], {
      cwd: ROOT,
      stdio: 'ignore'
    });
  }
  const out = await build({
    configFile: false,
    logLevel: 'silent',
    build: {
      write: false,
      minify: false,
      lib: { entry: join(ROOT, 'e2e/harness/bridge-entry.ts'), formats: ['iife'], name: 'keydeskE2EBridge' }
    }
  });
  const outputs = (Array.isArray(out) ? out : [out]) as { output: { type: string; code?: string }[] }[];
  const chunk = outputs.flatMap((o) => o.output).find((o) => o.type === 'chunk' && typeof o.code === 'string');
  if (!chunk?.code) throw new Error('bridge bundle produced no code');
  mkdirSync(join(ROOT, 'out/e2e'), { recursive: true });
  writeFileSync(BRIDGE_SCRIPT, chunk.code);
}
