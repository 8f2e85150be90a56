/*
 * A parameter sweep: one backtest request, run once per variant of its config_overrides, on the
 * backtest-sweep machine (a Distributed Map of backtest executions). The request names its
 * variants as a `grid` (setting -> values: every combination) or an explicit `variants` list.
 */
import * as z from 'zod/mini';
import {
  type BacktestRequest,
  backtestRequestSchema,
  bucketNameSchema,
  configOverridesSchema,
  isoDateToMillis,
  sweepIdSchema,
} from './contracts';

export { sweepIdSchema };

import { readEnvironment } from './config';
import { ValidationError } from './errors';
import { PARAMETER_SPACES } from './freqtrade';
import { deepMerge } from './merge';
import { DEFAULT_GATES, RANK_METRICS, type RankMetric, type SweepGates } from './ranking';
import { STRATEGY_TASK, type SweepCost, sweepCost } from './sweep-cost';
import { canonicalJson, check, describeIssues } from './validation';

export { RANK_METRICS, type RankMetric };

/** The settings a grid may vary: those a run may override, its dates aside. */
const GRID_SETTINGS = Object.keys(
  (configOverridesSchema as unknown as { _zod: { def: { shape: Record<string, unknown> } } })._zod.def.shape,
).filter((key) => key !== 'backtester') as [string, ...string[]];

const overridesObject = z.record(z.string(), z.unknown());

const wholeIn = (min: number, max: number) =>
  z
    .number({ error: 'must be a number' })
    .check(
      z.int({ error: 'must be a whole number' }),
      z.gte(min, { error: `must be at least ${min}` }),
      z.lte(max, { error: `must be at most ${max}` }),
    );

/** A sweep's failures may be re-run this many times (the suffix `r<attempt>` fits a run id). */
export const MAX_RERUN_ATTEMPTS = 99;

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
  top_n: z.optional(wholeIn(1, 100)),
  /** Which finished variants may be ranked (./ranking.ts); a variant outside them is listed, never ranked. */
  gates: z.optional(
    z.strictObject({
      min_trades: z.optional(wholeIn(1, 1_000_000)),
      /** %, as the summary's max_drawdown. */
      max_drawdown: z.optional(
        z
          .number({ error: 'must be a number' })
          .check(z.gt(0, { error: 'must be above 0' }), z.lte(100, { error: 'must be at most 100' })),
      ),
      min_trading_days: z.optional(wholeIn(0, 36_500)),
    }),
  ),
  /**
   * A held-out tail of the timerange: the variants run on the rest, and the top_n of the in-sample
   * leaderboard run again on the tail, as one more stage of the sweep (docs/decisions/0045).
   */
  out_of_sample: z.optional(
    z.strictObject({
      holdout_fraction: z.optional(
        z
          .number({ error: 'must be a number' })
          .check(
            z.gte(0.05, { error: 'must be at least 0.05' }),
            z.lte(0.5, { error: 'must be at most 0.5' }),
          ),
      ),
      top_n: z.optional(wholeIn(1, 20)),
    }),
  ),
});
export type SweepRequest = z.output<typeof sweepRequestSchema>;

/**
 * A new run of a sweep's failed (or never started) variants, merged into the same leaderboard. The
 * attempt number names the execution (`<sweep_id>-rerun-<attempt>`), so the same request sent twice
 * starts it once; it must follow the sweep's last attempt.
 */
export const sweepRerunSchema = z.strictObject({
  workflow: z.optional(z.literal('backtest-sweep', { error: 'must be "backtest-sweep" in a sweep request' })),
  rerun_failed: z.strictObject({
    sweep_id: sweepIdSchema,
    attempt: wholeIn(1, MAX_RERUN_ATTEMPTS),
  }),
});
export type SweepRerun = z.output<typeof sweepRerunSchema>;

/** A request to the sweep machine that re-runs a sweep's failures rather than starting one: a structured field. */
export const isSweepRerun = (input: unknown): boolean =>
  typeof input === 'object' && input !== null && !Array.isArray(input) && 'rerun_failed' in input;

/**
 * A request to the sweep machine as an entry point checks it (the API, the backtest queue): the
 * execution's name, its `sweep_id` or `<sweep_id>-rerun-<attempt>`, or a ValidationError naming
 * the field. A sweep is expanded as the machine's first state will expand it.
 */
