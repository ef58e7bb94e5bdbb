import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['main/**/*.test.ts', 'preload/**/*.test.ts', 'e2e/peers/**/*.test.ts', 'scripts/**/*.test.ts'],
    allowOnly: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Tests that need the OS keychain run inside the private D-Bus session scripts/with-keyring.js provides.
    env: { KEYDESK_TEST: '1' }
  }
});
