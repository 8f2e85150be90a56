/*
 * A parameter sweep: one backtest request, run once per variant of its config_overrides, on the
 * backtest-sweep machine (a Distributed Map of backtest executions). The request names its
 * variants as a `grid` (setting -> values: every combination) or an explicit `variants` list.
 */
import * as z from 'zod/mini';
import {
  type BacktestRequest,
  backtestRequestSchema,
  configOverridesSchema,
  sweepIdSchema,
} from './contracts';

export { sweepIdSchema };

import { ValidationError } from './errors';
import { PARAMETER_SPACES } from './freqtrade';
import { deepMerge } from './merge';
import { canonicalJson, check, describeIssues } from './validation';

/** What a leaderboard may rank by, and which way is better. */
export const RANK_METRICS = {
  sharpe_ratio: 'higher',
  sortino_ratio: 'higher',
  calmar_ratio: 'higher',
  total_return: 'higher',
  profit_factor: 'higher',
  win_rate: 'higher',
  max_drawdown: 'lower',
} as const;
export type RankMetric = keyof typeof RANK_METRICS;

/** The settings a grid may vary: those a run may override, its dates aside. */
const GRID_SETTINGS = Object.keys(
  (configOverridesSchema as unknown as { _zod: { def: { shape: Record<string, unknown> } } })._zod.def.shape,
).filter((key) => key !== 'backtester') as [string, ...string[]];

const overridesObject = z.record(z.string(), z.unknown());

/**
 * A grid key that names one strategy parameter by its path in freqtrade's spaces: `buy.rsi_low`,
 * `roi.30`, `stoploss.stoploss` (./freqtrade.ts). Its values land in that one parameter, so a
 * variant changes it and keeps the rest of the space.
 */
const GRID_PARAMETER = new RegExp(
  `^(${PARAMETER_SPACES.join('|')})\\.(?!(?:__proto__|constructor|prototype)$)([A-Za-z0-9_]{1,64})$`,
);

/** The overrides one grid value stands for. */
const overridesOf = (setting: string, value: unknown): Record<string, unknown> => {
  const path = GRID_PARAMETER.exec(setting);
  return path
    ? { strategy_parameters: { [path[1] as string]: { [path[2] as string]: value } } }
    : { [setting]: value };
};

export const sweepRequestSchema = z.strictObject({
  /**
   * Names the request a sweep where one entry point takes several kinds: the backtest queue
   * (backtest-trigger). The API's route already says so, and may leave it out.
   */
  workflow: z.optional(z.literal('backtest-sweep', { error: 'must be "backtest-sweep" in a sweep request' })),
  sweep_id: sweepIdSchema,
  strategy_name: z.string(),
  strategy_version: z.string(),
  experiment_name: z.string(),
  symbols: z.array(z.string()),
  timeframe: z.string(),
  start_date: z.optional(z.string()),
  end_date: z.optional(z.string()),
  /** What every variant starts from; a variant's own settings win. */
  config_overrides: z.optional(overridesObject),
  auto_sync: z.optional(z.boolean({ error: 'must be true or false' })),
  grid: z.optional(
    z.record(
      z.string().check(
        z.refine((key) => GRID_SETTINGS.includes(key) || GRID_PARAMETER.test(key), {
          error: `must be a setting a run may override (${GRID_SETTINGS.join(', ')}) or a strategy parameter by its path, such as buy.rsi_low (spaces: ${PARAMETER_SPACES.join(', ')})`,
        }),
      ),
      z
        .array(z.unknown(), { error: 'must be a list of values' })
        .check(z.minLength(1, { error: 'must list at least one value' }), z.maxLength(1_000)),
    ),
  ),
  variants: z.optional(
    z
      .array(overridesObject, { error: 'must be a list of config_overrides objects' })
      .check(z.minLength(1, { error: 'must list at least one variant' }), z.maxLength(100_000)),
  ),
  /** How many variants run at once; capped by the stage's setting. */
  max_concurrency: z.optional(
    z.number().check(z.int({ error: 'must be a whole number' }), z.gte(1, { error: 'must be at least 1' })),
  ),
  /** The share of variants that may fail before the sweep does; 10 by default. */
  tolerated_failure_percentage: z.optional(
    z
      .number({ error: 'must be a number' })
      .check(z.gte(0, { error: 'must be at least 0' }), z.lte(100, { error: 'must be at most 100' })),
  ),
  rank_by: z.optional(
    z.enum(Object.keys(RANK_METRICS) as [RankMetric, ...RankMetric[]], {
      error: `must be one of ${Object.keys(RANK_METRICS).join(', ')}`,
    }),
  ),
  top_n: z.optional(
    z
      .number()
      .check(
        z.int({ error: 'must be a whole number' }),
        z.gte(1, { error: 'must be at least 1' }),
        z.lte(100, { error: 'must be at most 100' }),
      ),
  ),
});
export type SweepRequest = z.output<typeof sweepRequestSchema>;

