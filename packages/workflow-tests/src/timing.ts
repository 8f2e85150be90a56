import type { AslDefinition, AslState } from '@tradai/local-aws';

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

/**
 * The slowest way through a definition. A cycle runs at most once more: the only loops in our
 * machines are fallbacks whose guard sends the second pass elsewhere (the backtest's on-demand
 * attempt runs RunBacktest again, once). A state already on the path starts that second pass; on
 * the second pass, a state already on its path ends it.
 */
export const worstCasePathSeconds = (definition: AslDefinition): number => {
  const memo = [new Map<string, number>(), new Map<string, number>()];
  const visit = (name: string, pass: 0 | 1, path: Set<string>): number => {
    if (path.has(name)) return pass === 0 ? visit(name, 1, new Set()) : 0;
    const known = memo[pass]?.get(name);
    if (known !== undefined) return known;
    const state = definition.States[name] as AslState;
    const successors = [
      ...(state.Next ? [state.Next] : []),
      ...(state.Default ? [state.Default] : []),
      ...(state.Choices ?? []).map((rule) => String(rule.Next)),
      ...(state.Catch ?? []).map((catcher) => catcher.Next),
    ];
    path.add(name);
    const total =
      worstCaseStateSeconds(state) + Math.max(0, ...successors.map((next) => visit(next, pass, path)));
    path.delete(name);
    memo[pass]?.set(name, total);
    return total;
  };
  return visit(definition.StartAt, 0, new Set());
};

/**
 * What a sweep's variant waits for its backtest execution beyond that execution's own timeout: the
 * child always ends first, through its own Catch, record and notification, and its status reaches
 * the sweep as its own (States.TaskFailed with the child's Status), never as the sweep's timeout.
 */
export const CHILD_END_MARGIN_SECONDS = 300;

/** The variant's timeout the backtest machine's definition calls for. */
export const variantTimeoutSeconds = (backtest: AslDefinition): number =>
  Number(backtest.TimeoutSeconds ?? Number.POSITIVE_INFINITY) + CHILD_END_MARGIN_SECONDS;

/** The sweep's RunVariant task: inside the Distributed Map's batch, inside its inline Map. */
export const sweepVariantState = (sweep: AslDefinition): AslState | undefined => {
  const map = sweep.States.RunVariants as (AslState & { ItemProcessor?: AslDefinition }) | undefined;
  const batch = map?.ItemProcessor?.States.RunBatch as
    | (AslState & { ItemProcessor?: AslDefinition })
    | undefined;
  return batch?.ItemProcessor?.States.RunVariant;
};

/**
 * Why a sweep's variants could be cut off by their own timeout, or none: the backtest machine's
 * slowest path (Spot lost, then on-demand, every retry) must end inside its TimeoutSeconds, and the
 * sweep's RunVariant must wait for that timeout and the margin. A backtest machine whose retries
 * grow past its timeout, or a sweep that waits less, is named here.
 */
export const variantTimeoutIssues = (backtest: AslDefinition, sweep: AslDefinition): string[] => {
  const worst = worstCasePathSeconds(backtest);
  const own = Number(backtest.TimeoutSeconds ?? Number.POSITIVE_INFINITY);
  const variant = Number(sweepVariantState(sweep)?.TimeoutSeconds ?? Number.NaN);
  return [
    ...(worst < own
      ? []
      : [`the backtest machine's slowest path takes ${worst} s, not less than its TimeoutSeconds ${own}`]),
    ...(variant === variantTimeoutSeconds(backtest)
      ? []
      : [
          `RunVariant's TimeoutSeconds is ${variant}; the backtest machine calls for ${variantTimeoutSeconds(backtest)}`,
        ]),
  ];
};
