import type { AslDefinition, AslState } from '@tradai/local-aws';
import { RESULT_EXAMPLES } from './result-shapes';

/**
 * A static proof that no JSONPath a state reads can be missing (which would end the execution
 * with States.Runtime, uncatchable): every state's input is described by the keys present on
 * EVERY way into it (intersection over predecessors), and each path the state reads is checked
 * against that description.
 *
 * Shapes: `value` (present, contents unknown), `object` (these keys are always present),
 * `tuple` (a Parallel result). Catch outputs carry `Error` only: `Cause` may be absent on AWS.
 */
export type Shape =
  | { kind: 'value' }
  | { kind: 'object'; fields: Record<string, Shape> }
  | { kind: 'tuple'; items: Shape[] };

export interface PathProblem {
  state: string;
  field: string;
  path: string;
  reason: string;
}

const VALUE: Shape = { kind: 'value' };
const ERROR_OUTPUT: Shape = { kind: 'object', fields: { Error: VALUE } };

/** Context object paths Step Functions always provides. */
const CONTEXT_PATHS = new Set([
  '$$.Execution.Id',
  '$$.Execution.Name',
  '$$.Execution.Input',
  '$$.Execution.StartTime',
  '$$.Execution.RoleArn',
  '$$.State.EnteredTime',
  '$$.State.Name',
  '$$.State.RetryCount',
  '$$.StateMachine.Id',
  '$$.StateMachine.Name',
]);

export const shapeOf = (example: unknown): Shape => {
  if (Array.isArray(example)) return VALUE;
  if (example !== null && typeof example === 'object') {
    return {
      kind: 'object',
      fields: Object.fromEntries(Object.entries(example).map(([k, v]) => [k, shapeOf(v)])),
    };
  }
  return VALUE;
};

/** The keys present in both: what is guaranteed whichever way a state was reached. */
export const intersect = (a: Shape, b: Shape): Shape => {
  if (a.kind === 'object' && b.kind === 'object') {
    const fields: Record<string, Shape> = {};
    for (const [key, shape] of Object.entries(a.fields)) {
      const other = b.fields[key];
      if (other) fields[key] = intersect(shape, other);
    }
    return { kind: 'object', fields };
  }
  if (a.kind === 'tuple' && b.kind === 'tuple' && a.items.length === b.items.length) {
    return { kind: 'tuple', items: a.items.map((item, i) => intersect(item, b.items[i] as Shape)) };
  }
  return VALUE;
};

const segments = (path: string): (string | number)[] => {
  const parts: (string | number)[] = [];
  for (const match of path.slice(1).matchAll(/\.([A-Za-z0-9_-]+)|\[(\d+)\]/g)) {
    parts.push(match[1] !== undefined ? match[1] : Number(match[2]));
  }
  return parts;
};

/** The shape at `path`, or undefined when the path may be missing. */
export const resolve = (shape: Shape, path: string): Shape | undefined => {
  if (path === '$') return shape;
  let current: Shape | undefined = shape;
  for (const part of segments(path)) {
    if (current?.kind === 'object' && typeof part === 'string') current = current.fields[part];
    else if (current?.kind === 'tuple' && typeof part === 'number') current = current.items[part];
    else return undefined;
  }
  return current;
};

const assign = (shape: Shape, path: string, value: Shape): Shape => {
  if (path === '$') return value;
  const [head, ...rest] = segments(path);
  const base = shape.kind === 'object' ? shape : { kind: 'object' as const, fields: {} };
  const key = String(head);
  const child =
    rest.length === 0
      ? value
      : assign(base.fields[key] ?? { kind: 'object', fields: {} }, `$.${rest.join('.')}`, value);
  return { kind: 'object', fields: { ...base.fields, [key]: child } };
};

/** `shape` with `path` known to be present (a Choice rule routed the absent case elsewhere). */
export const ensure = (shape: Shape, path: string): Shape => {
  const [head, ...rest] = segments(path);
  if (head === undefined) return shape;
  const restPath = `$${rest.map((part) => (typeof part === 'number' ? `[${part}]` : `.${part}`)).join('')}`;
  if (typeof head === 'number') {
    const items = shape.kind === 'tuple' ? [...shape.items] : [];
    while (items.length <= head) items.push(rest.length === 0 ? VALUE : { kind: 'object', fields: {} });
    items[head] = rest.length === 0 ? (items[head] as Shape) : ensure(items[head] as Shape, restPath);
    return { kind: 'tuple', items };
  }
  const fields = shape.kind === 'object' ? { ...shape.fields } : {};
  const child = fields[head] ?? (rest.length === 0 ? VALUE : { kind: 'object' as const, fields: {} });
  fields[head] = rest.length === 0 ? child : ensure(child, restPath);
  return { kind: 'object', fields };
};

