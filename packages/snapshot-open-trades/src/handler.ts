import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  awsClientConfig,
  BotNotAnsweringError,
  ConfigurationError,
  createWorkflowHandler,
  ecsClusterNameSchema,
  OPEN_TRADE_POLICIES,
  OpenTradesLostError,
  readEnvironment,
  secretArnSchema,
  TradesOpenError,
  taskDefinitionArnSchema,
  toWorkflowError,
  tradingServiceNameSchema,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';
import {
  type BotLogin,
  BotLoginRefused,
  BotUnreachable,
  knowsTrade,
  type OpenTrade,
  openTrades,
} from './freqtrade-api';

const ecs = new ECSClient(awsClientConfig);
const secrets = new SecretsManagerClient(awsClientConfig);

export const snapshotOpenTradesInput = z.discriminatedUnion('phase', [
  /** Before the old task stops: what it holds, and the deploy's policy for it. */
  z.strictObject({
    phase: z.literal('before'),
    service_name: tradingServiceNameSchema,
    policy: z.enum(OPEN_TRADE_POLICIES, { error: `must be one of ${OPEN_TRADE_POLICIES.join(', ')}` }),
  }),
  /** After the new task is healthy: it must know every trade the old one had open. */
  z.strictObject({
    phase: z.literal('after'),
    service_name: tradingServiceNameSchema,
    task_definition_arn: taskDefinitionArnSchema,
    before: z.object({
      read: z.boolean(),
      trade_ids: z.array(z.number().check(z.int())).check(z.maxLength(10_000)),
    }),
  }),
]);

export const environment = z.object({
  ECS_CLUSTER: ecsClusterNameSchema,
  BOT_API_SECRET_ARN: secretArnSchema,
  /** One call to the bot's API; the function's own timeout is 30 s. */
  BOT_API_TIMEOUT_MS: z._default(z.coerce.number().check(z.int(), z.minimum(500), z.maximum(10_000)), 5_000),
});

export interface OpenTradesSnapshot {
  /** false: no task of the service answered (none running, or it did not answer). */
  read: boolean;
  /** Why the trades could not be read, or "". */
  reason: string;
  task_arn: string;
  trade_ids: number[];
  trades: OpenTrade[];
  /** after: trades open before that the new bot shows closed (it saw them close on start). */
  closed_since: number[];
}

const privateIpOf = (task: {
  attachments?: { type?: string; details?: { name?: string; value?: string }[] }[];
}) =>
  task.attachments
    ?.find((a) => a.type === 'ElasticNetworkInterface')
    ?.details?.find((d) => d.name === 'privateIPv4Address')?.value;

/** The service's RUNNING task (of `taskDefinition` when given), with its private address. */
const runningTask = async (cluster: string, service: string, taskDefinition?: string) => {
  const { taskArns = [] } = await ecs
    .send(new ListTasksCommand({ cluster, serviceName: service, desiredStatus: 'RUNNING' }))
    .catch((error: unknown) => {
      throw toWorkflowError(error, `Listing the tasks of ${service}`);
    });
  if (taskArns.length === 0) return undefined;
  const { tasks = [] } = await ecs
    .send(new DescribeTasksCommand({ cluster, tasks: taskArns.slice(0, 100) }))
    .catch((error: unknown) => {
      throw toWorkflowError(error, `Describing the tasks of ${service}`);
    });
  const task = tasks.find(
    (t) =>
      t.lastStatus === 'RUNNING' && (taskDefinition === undefined || t.taskDefinitionArn === taskDefinition),
  );
  const ip = task ? privateIpOf(task) : undefined;
  return task?.taskArn && ip ? { arn: task.taskArn, ip } : undefined;
};