export interface SweepLimits {
  maxVariants: number;
  maxConcurrency: number;
  /**
   * How long the variants may take, and how long one wave of them may: a sweep whose waves cannot
   * end before the machine's timeout is refused, since AWS would stop it with its children.
   */
  timing?: { budgetSeconds: number; waveSeconds: number };
}

const whole = (min: number, max: number) => z.coerce.number().check(z.int(), z.gte(min), z.lte(max));
/**
 * The stage's sweep caps, as every function that takes a sweep reads them from its environment
 * (validate-sweep, start-workflow, backtest-trigger): one declaration, so the entry points cannot
 * disagree with the machine's first state.
 */
export const sweepLimitsEnvironment = {
  /** The most variants one sweep may run (docs/decisions/0037). */
  MAX_SWEEP_VARIANTS: z._default(whole(1, 10_000), 1_000),
  /** The most that may run at once: the stage's Fargate Spot quota over a task's vCPUs. */
  MAX_SWEEP_CONCURRENCY: z._default(whole(1, 1_000), 50),
  /** The backtest-sweep machine's TimeoutSeconds, and the nested data sync's. */
  SWEEP_TIMEOUT_SECONDS: z._default(whole(60, 31_536_000), 604_800),
  DATA_SYNC_TIMEOUT_SECONDS: z._default(whole(60, 31_536_000), 3_000),
  /** What one wave of variants may take: the spec's longest backtest (70 min) and its start-up. */
  SWEEP_WAVE_SECONDS: z._default(whole(60, 86_400), 5_400),
};
/** What the sweep's own states may take besides the variants: the aggregation and the records. */
const SWEEP_OVERHEAD_SECONDS = 900;
export const sweepLimitsOf = (env: {
  MAX_SWEEP_VARIANTS: number;
  MAX_SWEEP_CONCURRENCY: number;
  SWEEP_TIMEOUT_SECONDS: number;
  DATA_SYNC_TIMEOUT_SECONDS: number;
  SWEEP_WAVE_SECONDS: number;
}): SweepLimits => ({
  maxVariants: env.MAX_SWEEP_VARIANTS,
  maxConcurrency: env.MAX_SWEEP_CONCURRENCY,
  timing: {
    budgetSeconds: env.SWEEP_TIMEOUT_SECONDS - env.DATA_SYNC_TIMEOUT_SECONDS - SWEEP_OVERHEAD_SECONDS,
    waveSeconds: env.SWEEP_WAVE_SECONDS,
  },
});

const hours = (seconds: number) => `${Math.round((seconds / 3_600) * 10) / 10} h`;

/**
 * The sweep machine's input for a request: its JSON with sorted keys, without the `workflow`
 * discriminator. The API and the queue give the same sweep the same input, so a second start of
 * it, by either, is recognised as the same one.
 */
export const sweepExecutionInput = (request: Record<string, unknown>): string => {
  const { workflow: _kind, ...rest } = request;
  return canonicalJson(rest);
};

export interface ExpandedSweep {
  sweep_id: string;
  /** Every variant as the backtest machine takes it: validated, run id `<sweep_id>-<index>`. */
  variants: (BacktestRequest & { sweep_id: string; workflow: 'backtest' })[];
  max_concurrency: number;
  tolerated_failure_percentage: number;
  rank_by: RankMetric;
  top_n: number;
  auto_sync: boolean;
  /** The market data every variant reads: checked once for the whole sweep. */
  data: { symbols: string[]; timeframe: string; start_date: string; end_date: string };
}

