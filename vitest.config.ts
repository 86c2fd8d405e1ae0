import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // End-to-end tests start controllers and runners as processes; two cores
    // cannot carry many of those at once without timing noise.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
