import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A real anvil node for the chain tests (test/setup/anvil.ts), started once per run and stopped by pid.
    globalSetup: ['test/setup/anvil.ts'],
  },
});
