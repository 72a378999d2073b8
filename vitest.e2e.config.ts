// End-to-end tests in real Chromium: `npm run test:e2e`. Each file starts its own host,
// bridges and browser, so files run in parallel (two at a time: two cores).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['test/e2e/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    // A flaky end-to-end test is a bug to fix, not to retry.
    retry: 0,
  },
});
