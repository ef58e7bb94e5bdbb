import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';
import { RENDERER_CSP_META } from './main/shell/csp.ts';

// The renderer's CSP <meta> is written at build time from main/shell/csp.ts, the one definition of the policy
// (the app:// protocol and the e2e server send the same policy as a header). The dev server gets its CSP as a header.
const cspMeta: Plugin = {
  name: 'keydesk-csp-meta',
  apply: 'build',
  transformIndexHtml: (html) => html.replace('<!-- csp -->', `<meta http-equiv="Content-Security-Policy" content="${RENDERER_CSP_META}" />`)
};

// main and preload run in Electron's Node; the renderer is a plain web bundle that talks only to window.keydesk.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: { input: { index: resolve(import.meta.dirname, 'main/index.ts') } }
    }
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // A sandboxed preload can require nothing but electron: bundle its dependencies (zod, via the contract).
      externalizeDeps: false,
      // A sandboxed preload cannot be an ES module.
      rollupOptions: {
        input: { index: resolve(import.meta.dirname, 'preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' }
      }
    }
  },
  renderer: {
    root: resolve(import.meta.dirname, 'renderer'),
    build: {
      outDir: resolve(import.meta.dirname, 'out/renderer'),
      rollupOptions: { input: { index: resolve(import.meta.dirname, 'renderer/index.html') } }
    },
    plugins: [react(), cspMeta]
  }
});
