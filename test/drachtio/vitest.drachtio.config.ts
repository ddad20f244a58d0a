import { defineConfig } from 'vitest/config';

/**
 * The drachtio integration suite, `npm run test:drachtio`: every test/drachtio/*.drachtio.ts file runs
 * against one real drachtio-server, started by global-setup.ts from a binary, or the one that
 * RINGPROOF_TEST_DRACHTIO=host:port[:secret] names. The files end in .drachtio.ts so the default run
 * (test/**\/*.test.ts) never picks them up.
 */
export default defineConfig({
  test: {
    include: ['test/drachtio/**/*.drachtio.ts'],
    globalSetup: ['test/drachtio/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // As in vitest.config.ts: one retry under CI, and .ci/run lists each test that needed it.
    retry: process.env.CI ? 1 : 0,
    reporters: ['default'],
  },
});
