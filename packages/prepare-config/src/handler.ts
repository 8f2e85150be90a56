import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  awsClientConfig,
  backtestConfigIssues,
  bucketNameSchema,
  configKeysOfParameters,
  configOverridesSchema,
  createWorkflowHandler,
  datasetsEnvironment,
  exchangeSchema,
  marketDataFields,
  parseS3Uri,
  readEnvironment,
  runArtifacts,
  runIdSchema,
  runsEnvironment,
  s3Uri,
  strategyHash,
  strategyNameSchema,
  strategyParameterFile,
  toFreqtradeTimerange,
  toWorkflowError,
  undeclaredParameterIssues,
  ValidationError,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';
import { buildRunConfig } from './run-config';
import { checkRunData } from './run-data';
import { readStrategyConfig, readStrategyManifest } from './strategy-config';

const s3 = new S3Client(awsClientConfig);

export const prepareConfigInput = z.strictObject({
  run_id: runIdSchema,
  strategy_name: strategyNameSchema,
  /** The strategy's stored config, as validate-strategy found it. */
  config_path: z.string().check(
    z.regex(/^s3:\/\/[a-z0-9][a-z0-9-]{1,61}[a-z0-9]\/.+\.json$/, {
      error: 'must be the s3:// URI of a .json config',
    }),
  ),
  ...marketDataFields,
  config_overrides: z._default(configOverridesSchema, {}),
  /** The exchange CheckDataFreshness read the market data of: the strategy must trade there. */
  data_exchange: z.optional(exchangeSchema),
});

export const environment = z.object({
  STRATEGY_BUCKET: bucketNameSchema,
  ...datasetsEnvironment,
  ...runsEnvironment,
});

export interface PreparedRun {
  /** The run's merged freqtrade config: `s3://<runs bucket>/runs/<run_id>/config.json`. */
  config_path: string;
  /** freqtrade `--timerange`, e.g. `20240101-20240601`. */
  timerange: string;
  /** Where the container writes freqtrade's result files. */
  results_path: string;
  /**
   * The strategy parameter file the container puts beside the strategy's .py file (same stem,
   * `.json`), or "" when the run sets no parameter and the strategy's own apply.
   */
  params_path: string;
  /**
   * `sha256:` of the strategy's part of the config and its parameters (lambda-kit bot-config.ts):
   * recorded with the run, so a deploy can prove a bot runs what this backtest tested.
   */
  strategy_hash: string;
}

const PARAMETERS_FIELD = 'config_overrides.strategy_parameters';

const startupCandlesOf = (config: Record<string, unknown>) => {
  const value = config.startup_candle_count;
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 5_000
    ? value
    : undefined;
};

/**
 * Replaces the spec's PrepareConfig ECS task, whose outputs could never reach the state: merges
 * the request's overrides into the strategy's stored config and writes it under the run's prefix.
 */
export const { handler } = createWorkflowHandler({
  service: 'prepare-config',
  input: prepareConfigInput,
  handle: async (input, tools): Promise<PreparedRun> => {
    const env = readEnvironment(environment);
    const source = parseS3Uri(input.config_path, 'config_path');
    if (source.bucket !== env.STRATEGY_BUCKET) {
      throw new ValidationError(
        `Invalid input: config_path: must be in the strategy bucket ${env.STRATEGY_BUCKET}`,
        [{ field: 'config_path', message: `must be in the strategy bucket ${env.STRATEGY_BUCKET}` }],
      );
    }
    const collisions = configKeysOfParameters(input.config_overrides.strategy_parameters ?? {}).filter(
      ({ key }) => key in input.config_overrides,
    );
    if (collisions.length > 0) {
      const issues = collisions.map(({ space, key }) => ({
        field: `config_overrides.${key}`,
        message: `is also set by config_overrides.strategy_parameters.${space}: set it in one place (freqtrade would take this one)`,
      }));
      throw new ValidationError(
        `Invalid input: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
        issues,
      );
    }
    const run = runArtifacts(env.RUNS_PREFIX, input.run_id);
    const config = buildRunConfig(await readStrategyConfig(s3, source.bucket, source.key), input);
    const parameters = input.config_overrides.strategy_parameters ?? {};
    // Checked before anything is written: a run refused here leaves no file behind.
    const configIssues = backtestConfigIssues(config, input.symbols, input.data_exchange);
    if (configIssues.length > 0) {
      throw new ValidationError(
        `Invalid input: freqtrade would refuse this backtest: ${configIssues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
        configIssues,
      );
    }
    const manifest = await readStrategyManifest(s3, source.bucket, source.key);
    if (Object.keys(parameters).length > 0) {
      const issues = manifest
        ? undeclaredParameterIssues(parameters, manifest, PARAMETERS_FIELD)
        : [
            {
              field: PARAMETERS_FIELD,
              message: `${input.strategy_name} has no strategy.json manifest declaring its parameters`,
            },
          ];
      if (manifest && manifest.class_name !== input.strategy_name) {
        issues.push({ field: 'strategy_name', message: `the manifest is for class ${manifest.class_name}` });
      }
      if (issues.length > 0) {
        throw new ValidationError(
          `Invalid input: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
          issues,
        );
      }
    }
    const exchange = (config.exchange as { name?: unknown }).name;
    await checkRunData(
      s3,
      { bucket: env.DATASET_BUCKET, prefix: env.DATASET_PREFIX },
      {
        config,
        symbols: input.symbols,
        timeframe: input.timeframe,
        start_date: input.start_date,
        end_date: input.end_date,
        // The config's startup_candle_count wins over the class's, as in freqtrade's resolver; a
        // strategy package with neither states none, and none are checked.
        startupCandles: startupCandlesOf(config) ?? manifest?.startup_candle_count ?? 0,
        exchange: input.data_exchange ?? (typeof exchange === 'string' ? exchange : 'binance'),
      },
    );
    if (Object.keys(parameters).length > 0) {
      await s3
        .send(
          new PutObjectCommand({
            Bucket: env.RUNS_BUCKET,
            Key: run.parametersKey,
            Body: JSON.stringify(
              strategyParameterFile(input.strategy_name, parameters, new Date().toISOString()),
              null,
              2,
            ),
            ContentType: 'application/json',
          }),
        )
        .catch((error: unknown) => {
          throw toWorkflowError(error, 'Writing the strategy parameter file');
        });
    }
    await s3
      .send(
        new PutObjectCommand({
          Bucket: env.RUNS_BUCKET,
          Key: run.configKey,
          Body: JSON.stringify(config, null, 2),
          ContentType: 'application/json',
        }),
      )
      .catch((error: unknown) => {
        throw toWorkflowError(error, 'Writing the run config');
      });

    const prepared: PreparedRun = {
      config_path: s3Uri(env.RUNS_BUCKET, run.configKey),
      timerange: toFreqtradeTimerange(input.start_date, input.end_date),
      results_path: s3Uri(env.RUNS_BUCKET, run.results.listPrefix),
      params_path: Object.keys(parameters).length > 0 ? s3Uri(env.RUNS_BUCKET, run.parametersKey) : '',
      strategy_hash: strategyHash(config, parameters),
    };
    tools.metrics.addMetric('RunConfigsWritten', MetricUnit.Count, 1);
    tools.logger.info('Run config written', { run_id: input.run_id, ...prepared });
    return prepared;
  },
});