/** Every `$.x` / `$$.x` reference inside a path or an intrinsic function call. */
const referencesIn = (expression: string): string[] =>
  [...expression.matchAll(/\${1,2}(?:\.[A-Za-z0-9_-]+|\[\d+\])*/g)].map((m) => m[0]);

class Checker {
  readonly problems: PathProblem[] = [];

  constructor(private readonly results: Record<string, unknown>) {}

  read(state: string, field: string, expression: string, input: Shape) {
    for (const path of referencesIn(expression)) {
      if (path.startsWith('$$')) {
        if (!CONTEXT_PATHS.has(path))
          this.problems.push({ state, field, path, reason: 'not a context path Step Functions provides' });
      } else if (!resolve(input, path)) {
        this.problems.push({ state, field, path, reason: 'may be missing on some way into this state' });
      }
    }
  }

  /** The shape a Parameters / ResultSelector template produces, checking each path it reads. */
  template(state: string, field: string, template: unknown, input: Shape): Shape {
    if (template === null || typeof template !== 'object' || Array.isArray(template)) {
      if (Array.isArray(template))
        template.forEach((item, i) => {
          this.template(state, `${field}[${i}]`, item, input);
        });
      return VALUE;
    }
    const fields: Record<string, Shape> = {};
    for (const [key, value] of Object.entries(template)) {
      if (key.endsWith('.$') && typeof value === 'string') {
        this.read(state, `${field}.${key}`, value, input);
        const direct = /^\$(\.[A-Za-z0-9_-]+|\[\d+\])*$/.test(value) ? resolve(input, value) : undefined;
        fields[key.slice(0, -2)] = direct ?? VALUE;
      } else {
        fields[key] = this.template(state, `${field}.${key}`, value, input);
      }
    }
    return { kind: 'object', fields };
  }

  resultOf(name: string, state: AslState, effective: Shape): Shape {
    if (state.Type === 'Pass') {
      if ('Parameters' in state) return this.template(name, 'Parameters', state.Parameters, effective);
      if ('Result' in state) return shapeOf(state.Result);
      return effective;
    }
    if (state.Type === 'Task') {
      const example = this.results[String(state.Resource)];
      if (example === undefined) {
        this.problems.push({
          state: name,
          field: 'Resource',
          path: String(state.Resource),
          reason: 'no result shape declared for this resource',
        });
        return VALUE;
      }
      return shapeOf(example);
    }
    return effective;
  }

  choice(name: string, state: AslState, input: Shape) {
    const guarded = new Set<string>();
    (state.Choices ?? []).forEach((rule, i) => {
      this.rule(name, `Choices[${i}]`, rule, input, guarded);
      // A rule that only tests absence routes the absent case away: later rules see those paths present.
      const absence = absenceTests(rule);
      if (absence) for (const path of absence) guarded.add(path);
    });
  }

  rule(name: string, field: string, rule: Record<string, unknown>, input: Shape, guarded: Set<string>) {
    for (const combinator of ['And', 'Or'] as const) {
      const list = rule[combinator];
      if (Array.isArray(list))
        list.forEach((r, i) => {
          this.rule(name, `${field}.${combinator}[${i}]`, r, input, guarded);
        });
    }
    if (rule.Not && typeof rule.Not === 'object')
      this.rule(name, `${field}.Not`, rule.Not as Record<string, unknown>, input, guarded);
    if (typeof rule.Variable === 'string' && !('IsPresent' in rule) && !guarded.has(rule.Variable)) {
      this.read(name, `${field}.Variable`, rule.Variable, input);
    }
    for (const [key, value] of Object.entries(rule)) {
      if (key.endsWith('Path') && typeof value === 'string') this.read(name, `${field}.${key}`, value, input);
    }
  }

