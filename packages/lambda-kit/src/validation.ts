import * as z from 'zod/mini';
import { type FieldIssue, ValidationError } from './errors';
import './zod-locale';

const MAX_LISTED_ISSUES = 5;

/** Any zod schema (classic or mini). */
export type Schema = z.core.$ZodType;

/** `['symbols', 0, 'x']` -> `symbols[0].x`; the root is `(input)`. */
export const formatPath = (path: readonly PropertyKey[]): string => {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(input)' : out;
};

const fieldIssues = (issues: readonly z.core.$ZodIssue[]): FieldIssue[] =>
  issues.map((issue) => ({ field: formatPath(issue.path), message: issue.message }));

export const describeIssues = (issues: readonly FieldIssue[]): string => {
  const listed = issues
    .slice(0, MAX_LISTED_ISSUES)
    .map((issue) => `${issue.field}: ${issue.message}`)
    .join('; ');
  const more = issues.length > MAX_LISTED_ISSUES ? ` (and ${issues.length - MAX_LISTED_ISSUES} more)` : '';
  return `${listed}${more}`;
};

/** Parses `value` with `schema`, or returns the field issues. */
export const check = <S extends Schema>(
  schema: S,
  value: unknown,
): { ok: true; data: z.output<S> } | { ok: false; issues: FieldIssue[] } => {
  const result = z.safeParse(schema, value);
  return result.success
    ? { ok: true, data: result.data }
    : { ok: false, issues: fieldIssues(result.error.issues) };
};

/** Parses `value` or throws a `ValidationError` whose message names every bad field. */
export const parseOrThrow = <S extends Schema>(schema: S, value: unknown, subject = 'input'): z.output<S> => {
  const result = check(schema, value);
  if (result.ok) return result.data;
  throw new ValidationError(`Invalid ${subject}: ${describeIssues(result.issues)}`, result.issues);
};