/**
 * Every combination of the grid's values, in a stable order (the last setting varies fastest), each
 * as the overrides it stands for, deep-merged (two parameters of one space both stay).
 */
const combinations = (grid: Record<string, unknown[]>): Record<string, unknown>[] =>
  Object.entries(grid).reduce<Record<string, unknown>[]>(
    (all, [setting, values]) =>
      all.flatMap((partial) => values.map((value) => deepMerge(partial, overridesOf(setting, value)))),
    [{}],
  );

/**
 * Validates a sweep request and expands it into its variants, each a whole backtest request.
 * A sweep larger than `limits.maxVariants` is refused before anything is expanded; a bad variant
 * is named by its index and field. Every problem is a ValidationError.
 */
export const expandSweep = (input: unknown, limits: SweepLimits): ExpandedSweep => {
  const parsed = check(sweepRequestSchema, input);
  if (!parsed.ok) {
    throw new ValidationError(`Invalid sweep request: ${describeIssues(parsed.issues)}`, parsed.issues);
  }
  const request = parsed.data;
  const fail = (field: string, message: string): never => {
    throw new ValidationError(`Invalid sweep request: ${field}: ${message}`, [{ field, message }]);
  };
  if ((request.grid === undefined) === (request.variants === undefined)) {
    fail('grid', 'give either a grid or a variants list, not both or neither');
  }
  const count = request.grid
    ? Object.values(request.grid).reduce((product, values) => product * (values?.length ?? 1), 1)
    : (request.variants?.length ?? 0);
  if (count > limits.maxVariants) {
    fail(
      request.grid ? 'grid' : 'variants',
      `makes ${count} variants; a sweep may run at most ${limits.maxVariants}`,
    );
  }
  if (request.max_concurrency !== undefined && request.max_concurrency > limits.maxConcurrency) {
    fail('max_concurrency', `must be at most ${limits.maxConcurrency} (this stage's cap)`);
  }
  const concurrency = request.max_concurrency ?? Math.min(10, limits.maxConcurrency);
  if (limits.timing) {
    const { budgetSeconds, waveSeconds } = limits.timing;
    const waves = Math.ceil(count / concurrency);
    if (waves * waveSeconds > budgetSeconds) {
      const fits = Math.floor(budgetSeconds / waveSeconds);
      const needed = Math.ceil(count / Math.max(fits, 1));
      fail(
        'max_concurrency',
        `${count} variants, ${concurrency} at a time, run in ${waves} waves: up to ${hours(waves * waveSeconds)}, ` +
          `beyond the ${hours(budgetSeconds)} a sweep's variants may take. ` +
          (needed <= limits.maxConcurrency
            ? `Run at least ${needed} at a time, or split the sweep`
            : 'Split the sweep'),
      );
    }
  }
  const settings = request.grid
    ? combinations(request.grid as Record<string, unknown[]>)
    : (request.variants ?? []);
  const {
    workflow: _kind,
    grid,
    variants,
    max_concurrency,
    tolerated_failure_percentage,
    rank_by,
    top_n,
    sweep_id,
    ...base
  } = request;
  const expanded = settings.map((overrides, index) => {
    const variant = backtestRequestSchema.safeParse({
      ...base,
      run_id: `${sweep_id}-${index}`,
      config_overrides: deepMerge(base.config_overrides ?? {}, overrides),
    });
    if (!variant.success) {
      const issue = variant.error.issues[0];
      const field = [`variants[${index}]`, ...(issue?.path ?? []).map(String)].join('.');
      return fail(field, issue?.message ?? 'is not a valid backtest request');
    }
    return { ...variant.data, sweep_id, workflow: 'backtest' as const };
  });
  const first = expanded[0] as ExpandedSweep['variants'][number];
  return {
    sweep_id,
    variants: expanded,
    max_concurrency: concurrency,
    tolerated_failure_percentage: tolerated_failure_percentage ?? 10,
    rank_by: rank_by ?? 'sharpe_ratio',
    top_n: top_n ?? 10,
    auto_sync: base.auto_sync ?? false,
    data: {
      symbols: first.symbols,
      timeframe: first.timeframe,
      start_date: first.start_date,
      end_date: first.end_date,
    },
  };
};
