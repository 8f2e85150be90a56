import { defineConfig } from 'vitest/config';
import shared from '../../vitest.shared.mts';

/** The report in a real browser (headless Chromium): `npm run test:browser`, run by .ci/run. */
export default defineConfig({
  ...shared,
  test: { ...shared.test, include: ['tests/browser/**/*.browser.ts'], testTimeout: 60_000 },
});
