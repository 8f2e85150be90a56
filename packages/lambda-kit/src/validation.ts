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

/** An unknown key is named as a field of its own, so the message says which key to drop. */
const fieldIssues = (issues: readonly z.core.$ZodIssue[]): FieldIssue[] =>
  issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          field: formatPath([...issue.path, key]),
          message: issue.message.startsWith('Unrecognized key') ? 'is not allowed' : issue.message,
        }))
      : [{ field: formatPath(issue.path), message: issue.message }],
  );

export const describeIssues = (issues: readonly FieldIssue[]): string => {
  const listed = issues
    .slice(0, MAX_LISTED_ISSUES)
    .map((issue) => `${issue.field}: ${issue.message}`)
    .join('; ');
  const more = issues.length > MAX_LISTED_ISSUES ? ` (and ${issues.length - MAX_LISTED_ISSUES} more)` : '';
  return `${listed}${more}`;
};

/** Deeper input is refused before any schema walks it: thousands of levels overflow the stack. */
export const MAX_INPUT_DEPTH = 32;

/** The path to the first value nested deeper than `limit`, found without recursion; or undefined. */
interface Frame {
  value: object;
  depth: number;
  key: PropertyKey | undefined;
  parent: Frame | undefined;
}
const pathTooDeep = (value: unknown, limit: number): PropertyKey[] | undefined => {
  if (typeof value !== 'object' || value === null) return undefined;
  // Depth first, objects only, each frame linked to its parent: the path is built only when found
  // (every input of every handler goes through here; a path per node cost 40 % of a sweep's bytes).
  const pending: Frame[] = [{ value, depth: 0, key: undefined, parent: undefined }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (next.depth >= limit) {
      const path: PropertyKey[] = [];
      for (let frame: Frame | undefined = next; frame?.parent; frame = frame.parent)
        path.push(frame.key as PropertyKey);
      return path.reverse();
    }
    const isList = Array.isArray(next.value);
    for (const [key, child] of Object.entries(next.value))
      if (typeof child === 'object' && child !== null)
        pending.push({ value: child, depth: next.depth + 1, key: isList ? Number(key) : key, parent: next });
  }
  return undefined;
};

/** Parses `value` with `schema`, or returns the field issues. */
export const check = <S extends Schema>(
  schema: S,
  value: unknown,
): { ok: true; data: z.output<S> } | { ok: false; issues: FieldIssue[] } => {
  const deep = pathTooDeep(value, MAX_INPUT_DEPTH);
  if (deep) {
    return {
      ok: false,
      issues: [
        { field: formatPath(deep.slice(0, 3)), message: `must nest at most ${MAX_INPUT_DEPTH} levels` },
      ],
    };
  }
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

/** JSON with sorted keys: the same request sent twice compares equal whatever its key order. */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
