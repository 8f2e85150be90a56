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
  // The variables the schema names, not the whole environment: an object schema strips the rest
  // anyway, and walking every variable on every invocation is what a sweep's thousands pay for.
  const shape = (schema as { _zod?: { def?: { shape?: Record<string, unknown> } } })._zod?.def?.shape;
  const named = shape
    ? Object.fromEntries(Object.keys(shape).flatMap((key) => (key in env ? [[key, env[key]]] : [])))
    : env;
  const result = check(schema, named);
  if (result.ok) return result.data;
  throw new ConfigurationError(`Invalid function environment: ${describeIssues(result.issues)}`);
};
