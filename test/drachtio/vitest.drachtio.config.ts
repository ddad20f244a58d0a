import { defineConfig } from 'vitest/config';

/**
 * The drachtio integration suite: `npm run test:drachtio` with RINGPROOF_TEST_DRACHTIO=host:port[:secret].
 * Its files end in .drachtio.ts so the default run (test/**\/*.test.ts) never picks them up.
 */
export default defineConfig({
  test: {
    include: ['test/drachtio/**/*.drachtio.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 30_000,
    reporters: ['default'],
  },
});
