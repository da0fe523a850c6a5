import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // One MongoDB stand-in for the whole run; each test file gets its own database.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