export const sweepExecutionNameOf = (body: unknown, limits: SweepLimits): string => {
  if (!isSweepRerun(body)) return expandSweep(body, limits).sweep_id;
  const parsed = check(sweepRerunSchema, body);
  if (!parsed.ok) {
    throw new ValidationError(`Invalid sweep re-run: ${describeIssues(parsed.issues)}`, parsed.issues);
  }
  return `${parsed.data.rerun_failed.sweep_id}-rerun-${parsed.data.rerun_failed.attempt}`;
};

/** The stages of a sweep: its variants, a re-run of its failures, and its leaders on the held-out tail. */
export const SWEEP_STAGES = ['in_sample', 'rerun', 'holdout'] as const;
export type SweepStageName = (typeof SWEEP_STAGES)[number];

/** `sweeps/<sweep_id>`, or under it `rerun-<n>` or `holdout-<n>`, as a pattern. */
const STAGE_BASE = 'sweeps/[A-Za-z0-9][A-Za-z0-9_-]{0,55}(?:/(?:rerun|holdout)-\\d{1,2})?';

/** Where one stage's Distributed Map reads its items and writes its results, under `sweeps/<sweep_id>/`. */
export const sweepStageSchema = z.strictObject({
  name: z.enum(SWEEP_STAGES),
  /** 0 for the sweep's own execution; n for its n-th re-run (and that execution's held-out stage). */
  attempt: wholeIn(0, MAX_RERUN_ATTEMPTS),
  // Only the places sweepStage builds: a stage may not point a Map at any other key.
  items: z.strictObject({
    bucket: bucketNameSchema,
    key: z.string().check(z.regex(new RegExp(`^${STAGE_BASE}/items\\.json$`))),
  }),
  results: z.strictObject({
    bucket: bucketNameSchema,
    prefix: z.string().check(z.regex(new RegExp(`^${STAGE_BASE}/results$`))),
  }),
  /** The Map Run's own tolerance: failed batches, of infrastructure (the variants' is the sweep's). */
  tolerated_failure_percentage: z.number().check(z.gte(0), z.lte(100)),
});
export type SweepStage = z.output<typeof sweepStageSchema>;

/** A stage's place: `sweeps/<id>/items.json` and `results/`, or under `rerun-<n>/` and `holdout-<n>/`. */
export const sweepStage = (
  bucket: string,
  sweepId: string,
  name: SweepStageName,
  attempt: number,
  toleratedFailurePercentage: number,
): SweepStage => {
  const base = `sweeps/${sweepId}${name === 'in_sample' ? '' : `/${name}-${attempt}`}`;
  return {
    name,
    attempt,
    items: { bucket, key: `${base}/items.json` },
    results: { bucket, prefix: `${base}/results` },
    tolerated_failure_percentage: toleratedFailurePercentage,
  };
};

/** A variant's run id in each stage: `<sweep_id>-<index>`, `-<index>r<attempt>` re-run, `-<index>h` held out. */
export const variantRunId = (
  sweepId: string,
  index: number,
  stage: { rerun?: number; holdout?: boolean } = {},
) => `${sweepId}-${index}${stage.rerun ? `r${stage.rerun}` : ''}${stage.holdout ? 'h' : ''}`;

/** The index of a variant from any of its run ids, or undefined for another run id. */
export const variantIndexOf = (sweepId: string, runId: string): number | undefined => {
  if (!runId.startsWith(`${sweepId}-`)) return undefined;
  const match = /^(\d{1,5})(?:r\d{1,2})?h?$/.exec(runId.slice(sweepId.length + 1));
  return match ? Number(match[1]) : undefined;
};

