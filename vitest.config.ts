import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // Two cores: e2e files start daemons and SIPp; more workers only add noise.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Under CI (a shared 2-core machine running real redis-server, SIPp and daemon processes) a
    // test that fails is run once more; .ci/run lists every test that needed it (FLAKY), so a retry
    // never hides one: each is a bug to fix. Locally a failure is a failure.
    retry: process.env.CI ? 1 : 0,
    reporters: ['default'],
  },
});
