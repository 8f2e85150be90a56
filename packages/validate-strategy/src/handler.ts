import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ECRClient } from '@aws-sdk/client-ecr';
import { S3Client } from '@aws-sdk/client-s3';
import {
  awsClientConfig,
  awsRegionSchema,
  bucketNameSchema,
  createWorkflowHandler,
  readEnvironment,
  s3Prefix,
  s3PrefixSchema,
  strategyNameSchema,
  strategyVersionSchema,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';

import {
  findStrategyConfig,
  findStrategyImage,
  strategyConfigKey,
  strategyRepositoryName,
} from './strategy-artifacts';

const ecr = new ECRClient(awsClientConfig);
const s3 = new S3Client(awsClientConfig);

export const validateStrategyInput = z.strictObject({
  strategy_name: strategyNameSchema,
  strategy_version: strategyVersionSchema,
});

export const environment = z.object({
  AWS_REGION: awsRegionSchema,
  STRATEGY_BUCKET: bucketNameSchema,
  STRATEGY_CONFIG_PREFIX: z._default(s3PrefixSchema, s3Prefix('strategies')),
  STRATEGY_REPOSITORY_PREFIX: z._default(
    z.string().check(
      z.regex(/^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/, {
        error: 'must be an ECR repository namespace such as tradai/strategies',
      }),
    ),
    'tradai/strategies',
  ),
});

export interface StrategyValidation {
  valid: boolean;
  image_uri: string | null;
  config_path: string | null;
  reasons: string[];
}

/**
 * Checks that a strategy version can be backtested: its image is in ECR (returned pinned by
 * digest) and its config is in S3. A missing artifact is an answer (`valid: false` with the
 * reason), not an error; throttling and 5xx raise `TransientAwsError`.
 */
export const { handler } = createWorkflowHandler({
  service: 'validate-strategy',
  input: validateStrategyInput,
  handle: async ({ strategy_name, strategy_version }, tools): Promise<StrategyValidation> => {
    const env = readEnvironment(environment);
    const repositoryName = strategyRepositoryName(env.STRATEGY_REPOSITORY_PREFIX, strategy_name);
    const configKey = strategyConfigKey(env.STRATEGY_CONFIG_PREFIX, strategy_name, strategy_version);

    const [image, config] = await Promise.all([
      findStrategyImage(ecr, env.AWS_REGION, repositoryName, strategy_version),
      findStrategyConfig(s3, env.STRATEGY_BUCKET, configKey),
    ]);

    const reasons = [image, config].flatMap((lookup) => (lookup.found ? [] : [lookup.reason]));
    const result: StrategyValidation = {
      valid: reasons.length === 0,
      image_uri: image.found ? image.value : null,
      config_path: config.found ? config.value : null,
      reasons,
    };
    tools.metrics.addMetric('StrategyRejected', MetricUnit.Count, result.valid ? 0 : 1);
    tools.logger.info('Strategy validated', { strategy_name, strategy_version, ...result });
    return result;
  },
});
