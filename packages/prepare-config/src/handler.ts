import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ECSClient } from '@aws-sdk/client-ecs';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  awsClientConfig,
  bucketNameSchema,
  configOverridesSchema,
  createWorkflowHandler,
  isoDateSchema,
  parseS3Uri,
  readEnvironment,
  runArtifacts,
  runIdSchema,
  s3Prefix,
  s3PrefixSchema,
  s3Uri,
  strategyNameSchema,
  strategyVersionSchema,
  symbolListSchema,
  timeframeSchema,
  toFreqtradeTimerange,
  toWorkflowError,
  ValidationError,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';
import { buildRunConfig } from './run-config';
import { readStrategyConfig } from './strategy-config';
import { pinTaskDefinition } from './task-definition';

const s3 = new S3Client(awsClientConfig);
const ecs = new ECSClient(awsClientConfig);

/** What validate-strategy returns: an ECR image pinned by digest, never a tag. */
const imageDigestUriSchema = z.string().check(
  z.regex(
    /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/[a-z0-9]+(?:[._/-][a-z0-9]+)*@sha256:[0-9a-f]{64}$/,
    {
      error: 'must be an ECR image URI pinned by digest (...@sha256:<64 hex>)',
    },
  ),
);

export const prepareConfigInput = z.strictObject({
  run_id: runIdSchema,
  strategy_name: strategyNameSchema,
  strategy_version: strategyVersionSchema,
  image_uri: imageDigestUriSchema,
  config_path: z.string().check(
    z.regex(/^s3:\/\/[a-z0-9][a-z0-9-]{1,61}[a-z0-9]\/.+\.json$/, {
      error: 'must be the s3:// URI of a .json config',
    }),
  ),
  symbols: symbolListSchema,
  timeframe: timeframeSchema,
  start_date: isoDateSchema,
  end_date: isoDateSchema,
  config_overrides: z._default(configOverridesSchema, {}),
});

const environment = z.object({
  STRATEGY_BUCKET: bucketNameSchema,
  RUNS_BUCKET: bucketNameSchema,
  RUNS_PREFIX: z._default(s3PrefixSchema, s3Prefix('runs')),
  BACKTEST_TASK_TEMPLATE: z
    .string()
    .check(z.regex(/^[A-Za-z0-9_-]{1,255}$/, { error: 'must be an ECS task family' })),
  STRATEGY_TASK_FAMILY_PREFIX: z
    .string()
    .check(z.regex(/^[A-Za-z0-9_-]{1,180}$/, { error: 'must be an ECS task family prefix' })),
  STRATEGY_CONTAINER_NAME: z._default(z.string().check(z.regex(/^[A-Za-z0-9_-]{1,255}$/)), 'strategy'),
});

export interface PreparedRun {
  /** The exact image validate-strategy resolved; the task definition below runs it. */
  image_uri: string;
  /** The run's merged freqtrade config: `s3://<runs bucket>/runs/<run_id>/config.json`. */
  config_path: string;
  task_definition_arn: string;
  task_definition_registered: boolean;
  /** freqtrade `--timerange`, e.g. `20240101-20240601`. */
  timerange: string;
  results_path: string;
}

/**
 * Replaces the spec's PrepareConfig ECS task (whose outputs could never reach the state): merges
 * the request's overrides into the strategy config, writes it under the run's prefix, and pins
 * the strategy's ECS task definition to the validated image digest.
 */
export const { handler, logger, metrics } = createWorkflowHandler({
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
    const run = runArtifacts(env.RUNS_PREFIX, input.run_id);

    const [base, pinned] = await Promise.all([
      readStrategyConfig(s3, source.bucket, source.key),
      pinTaskDefinition(ecs, {
        templateFamily: env.BACKTEST_TASK_TEMPLATE,
        family: `${env.STRATEGY_TASK_FAMILY_PREFIX}${input.strategy_name}`,
        container: env.STRATEGY_CONTAINER_NAME,
        imageUri: input.image_uri,
        tags: { 'tradai:strategy': input.strategy_name, 'tradai:strategy-version': input.strategy_version },
      }),
    ]);

    const config = buildRunConfig(base, input);
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
      image_uri: input.image_uri,
      config_path: s3Uri(env.RUNS_BUCKET, run.configKey),
      task_definition_arn: pinned.task_definition_arn,
      task_definition_registered: pinned.registered,
      timerange: toFreqtradeTimerange(input.start_date, input.end_date),
      results_path: s3Uri(env.RUNS_BUCKET, run.results.listPrefix),
    };
    tools.metrics.addMetric('TaskDefinitionsRegistered', MetricUnit.Count, pinned.registered ? 1 : 0);
    tools.logger.info('Run prepared', { run_id: input.run_id, ...prepared });
    return prepared;
  },
});
