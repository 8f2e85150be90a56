import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import {
  awsClientConfig,
  BacktestResultError,
  check,
  createWorkflowHandler,
  describeIssues,
  freqtradeLoadsParameterFile,
  parameterDifferences,
  readEnvironment,
  runArtifacts,
  runIdSchema,
  runsEnvironment,
  type StrategyParameters,
  s3Uri,
  strategyNameSchema,
  strategyParametersSchema,
  ValidationError,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';
import { findResultKey, parseResultFile, readObject } from './result-file';
import { type BacktestSummary, backtestResultFileSchema, strategyStatsSchema, summarise } from './summary';

const s3 = new S3Client(awsClientConfig);

/** The spec's backtest metric lives in its own namespace, with `Strategy` as its only dimension. */
export const backtestMetrics = new Metrics({
  namespace: 'TradAI/Backtest',
  serviceName: 'transform-results',
});
backtestMetrics.clearDefaultDimensions();

/** ECS reports task times as epoch milliseconds (`.sync` output) or ISO strings (DescribeTasks JSON). */
const instantSchema = z.union([
  z.number().check(z.int(), z.positive()),
  z
    .string()
    .check(z.refine((value) => !Number.isNaN(Date.parse(value)), { error: 'must be an ISO-8601 instant' })),
]);
const toMillis = (value: number | string) => (typeof value === 'number' ? value : Date.parse(value));

export const transformResultsInput = z.strictObject({
  run_id: runIdSchema,
  strategy_name: strategyNameSchema,
  /** RunBacktest's task: when the container started and stopped. */
  /** FARGATE when the run fell back to on-demand capacity after Spot was lost (SpotFallback metric). */
  capacity_provider: z.optional(
    z.enum(['FARGATE_SPOT', 'FARGATE'], { error: 'must be FARGATE_SPOT or FARGATE' }),
  ),
  /** The parameter file prepare-config wrote for the run, or "" when it set no parameter. */
  params_path: z._default(z.string(), ''),
  task: z.object({ started_at: instantSchema, stopped_at: instantSchema }).check(
    z.refine((task) => toMillis(task.stopped_at) >= toMillis(task.started_at), {
      path: ['stopped_at'],
      error: 'must not be before started_at',
    }),
  ),
});

export const environment = z.object({
  ...runsEnvironment,
});

export interface TransformedResult extends BacktestSummary {
  results_uri: string;
  duration_seconds: number;
  /**
   * Whether freqtrade ran the parameters the run asked for: true when the parameter file it stored
   * in its zip matches ours; false when its result keeps none (freqtrade 2024.x writes no copy);
   * null when the run asked for none.
   */
  parameters_verified: boolean | null;
}

const parametersOf = (file: unknown) => {
  const parsed = strategyParametersSchema.safeParse((file as { params?: unknown } | null)?.params);
  return parsed.success ? parsed.data : undefined;
};

/**
 * Reads the freqtrade result the strategy container wrote under `runs/<run_id>/results/` and
 * returns the run summary (a few hundred bytes, whatever the size of the file). Emits
 * `BacktestDuration` from the ECS task's own start and stop times.
 */
export const { handler } = createWorkflowHandler({
  service: 'transform-results',
  input: transformResultsInput,
  handle: async (
    { run_id, strategy_name, task, capacity_provider, params_path },
    tools,
  ): Promise<TransformedResult> => {
    const env = readEnvironment(environment);
    // The task ran whatever its output turns out to be: its duration is recorded first.
    const durationSeconds = Math.round((toMillis(task.stopped_at) - toMillis(task.started_at)) / 1000);
    backtestMetrics.addDimension('Strategy', strategy_name);
    backtestMetrics.addMetric('BacktestDuration', MetricUnit.Seconds, durationSeconds);
    backtestMetrics.publishStoredMetrics();
    if (capacity_provider === 'FARGATE') tools.metrics.addMetric('SpotFallback', MetricUnit.Count, 1);

    const { results, parametersKey } = runArtifacts(env.RUNS_PREFIX, run_id);
    if (params_path && params_path !== s3Uri(env.RUNS_BUCKET, parametersKey)) {
      throw new ValidationError(`Invalid input: params_path: must be this run's ${parametersKey}`, [
        { field: 'params_path', message: `must be s3://${env.RUNS_BUCKET}/${parametersKey} or ""` },
      ]);
    }
    const key = await findResultKey(s3, env.RUNS_BUCKET, results);
    const file = parseResultFile(key, await readObject(s3, env.RUNS_BUCKET, key), strategy_name);
    const ours = params_path
      ? parseResultFile(parametersKey, await readObject(s3, env.RUNS_BUCKET, parametersKey), strategy_name)
          .result
      : undefined;
    const parsed = check(backtestResultFileSchema, file.result);
    if (!parsed.ok) {
      throw new BacktestResultError(
        `${key} is not a freqtrade backtest result: ${describeIssues(parsed.issues)}`,
      );
    }
    const entry = Object.hasOwn(parsed.data.strategy, strategy_name)
      ? parsed.data.strategy[strategy_name]
      : undefined;
    if (entry === undefined) {
      const found = Object.keys(parsed.data.strategy).join(', ') || 'none';
      throw new BacktestResultError(
        `${key} holds no result for ${strategy_name} (strategies in the file: ${found})`,
      );
    }
    const stats = check(strategyStatsSchema, entry);
    if (!stats.ok) {
      const issues = stats.issues.map((issue) => ({
        ...issue,
        field: `strategy.${strategy_name}.${issue.field}`,
      }));
      throw new BacktestResultError(
        `${key} has an unreadable result for ${strategy_name}: ${describeIssues(issues)}`,
      );
    }
    const parameters_verified =
      ours === undefined
        ? null
        : verifyParameters(key, strategy_name, ours, file.parameters, entry as Record<string, unknown>);
    tools.metrics.addMetric('ResultsSummarised', MetricUnit.Count, 1);

    const summary: TransformedResult = {
      ...summarise(strategy_name, stats.data),
      results_uri: s3Uri(env.RUNS_BUCKET, key),
      duration_seconds: durationSeconds,
      parameters_verified,
    };
    tools.logger.info('Backtest result summarised', { run_id, key, ...summary });
    return summary;
  },
});

/**
 * The settings freqtrade ran with, as its result records them after its resolver applied config and
 * parameter file (freqtrade/optimize/optimize_reports/optimize_reports.py `generate_strategy_stats`:
 * `minimal_roi`, `stoploss`, `trailing_*`, `max_open_trades_setting`).
 */
const settingsThatRan = (stats: Record<string, unknown>): StrategyParameters => {
  const roi = stats.minimal_roi as Record<string, unknown> | undefined;
  const trailingKeys = [
    'trailing_stop',
    'trailing_stop_positive',
    'trailing_stop_positive_offset',
    'trailing_only_offset_is_reached',
  ];
  return {
    ...(roi
      ? {
          roi: Object.fromEntries(
            Object.entries(roi).map(([k, v]) => [String(Number.parseInt(k, 10)), v as number]),
          ),
        }
      : {}),
    stoploss: { stoploss: stats.stoploss as number },
    trailing: Object.fromEntries(trailingKeys.filter((k) => k in stats).map((k) => [k, stats[k]])),
    max_open_trades: { max_open_trades: stats.max_open_trades_setting as number },
  };
};

/**
 * Whether freqtrade ran the parameters we asked for. Two of freqtrade's own records say so: the
 * settings its result keeps (roi, stoploss, trailing, max_open_trades, after its config had its say),
 * and the parameter file it stored in a 2025.1+ zip (buy, sell, protection). A file another class's
 * (freqtrade would have refused it), a zip without our file (the container did not put it beside the
 * strategy), or a parameter that ran with another value fails the run, each difference named. A
 * 2024.x result keeps no parameter file: its buy/sell/protection cannot be checked, and it says so.
 */
const verifyParameters = (
  key: string,
  strategy: string,
  ours: unknown,
  stored: unknown,
  stats: Record<string, unknown>,
): boolean => {
  const asked = parametersOf(ours);
  if (!asked) throw new BacktestResultError(`The run's parameter file is not one prepare-config writes`);
  const { buy, sell, protection, ...settings } = asked;
  const ranSettings = settingsThatRan(stats);
  const differences = parameterDifferences(settings, ranSettings);
  if (
    asked.roi &&
    Object.keys(asked.roi).sort().join() !==
      Object.keys(ranSettings.roi ?? {})
        .sort()
        .join()
  ) {
    differences.push(
      `roi: asked ${JSON.stringify(asked.roi)}, ran ${JSON.stringify(ranSettings.roi ?? null)}`,
    );
  }
  if (stored === undefined && key.endsWith('.zip')) {
    differences.push(
      `freqtrade stored no parameter file: it ran without ours (was it put beside the strategy?)`,
    );
  }
  const ran =
    stored === undefined
      ? undefined
      : freqtradeLoadsParameterFile(stored, strategy)
        ? parametersOf(stored)
        : undefined;
  if (stored !== undefined && !ran) {
    throw new BacktestResultError(`${key} stored a parameter file freqtrade would not load for ${strategy}`);
  }
  if (ran) differences.push(...parameterDifferences({ buy, sell, protection }, ran));
  if (differences.length > 0) {
    throw new BacktestResultError(
      `${key}: freqtrade ran other parameters than asked: ${differences.join('; ')}`,
    );
  }
  return ran !== undefined || (buy === undefined && sell === undefined && protection === undefined);
};
