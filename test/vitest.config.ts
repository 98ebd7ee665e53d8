import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['./e2e/global-setup.ts'],
    include: ['e2e/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // One stack, shared: files run one after the other.
    fileParallelism: false,
  },
});
