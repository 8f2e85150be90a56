import { defineConfig } from 'vitest/config';
import shared from '../../vitest.shared.mts';

/**
 * The simulator's tests spawn the shipped bin through npm, as users run it: on a 2-core machine
 * running every package's suite at once (turbo), one spawn can take far longer than its own work.
 */
export default defineConfig({ ...shared, test: { ...shared.test, testTimeout: 120_000 } });
