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
    ['prepareConfig', 'run_id: is required'],
    ['pinTaskDefinition', 'strategy_name: is required'],
    ['transformResults', 'run_id: is required'],
    ['cleanupResources', 'run_id: is required'],
    ['notifyCompletion', 'workflow: is required'],
    ['validateDataQuality', 'symbols: is required'],
  ])('runs the bundled %s and reports a ValidationError naming the field', (fn, message) => {
    // Act
    const result = runSls(['invoke', 'local', '-f', fn, '--stage', 'dev', '-d', '{"unexpected": true}']);

    // Assess
    const output = `${result.stdout}\n${result.stderr}`;
    expect(output).toContain('"errorType": "ValidationError"');
    expect(output).toContain(`"errorMessage": "Invalid input: ${message}`);
  });

  it('runs the bundled validateBacktestRequest and names every bad field of the request', () => {
    // Act
    const event = JSON.stringify({ request: { run_id: '../x', strategy_name: 'MomentumStrategy' } });
    const result = runSls([
      'invoke',
      'local',
      '-f',
      'validateBacktestRequest',
      '--stage',
      'dev',
      '-d',
      event,
    ]);

    // Assess
    const output = `${result.stdout}\n${result.stderr}`;
    expect(output).toContain('"errorType": "ValidationError"');
    expect(output).toMatch(
      /Invalid backtest request: run_id: must be 1-64 characters[^"]*; strategy_version: is required/,
    );
  });

  it('prints a stack trace that names the TypeScript file and line, from the shipped source map', () => {
    // Act
    const result = runSls(['invoke', 'local', '-f', 'transformResults', '--stage', 'dev', '-d', '{}']);

    // Assess
    const output = `${result.stdout}\n${result.stderr}`;
    expect(output).toContain('"errorType": "ValidationError"');
    expect(output).toMatch(/at \S+ \(\/packages\/lambda-kit\/src\/validation\.ts:\d+:\d+\)/);
  });
});
