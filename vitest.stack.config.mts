import { defineConfig } from 'vitest/config';

/** Checks on what `sls package` builds: slower (each test file packages the stack), run once. */
export default defineConfig({
  test: {
    include: ['tests/stack/**/*.test.ts'],
    setupFiles: ['./vitest.setup.ts'],
    globalSetup: ['./tests/stack/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
