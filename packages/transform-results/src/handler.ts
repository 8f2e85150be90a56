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
    const parameters_verified = params_path
      ? verifyParameters(
          key,
          strategy_name,
          parseResultFile(parametersKey, await readObject(s3, env.RUNS_BUCKET, parametersKey), strategy_name)
            .result,
          file.parameters,
        )
      : null;
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
 * Whether freqtrade ran the parameters we asked for, read back from the parameter file it stored in
 * its result zip: a file another class's (freqtrade would have refused it), or a parameter that ran
 * with another value, fails the run with the difference named. A result with no stored file
 * (freqtrade 2024.x) cannot say: false, and the summary says so.
 */
const verifyParameters = (key: string, strategy: string, ours: unknown, stored: unknown): boolean => {
  const asked = parametersOf(ours);
  if (!asked) throw new BacktestResultError(`The run's parameter file is not one prepare-config writes`);
  if (stored === undefined) return false;
  const ran = freqtradeLoadsParameterFile(stored, strategy) ? parametersOf(stored) : undefined;
  if (!ran) {
    throw new BacktestResultError(`${key} stored a parameter file freqtrade would not load for ${strategy}`);
  }
  const differences = parameterDifferences(asked, ran);
  if (differences.length > 0) {
    throw new BacktestResultError(
      `${key}: freqtrade ran other parameters than asked: ${differences.join('; ')}`,
    );
  }
  return true;
};
