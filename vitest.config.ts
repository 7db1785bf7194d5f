import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'ui/**/*.test.{ts,tsx}', 'e2e/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Timing-sensitive tests wait on events with generous bounds; two workers keep a 2-core box responsive.
    maxWorkers: 2,
  },
});