export interface SweepLimits {
  maxVariants: number;
  maxConcurrency: number;
  /**
   * How long the variants may take, and how long one wave of them may: a sweep whose waves cannot
   * end before the machine's timeout is refused, since AWS would stop it with its children.
   */
  timing?: { budgetSeconds: number; waveSeconds: number };
  /** The most one sweep may cost, USD (its estimate: sweep-cost.ts); none when undefined. */
  budgetUsd?: number;
  /** Why maxConcurrency is what it is, for the error that names it. */
  concurrencyReason?: string;
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
  /** The most that may run at once, at most the Fargate Spot quota over a task's vCPUs (below). */
  MAX_SWEEP_CONCURRENCY: z._default(whole(1, 10_000), 50),
  /**
   * The account's "Fargate Spot vCPU resource count" quota (L-36FBB829) in the stage's region: AWS
   * gives new accounts 6; a sweep runs at most one variant a vCPU (sweep-cost.ts STRATEGY_TASK).
   */
  FARGATE_SPOT_VCPU_QUOTA: z._default(whole(1, 1_000_000), 100),
  /** The most one sweep may cost, USD, by its estimate before it starts. */
  MAX_SWEEP_USD: z._default(z.coerce.number().check(z.gt(0), z.lte(1_000_000)), 250),
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
  FARGATE_SPOT_VCPU_QUOTA: number;
  MAX_SWEEP_USD: number;
}): SweepLimits => {
  const byQuota = Math.max(1, Math.floor(env.FARGATE_SPOT_VCPU_QUOTA / STRATEGY_TASK.vcpu));
  return {
    maxVariants: env.MAX_SWEEP_VARIANTS,
    maxConcurrency: Math.min(env.MAX_SWEEP_CONCURRENCY, byQuota),
    concurrencyReason:
      byQuota < env.MAX_SWEEP_CONCURRENCY
        ? `the account's Fargate Spot quota, ${env.FARGATE_SPOT_VCPU_QUOTA} vCPU, over ${STRATEGY_TASK.vcpu} vCPU a variant`
        : "this stage's cap",
    timing: {
      budgetSeconds: env.SWEEP_TIMEOUT_SECONDS - env.DATA_SYNC_TIMEOUT_SECONDS - SWEEP_OVERHEAD_SECONDS,
      waveSeconds: env.SWEEP_WAVE_SECONDS,
    },
    budgetUsd: env.MAX_SWEEP_USD,
  };
};

/** The stage's sweep limits from an environment (a function's, or the local stack's). */
export const readSweepLimits = (env: NodeJS.ProcessEnv = process.env): SweepLimits =>
  sweepLimitsOf(readEnvironment(z.object(sweepLimitsEnvironment), env));

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
  /** How the Distributed Map batches the variants (ItemBatcher): items per child, children at once. */
  batching: { items_per_batch: number; max_concurrency: number };
  /** What the sweep will cost at most, before it starts (sweep-cost.ts). */
  cost: SweepCost;
  tolerated_failure_percentage: number;
  rank_by: RankMetric;
  top_n: number;
  gates: SweepGates;
  /** The held-out tail and how many of the in-sample leaders run on it; null without one. */
  out_of_sample: { start_date: string; end_date: string; top_n: number; share: number } | null;
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

const DAY_MS = 86_400_000;

/**
 * The most variants one child execution of the sweep's Distributed Map runs (ItemBatcher). Ten
 * variants' results (a summary each, a few KB) stay far below a child's 256 KiB output, and a
 * batch ends with its slowest variant, so a larger batch would hold its slot idle for longer.
 */
export const MAX_ITEMS_PER_BATCH = 10;

/**
 * Batches of up to MAX_ITEMS_PER_BATCH variants, as many at once as keep the variants running at
 * once within `concurrency` (never above it).
 */
export const batchingOf = (concurrency: number) => {
  const itemsPerBatch = Math.min(MAX_ITEMS_PER_BATCH, concurrency);
  return {
    items_per_batch: itemsPerBatch,
    max_concurrency: Math.max(1, Math.floor(concurrency / itemsPerBatch)),
  };
};

/**
 * A request's dates moved to `start`..`end` (either kept when undefined), at the top level and,
 * where the request carries them there, in the spec's `config_overrides.backtester` too, so the
 * two never conflict.
 */
export const withTimerange = <T extends { config_overrides?: Record<string, unknown> | undefined }>(
  request: T,
  start: string | undefined,
  end: string | undefined,
): { start_date?: string; end_date?: string; config_overrides: Record<string, unknown> } => {
  const overrides = (request.config_overrides ?? {}) as Record<string, unknown>;
  const backtester = overrides.backtester as Record<string, unknown> | undefined;
  const dates = {
    ...(start === undefined ? {} : { start_date: start }),
    ...(end === undefined ? {} : { end_date: end }),
  };
  if (!backtester) return { ...dates, config_overrides: overrides };
  return {
    ...dates,
    config_overrides: {
      ...overrides,
      backtester: {
        ...backtester,
        ...(start !== undefined && 'START_DATE' in backtester ? { START_DATE: start } : {}),
        ...(end !== undefined && 'END_DATE' in backtester ? { END_DATE: end } : {}),
      },
    },
  };
};
/**
 * The held-out tail of a sweep's timerange: its last `holdout_fraction` of whole UTC days (0.25 by
 * default), at least one day on each side. The sweep's dates are read as the backtest's (top level,
 * or the spec's `config_overrides.backtester`), so both forms split alike.
 */