  /** Output shapes of a definition's terminal states; `inputs` receives each state's input shape. */
  analyse(definition: AslDefinition, start: Shape, inputs = new Map<string, Shape>()): Shape | undefined {
    const pending: [string, Shape][] = [[definition.StartAt, start]];
    let end: Shape | undefined;
    const seen = new Map<string, number>();
    while (pending.length > 0) {
      const [name, incoming] = pending.shift() as [string, Shape];
      const previous = inputs.get(name);
      const merged = previous ? intersect(previous, incoming) : incoming;
      if (previous && JSON.stringify(previous) === JSON.stringify(merged)) continue;
      if ((seen.get(name) ?? 0) > 50) throw new Error(`Path check does not converge at ${name}`);
      seen.set(name, (seen.get(name) ?? 0) + 1);
      inputs.set(name, merged);
      const state = definition.States[name];
      if (!state) {
        this.problems.push({ state: name, field: 'Next', path: name, reason: 'no such state' });
        continue;
      }
      const out = this.step(name, state, merged);
      for (const [next, shape] of out.next) pending.push([next, shape]);
      if (out.end) end = end ? intersect(end, out.end) : out.end;
    }
    return end;
  }

  step(name: string, state: AslState, input: Shape): { next: [string, Shape][]; end?: Shape } {
    if (state.Type === 'Choice') {
      this.choice(name, state, input);
      // Past a rule that routes the absent case away, the tested paths are present.
      let narrowed = input;
      const next: [string, Shape][] = [];
      for (const rule of state.Choices ?? []) {
        next.push([String(rule.Next), narrowed]);
        for (const path of absenceTests(rule) ?? []) narrowed = ensure(narrowed, path);
      }
      if (state.Default) next.push([state.Default, narrowed]);
      return { next };
    }
    if (state.Type === 'Fail') {
      for (const field of ['ErrorPath', 'CausePath'] as const) {
        if (typeof state[field] === 'string') this.read(name, field, state[field] as string, input);
      }
      return { next: [] };
    }
    if (state.Type === 'Succeed') return { next: [], end: input };

    let effective = input;
    if (typeof state.InputPath === 'string') {
      this.read(name, 'InputPath', state.InputPath, input);
      effective = resolve(input, state.InputPath) ?? VALUE;
    }
    let result: Shape;
    if (state.Type === 'Parallel') {
      const branchInput =
        'Parameters' in state ? this.template(name, 'Parameters', state.Parameters, effective) : effective;
      result = {
        kind: 'tuple',
        items: (state.Branches ?? []).map((branch) => this.analyse(branch, branchInput) ?? VALUE),
      };
    } else {
      if (state.Type === 'Task' && 'Parameters' in state)
        this.template(name, 'Parameters', state.Parameters, effective);
      result = this.resultOf(name, state, effective);
    }
    if ('ResultSelector' in state)
      result = this.template(name, 'ResultSelector', state.ResultSelector, result);

    const place = (path: unknown, value: Shape): Shape =>
      path === null ? input : path === undefined || path === '$' ? value : assign(input, String(path), value);
    let output = place(state.ResultPath, result);
    if (typeof state.OutputPath === 'string') {
      this.read(name, 'OutputPath', state.OutputPath, output);
      output = resolve(output, state.OutputPath) ?? VALUE;
    }
    const next: [string, Shape][] = [];
    for (const catcher of state.Catch ?? [])
      next.push([catcher.Next, place(catcher.ResultPath, ERROR_OUTPUT)]);
    if (state.Next) next.push([state.Next, output]);
    return { next, ...(state.End ? { end: output } : {}) };
  }
}

/** The paths a rule tests for absence, when absence is all it tests (e.g. Or of Not IsPresent). */
const absenceTests = (rule: Record<string, unknown>): string[] | undefined => {
  if (rule.Not && typeof rule.Not === 'object') {
    const inner = rule.Not as Record<string, unknown>;
    return inner.IsPresent === true && typeof inner.Variable === 'string' ? [inner.Variable] : undefined;
  }
  if (rule.IsPresent === false && typeof rule.Variable === 'string') return [rule.Variable];
  if (Array.isArray(rule.Or)) {
    const all = rule.Or.map((r) => absenceTests(r as Record<string, unknown>));
    return all.every(Boolean) ? (all.flat() as string[]) : undefined;
  }
  return undefined;
};

/**
 * Checks every JSONPath of `definition`, whose input is `input` (a shape, or an example value).
 * Returns the problems; an empty list is the proof.
 */
export const checkPaths = (
  definition: AslDefinition,
  input: unknown = {},
  results: Record<string, unknown> = RESULT_EXAMPLES,
): { problems: PathProblem[]; inputs: Map<string, Shape> } => {
  const checker = new Checker(results);
  const inputs = new Map<string, Shape>();
  checker.analyse(definition, shapeOf(input), inputs);
  return { problems: checker.problems, inputs };
};
