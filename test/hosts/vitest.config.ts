import { defineConfig } from 'vitest/config';

// The several-hosts test (npm run test:hosts, part of npm run test:scale): its own system, in network namespaces.
export default defineConfig({
  test: {
    include: ['hosts/**/*.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