const holdoutOf = (
  base: Omit<SweepRequest, 'grid' | 'variants' | 'sweep_id'>,
  settings: NonNullable<SweepRequest['out_of_sample']>,
): NonNullable<ExpandedSweep['out_of_sample']> => {
  const fail = (message: string): never => {
    throw new ValidationError(`Invalid sweep request: out_of_sample: ${message}`, [
      { field: 'out_of_sample', message },
    ]);
  };
  const dates = backtestRequestSchema.safeParse({ ...base, run_id: 'holdout' });
  if (!dates.success) return fail("needs the sweep's start_date and end_date");
  const start = isoDateToMillis(dates.data.start_date);
  const end = isoDateToMillis(dates.data.end_date);
  const fraction = settings.holdout_fraction ?? 0.25;
  const days = Math.floor((end - start) / DAY_MS);
  const heldOut = Math.round(days * fraction);
  if (heldOut < 1 || days - heldOut < 1)
    fail(`a ${fraction} tail of ${days} whole days leaves no whole day on one side; widen the timerange`);
  const split = new Date(end - heldOut * DAY_MS).toISOString();
  return {
    start_date: split.endsWith('T00:00:00.000Z') ? split.slice(0, 10) : split.replace('.000Z', 'Z'),
    end_date: dates.data.end_date,
    top_n: settings.top_n ?? 5,
    share: Math.round((heldOut / (days - heldOut)) * 1e6) / 1e6,
  };
};

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
    fail(
      'max_concurrency',
      `must be at most ${limits.maxConcurrency} (${limits.concurrencyReason ?? "this stage's cap"})`,
    );
  }
  const concurrency = request.max_concurrency ?? Math.min(10, limits.maxConcurrency);
  if (limits.timing) {
    const { budgetSeconds, waveSeconds } = limits.timing;
    // The held-out stage is one wave more.
    const waves = Math.ceil(count / concurrency) + (request.out_of_sample ? 1 : 0);
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
  const batching = batchingOf(concurrency);
  const cost = sweepCost({
    variants: count,
    itemsPerBatch: batching.items_per_batch,
    holdoutVariants: request.out_of_sample ? (request.out_of_sample.top_n ?? 5) : 0,
    variantSeconds: limits.timing?.waveSeconds ?? 5_400,
  });
  if (limits.budgetUsd !== undefined && cost.usd.total > limits.budgetUsd) {
    fail(
      request.grid ? 'grid' : 'variants',
      `${count} variants would cost up to $${cost.usd.total.toFixed(2)} (${cost.fargate_vcpu_hours} Fargate Spot vCPU-hours, ` +
        `${cost.state_transitions} state transitions), over this stage's $${limits.budgetUsd} a sweep; split the sweep`,
    );
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
    gates,
    out_of_sample,
    sweep_id,
    ...base
  } = request;
  const holdout = out_of_sample ? holdoutOf(base, out_of_sample) : undefined;
  const expanded = settings.map((overrides, index) => {
    const merged = {
      ...base,
      run_id: variantRunId(sweep_id, index),
      config_overrides: deepMerge(base.config_overrides ?? {}, overrides),
    };
    // With a held-out tail, the variants run on the rest of the timerange.
    const variant = backtestRequestSchema.safeParse(
      holdout ? { ...merged, ...withTimerange(merged, undefined, holdout.start_date) } : merged,
    );
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
    batching,
    cost,
    tolerated_failure_percentage: tolerated_failure_percentage ?? 10,
    rank_by: rank_by ?? 'sharpe_ratio',
    top_n: top_n ?? 10,
    gates: {
      min_trades: gates?.min_trades ?? DEFAULT_GATES.min_trades,
      max_drawdown: gates?.max_drawdown ?? DEFAULT_GATES.max_drawdown,
      min_trading_days: gates?.min_trading_days ?? DEFAULT_GATES.min_trading_days,
    },
    out_of_sample: holdout ?? null,
    auto_sync: base.auto_sync ?? false,
    // The market data of the whole timerange, the held-out tail included.
    data: {
      symbols: first.symbols,
      timeframe: first.timeframe,
      start_date: first.start_date,
      end_date: holdout?.end_date ?? first.end_date,
    },
  };
};
