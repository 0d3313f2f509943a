import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // The emulator tests are CPU-bound; two workers match the 2-core machines CI runs on.
    maxWorkers: 2,
  },
});
