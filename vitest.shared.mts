import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** Settings every package's unit tests share: quiet Powertools, SDK matchers, no stray AWS config. */
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    setupFiles: [fileURLToPath(new URL('./vitest.setup.ts', import.meta.url))],
    restoreMocks: true,
    // `npm test` runs every package's suite at once (turbo): on a 2-core machine a property test with
    // 1,500 cases can take several seconds of wall time while doing well under one of CPU.
    testTimeout: 30_000,
    unstubEnvs: true,
    env: {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    },
  },
});
