import { defineConfig } from 'vitest/config';

/** Checks on what `sls package` builds: slower (each test file packages the stack), run once. */
export default defineConfig({
  test: {
    include: ['tests/stack/**/*.test.ts'],
    setupFiles: ['./vitest.setup.ts'],
    globalSetup: ['./tests/stack/global-setup.ts'],
    // The alarm-routing test runs the workflow scenarios in-process: quiet Powertools, as in unit tests.
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
