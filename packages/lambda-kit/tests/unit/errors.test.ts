import { describe, expect, it } from 'vitest';
import * as kit from '../../src';
import {
  ConfigurationError,
  DataStaleError,
  ErrorNames,
  FAIL_FAST_ERRORS,
  RETRYABLE_LAMBDA_ERRORS,
  TransientAwsError,
  ValidationError,
} from '../../src';

describe('domain errors', () => {
  it.each([
    [new ValidationError('bad'), 'ValidationError'],
    [new DataStaleError('old'), 'DataStaleError'],
    [new ConfigurationError('unset'), 'ConfigurationError'],
    [new TransientAwsError('slow down'), 'TransientAwsError'],
  ])('carries the explicit name %s matches in Step Functions', (error, name) => {
    // Assess
    expect(error.name).toBe(name);
    expect(error.constructor.name).toBe(name);
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toMatch(new RegExp(`^${name}: `));
  });

  it.each(Object.values(ErrorNames))('exports a class for every name the machines match: %s', (name) => {
    // Act
    const ErrorClass = (kit as unknown as Record<string, new (message: string) => Error>)[name];
    const error = ErrorClass ? new ErrorClass('why') : undefined;

    // Assess
    expect(error).toBeInstanceOf(ErrorClass);
    expect(error?.name).toBe(name);
    expect(error?.constructor.name).toBe(name);
    expect(error?.message).toBe('why');
  });

  it('keeps the field issues of a validation error', () => {
    // Act
    const error = new ValidationError('Invalid input', [{ field: 'run_id', message: 'is required' }]);

    // Assess
    expect(error.issues).toEqual([{ field: 'run_id', message: 'is required' }]);
  });

  it('never lists a business error as retryable', () => {
    // Assess
    expect(FAIL_FAST_ERRORS.filter((name) => RETRYABLE_LAMBDA_ERRORS.includes(name))).toEqual([]);
    expect(RETRYABLE_LAMBDA_ERRORS).toContain(ErrorNames.transientAws);
  });
});
