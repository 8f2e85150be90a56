import { describe, expect, it } from 'vitest';
import { runSls } from './package-stack';

/**
 * `sls invoke local` runs the esbuild bundle. A malformed event fails validation before any AWS
 * call, so this needs no credentials and no network, and proves the bundle's error names survive.
 */
describe('sls invoke local', () => {
  it.each([
    ['validateStrategy', 'strategy_name: is required'],
    ['dataCollectionProxy', 'operation: must be one of: check-freshness'],
  ])('runs the bundled %s and reports a ValidationError naming the field', (fn, message) => {
    // Act
    const result = runSls(['invoke', 'local', '-f', fn, '--stage', 'dev', '-d', '{"unexpected": true}']);

    // Assess
    const output = `${result.stdout}\n${result.stderr}`;
    expect(output).toContain('"errorType": "ValidationError"');
    expect(output).toContain(`"errorMessage": "Invalid input: ${message}`);
  });
});
