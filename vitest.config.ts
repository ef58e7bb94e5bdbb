import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// Two projects, one run (`npm run test:unit`): the Node tests of main/, preload/, the peers and the scripts, and the
// renderer's unit tests in a DOM (jsdom). Both inherit the settings below.
export default defineConfig({
  test: {
    allowOnly: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Tests that need the OS keychain run inside the private D-Bus session scripts/with-keyring.js provides.
    env: { KEYDESK_TEST: '1' },
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['main/**/*.test.ts', 'preload/**/*.test.ts', 'e2e/peers/**/*.test.ts', 'scripts/**/*.test.ts']
        }
      },
      {
        extends: true,
        // The same JSX transform as the renderer's build (electron.vite.config.ts).
        plugins: [react()],
        // The tests' Keydesk (renderer/src/testing/keydesk.api.ts says why it has an alias).
        resolve: { alias: { '#keydesk': resolve(import.meta.dirname, 'renderer/src/testing/keydesk.node.ts') } },
        test: {
          name: 'renderer',
          include: ['renderer/src/**/*.test.ts', 'renderer/src/**/*.test.tsx'],
          environment: 'jsdom',
          // What jsdom lacks for our components (<dialog>'s modal methods, layout boxes) and Testing Library's cleanup.
          setupFiles: ['renderer/src/testing/setup.ts']
        }
      }
    ]
  }
});
