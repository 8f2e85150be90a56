import type { AslDefinition, AslState } from './machines';

/**
 * An AWS API error (`ECS.*`, `DynamoDB.*`, `SQS.*`, `StepFunctions.*`) fails the call that starts or
 * records the work, not the work itself: an attempt that ends in one costs at most this long.
 */
const API_CALL_SECONDS = 60;
const isApiError = (error: string) => /^(ECS|DynamoDB|SQS|StepFunctions)\./.test(error);

/**
 * Seconds a state can take at worst: the last attempt times out, every earlier attempt fails as
 * late as it can (its timeout, or an API call's length for API errors), every retry waits its
 * longest (jitter only shortens waits).
 */
export const worstCaseStateSeconds = (state: AslState): number => {
  if (state.Type === 'Parallel') return Math.max(0, ...(state.Branches ?? []).map(worstCasePathSeconds));
  if (state.Type !== 'Task') return 0;
  const timeout = Number(state.TimeoutSeconds ?? Number.POSITIVE_INFINITY);
  let total = timeout;
  for (const retrier of state.Retry ?? []) {
    const max = retrier.MaxAttempts ?? 3;
    const failedAttempt = retrier.ErrorEquals.every(isApiError)
      ? Math.min(timeout, API_CALL_SECONDS)
      : timeout;
    for (let k = 0; k < max; k++)
      total += failedAttempt + (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** k;
  }
  return total;
};

/** The slowest way through a definition (its graph has no cycles). */
export const worstCasePathSeconds = (definition: AslDefinition): number => {
  const memo = new Map<string, number>();
  const visit = (name: string, depth: number): number => {
    if (depth > 200) throw new Error(`${name}: the definition has a cycle`);
    const known = memo.get(name);
    if (known !== undefined) return known;
    const state = definition.States[name] as AslState;
    const successors = [
      ...(state.Next ? [state.Next] : []),
      ...(state.Default ? [state.Default] : []),
      ...(state.Choices ?? []).map((rule) => String(rule.Next)),
      ...(state.Catch ?? []).map((catcher) => catcher.Next),
    ];
    const total =
      worstCaseStateSeconds(state) + Math.max(0, ...successors.map((next) => visit(next, depth + 1)));
    memo.set(name, total);
    return total;
  };
  return visit(definition.StartAt, 0);
};
