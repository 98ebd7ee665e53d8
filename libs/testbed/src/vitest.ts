import { defineConfig } from 'vitest/config';

/** vitest config shared by every package whose tests use the test bed. */
export function testbedConfig(opts: { testTimeout?: number } = {}) {
  return defineConfig({
    test: {
      globalSetup: [new URL('./global-setup.ts', import.meta.url).pathname],
      testTimeout: opts.testTimeout ?? 60_000,
      hookTimeout: 120_000,
      pool: 'forks',
      include: ['src/**/*.test.ts', 'test/**/*.test.ts', '**/*.test.ts'],
      exclude: ['**/node_modules/**', '**/dist/**'],
    },
  });
}
