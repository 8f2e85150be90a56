import { defineConfig } from 'vitest/config';

/**
 * The integration tier (`npm run test:integration`): the packaged stack deployed into moto_server,
 * and the packaged bundles run against it. It needs moto_server (pip install "moto[server]").
 */
export default defineConfig({
  test: {
    include: ['tests/integration/**/*.test.ts'],
    globalSetup: ['./tests/integration/global-setup.ts'],
    // One moto for every file: files run one after another, and each uses names of its own.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
