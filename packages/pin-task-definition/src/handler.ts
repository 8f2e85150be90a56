import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ECSClient } from '@aws-sdk/client-ecs';
import {
  awsClientConfig,
  ConfigurationError,
  createWorkflowHandler,
  imageDigestUriSchema,
  readEnvironment,
  strategyNameSchema,
  strategyVersionSchema,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';
import { type PinnedTaskDefinition, pinTaskDefinition } from './task-definition';

const ecs = new ECSClient(awsClientConfig);

const familySchema = (what: string) =>
  z
    .string()
    .check(z.regex(/^[A-Za-z0-9_-]{1,180}$/, { error: `must be an ECS task ${what}: A-Z a-z 0-9 _ -` }));

export const pinTaskDefinitionInput = z.strictObject({
  strategy_name: strategyNameSchema,
  strategy_version: strategyVersionSchema,
  image_uri: imageDigestUriSchema,
  /** What the task runs for: a backtest (default), or trading in one deploy environment. */
  purpose: z._default(
    z.enum(['backtest', 'dry-run', 'live'], { error: 'must be one of backtest, dry-run, live' }),
    'backtest',
  ),
});

export const environment = z.object({
  BACKTEST_TASK_TEMPLATE: familySchema('family'),
  STRATEGY_TASK_FAMILY_PREFIX: familySchema('family prefix'),
  STRATEGY_CONTAINER_NAME: z._default(familySchema('container name'), 'strategy'),
  TRADING_TASK_TEMPLATE: z.optional(familySchema('family')),
  TRADING_TASK_FAMILY_PREFIX: z.optional(familySchema('family prefix')),
});

export interface PinnedRun extends PinnedTaskDefinition {
  image_uri: string;
}

/**
 * ECS container overrides cannot change the image, so the backtest runs the image its task
 * definition names: this returns a revision of `<prefix><StrategyName>` that runs exactly the
 * digest validate-strategy checked, registering one only when the latest revision does not.
 */
export const { handler } = createWorkflowHandler({
  service: 'pin-task-definition',
  input: pinTaskDefinitionInput,
  handle: async (input, tools): Promise<PinnedRun> => {
    const env = readEnvironment(environment);
    const trading = input.purpose !== 'backtest';
    if (trading && (!env.TRADING_TASK_TEMPLATE || !env.TRADING_TASK_FAMILY_PREFIX)) {
      throw new ConfigurationError(
        'TRADING_TASK_TEMPLATE and TRADING_TASK_FAMILY_PREFIX are needed to pin a trading task',
      );
    }
    const pinned = await pinTaskDefinition(ecs, {
      templateFamily: trading ? (env.TRADING_TASK_TEMPLATE as string) : env.BACKTEST_TASK_TEMPLATE,
      family: trading
        ? `${env.TRADING_TASK_FAMILY_PREFIX}${input.purpose}-${input.strategy_name}`
        : `${env.STRATEGY_TASK_FAMILY_PREFIX}${input.strategy_name}`,
      container: env.STRATEGY_CONTAINER_NAME,
      imageUri: input.image_uri,
      tags: { 'tradai:strategy': input.strategy_name, 'tradai:strategy-version': input.strategy_version },
    });
    tools.metrics.addMetric('TaskDefinitionsRegistered', MetricUnit.Count, pinned.registered ? 1 : 0);
    tools.logger.info('Task definition pinned', { ...input, ...pinned });
    return { ...pinned, image_uri: input.image_uri };
  },
});
