import type * as z from 'zod/mini';
import { ConfigurationError } from './errors';
import { check, describeIssues, type Schema } from './validation';

/**
 * Reads the function's environment through a schema. A missing or malformed variable is a
 * deployment mistake, so it raises `ConfigurationError` naming the variable (fail fast).
 */
export const readEnvironment = <S extends Schema>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> => {
  const result = check(schema, env);
  if (result.ok) return result.data;
  throw new ConfigurationError(`Invalid function environment: ${describeIssues(result.issues)}`);
};
