import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { type ContainerDefinition, ECSClient, type TaskDefinition } from '@aws-sdk/client-ecs';
import {
  awsClientConfig,
  ConfigurationError,
  createWorkflowHandler,
  exchangeCredentialsSchema,
  imageDigestUriSchema,
  readEnvironment,
  secretArnSchema,
  strategyNameSchema,
  strategyVersionSchema,
  ValidationError,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';
import { type BotContainer, botContainer } from './bot-container';
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
  /** A trading bot's rendered files and key reference (render-bot-config); trading only. */
  bot: z.optional(
    z.strictObject({
      config_uri: z
        .string()
        .check(
          z.regex(
            /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/deployments\/[A-Za-z0-9_-]{1,64}\/config\.json$/,
            { error: 'must be a deployment config.json URI' },
          ),
        ),
      params_uri: z
        .string()
        .check(
          z.regex(
            /^(|s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/deployments\/[A-Za-z0-9_-]{1,64}\/[A-Za-z0-9]{2,64}\.json)$/,
            { error: 'must be a deployment parameter file URI, or empty' },
          ),
        ),
      exchange_credentials: z.nullable(exchangeCredentialsSchema),
    }),
  ),
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
  /** The stage's bot API login (Secrets Manager, JSON username/password/jwt_secret_key): trading only. */
  BOT_API_SECRET_ARN: z.optional(secretArnSchema),
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
    if (
      trading &&
      (!env.TRADING_TASK_TEMPLATE || !env.TRADING_TASK_FAMILY_PREFIX || !env.BOT_API_SECRET_ARN)
    ) {
      throw new ConfigurationError(
        'TRADING_TASK_TEMPLATE, TRADING_TASK_FAMILY_PREFIX and BOT_API_SECRET_ARN are needed to pin a trading task',
      );
    }
    if (trading !== (input.bot !== undefined)) {
      throw new ValidationError('Invalid input: bot: is required for a trading task, and only for one', [
        { field: 'bot', message: 'is required for a trading task, and only for one' },
      ]);
    }
    if (input.purpose === 'dry-run' && input.bot?.exchange_credentials) {
      throw new ValidationError(
        'Invalid input: bot.exchange_credentials: a dry-run bot never holds exchange keys',
        [{ field: 'bot.exchange_credentials', message: 'a dry-run bot never holds exchange keys' }],
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
      ...(input.bot
        ? {
            shape: (template: TaskDefinition, container: ContainerDefinition) =>
              botContainer(template, container, input.bot as BotContainer, env.BOT_API_SECRET_ARN as string),
          }
        : {}),
    });
    tools.metrics.addMetric('TaskDefinitionsRegistered', MetricUnit.Count, pinned.registered ? 1 : 0);
    tools.logger.info('Task definition pinned', {
      strategy_name: input.strategy_name,
      strategy_version: input.strategy_version,
      image_uri: input.image_uri,
      purpose: input.purpose,
      ...pinned,
    });
    return { ...pinned, image_uri: input.image_uri };
  },
});
