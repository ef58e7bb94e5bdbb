import { defineConfig } from '@playwright/test';

// The renderer (built by electron-vite) in Debian's Chromium, with window.keydesk from the same createBridge over
// the real IPC handlers and services. `npm run test:e2e` runs this inside scripts/with-keyring.js (keychain vaults).
export default defineConfig({
  testDir: './e2e',
  testMatch: '**/*.spec.ts',
  globalSetup: './e2e/harness/global-setup.ts',
  fullyParallel: false,
  workers: 2,
  forbidOnly: true,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1360, height: 860 },
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run'
      ]
    },
    trace: 'off',
    screenshot: 'off'
  }
});