const loginFrom = async (secretArn: string): Promise<BotLogin> => {
  const { SecretString } = await secrets
    .send(new GetSecretValueCommand({ SecretId: secretArn }))
    .catch((error: unknown) => {
      throw toWorkflowError(error, 'Reading the bot API secret');
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(SecretString ?? '');
  } catch {
    parsed = undefined;
  }
  const login = parsed as Partial<BotLogin> | undefined;
  if (typeof login?.username !== 'string' || typeof login.password !== 'string')
    throw new ConfigurationError('The bot API secret must be JSON with username and password');
  return { username: login.username, password: login.password };
};

const unread = (reason: string, taskArn = ''): OpenTradesSnapshot => ({
  read: false,
  reason,
  task_arn: taskArn,
  trade_ids: [],
  trades: [],
  closed_since: [],
});

/**
 * Before a deploy stops a bot, the trades it holds open (freqtrade's `/api/v1/status`); after the
 * new bot is healthy, proof that it knows every one of them (open, or closed since): its database
 * is the old one's (docs/decisions/0046). With the `refuse` policy, a bot with open trades (or
 * whose trades cannot be read) is not stopped.
 */
export const { handler } = createWorkflowHandler({
  service: 'snapshot-open-trades',
  input: snapshotOpenTradesInput,
  handle: async (input, tools): Promise<OpenTradesSnapshot> => {
    const env = readEnvironment(environment);
    if (input.phase === 'after' && !input.before.read) return unread("the old bot's trades were not read");
    const task = await runningTask(
      env.ECS_CLUSTER,
      input.service_name,
      input.phase === 'after' ? input.task_definition_arn : undefined,
    );
    if (!task) {
      if (input.phase === 'after')
        throw new BotNotAnsweringError(
          `${input.service_name}: no RUNNING task of ${input.task_definition_arn}`,
        );
      if (input.policy === 'refuse')
        throw new TradesOpenError(
          `${input.service_name} runs no task, so its open trades cannot be read; the refuse policy needs them read`,
        );
      return unread('no RUNNING task (the service is scaled to 0, or its task stopped)');
    }
    const login = await loginFrom(env.BOT_API_SECRET_ARN);
    let trades: OpenTrade[];
    try {
      trades = await openTrades(task.ip, login, env.BOT_API_TIMEOUT_MS);
    } catch (error) {
      if (error instanceof BotLoginRefused) throw new ConfigurationError(error.message);
      if (!(error instanceof BotUnreachable)) throw error;
      if (input.phase === 'after') throw new BotNotAnsweringError(`${input.service_name}: ${error.message}`);
      if (input.policy === 'refuse')
        throw new TradesOpenError(
          `${input.service_name}: its open trades cannot be read (${error.message}); the refuse policy needs them read`,
        );
      return unread(error.message, task.arn);
    }
    const ids = trades.map((t) => t.trade_id);
    if (input.phase === 'before') {
      tools.metrics.addMetric('OpenTradesBeforeDeploy', MetricUnit.Count, ids.length);
      if (input.policy === 'refuse' && ids.length > 0)
        throw new TradesOpenError(
          `${input.service_name} has ${ids.length} open trade(s) (${trades.map((t) => `#${t.trade_id} ${t.pair}`).join(', ')}); this deploy's policy refuses while any is open`,
        );
      return { read: true, reason: '', task_arn: task.arn, trade_ids: ids, trades, closed_since: [] };
    }
    const missing = input.before.trade_ids.filter((id) => !ids.includes(id));
    const closed: number[] = [];
    const lost: number[] = [];
    for (const id of missing) {
      try {
        ((await knowsTrade(task.ip, id, login, env.BOT_API_TIMEOUT_MS)) ? closed : lost).push(id);
      } catch (error) {
        if (error instanceof BotUnreachable)
          throw new BotNotAnsweringError(`${input.service_name}: ${error.message}`);
        throw error;
      }
    }
    if (lost.length > 0) {
      tools.metrics.addMetric('OpenTradesLost', MetricUnit.Count, lost.length);
      throw new OpenTradesLostError(
        `The new bot of ${input.service_name} does not know trade(s) ${lost.map((id) => `#${id}`).join(', ')} that the old one had open: its database is not the old one's`,
      );
    }
    return { read: true, reason: '', task_arn: task.arn, trade_ids: ids, trades, closed_since: closed };
  },
});
