import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The packages are imported by name; tsconfig.json's paths map the names to their sources.
  resolve: { tsconfigPaths: true },
  test: {
    include: ['test/**/*.test.ts'],
    // Two cores: integration files each start their own emulators, so run at most two files at once.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    // Infrastructure files synthesize several stages in beforeAll; with two files at once that can pass a minute.
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
