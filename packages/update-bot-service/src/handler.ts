import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import {
  awsClientConfig,
  ConfigurationError,
  createWorkflowHandler,
  ecsClusterNameSchema,
  LeaseLostError,
  readEnvironment,
  tableNameSchema,
  taskDefinitionArnSchema,
  toWorkflowError,
  tradingServiceNameSchema,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';

const ecs = new ECSClient(awsClientConfig);
const dynamodb = new DynamoDBClient(awsClientConfig);

export const updateBotServiceInput = z
  .strictObject({
    /** deploy: run `to` (the pinned revision); rollback: return from `from` (ours) to `to` (the previous). */
    action: z.enum(['deploy', 'rollback'], { error: 'must be deploy or rollback' }),
    service_name: tradingServiceNameSchema,
    from: z.optional(taskDefinitionArnSchema),
    to: taskDefinitionArnSchema,
    /** The deploy's fencing token (validate-deployment), as its lease item must still hold it. */
    lease_token: z.string().check(z.regex(/^[0-9a-f-]{36}$/, { error: 'must be the lease token (a UUID)' })),
  })
  .check(
    z.refine((input) => input.action !== 'rollback' || input.from !== undefined, {
      path: ['from'],
      error: 'is required for a rollback (the revision this deploy put there)',
    }),
  );

export const environment = z.object({
  ECS_CLUSTER: ecsClusterNameSchema,
  DEPLOY_LEASES_TABLE: tableNameSchema,
});

export interface ServiceUpdate {
  /** false: the service already ran what was asked (a retry after a reply that was lost). */
  updated: boolean;
  task_definition_arn: string;
}

/**
 * The one call that changes a bot's service, and only while this deploy holds the service's lease
 * (its fencing token, read consistently just before): a redrive that resumes here after another
 * deploy took the service over touches nothing (LeaseLostError). Idempotent: the service's task
 * definition is read first, and a deploy that finds its revision already there does not ask ECS
 * again, so a retried update restarts the bot once. Stop-before-start (docs/decisions/0031); the
 * desired count stays the service's own (0 stays 0).
 */
export const { handler } = createWorkflowHandler({
  service: 'update-bot-service',
  input: updateBotServiceInput,
  handle: async (input, tools): Promise<ServiceUpdate> => {
    const env = readEnvironment(environment);
    const { Item } = await dynamodb
      .send(
        new GetItemCommand({
          TableName: env.DEPLOY_LEASES_TABLE,
          Key: { service_name: { S: input.service_name } },
          ConsistentRead: true,
        }),
      )
      .catch((error: unknown) => {
        throw toWorkflowError(error, `Reading the lease on ${input.service_name}`);
      });
    if (Item?.token?.S !== input.lease_token) {
      tools.metrics.addMetric('ServiceUpdatesRefusedLeaseLost', MetricUnit.Count, 1);
      throw new LeaseLostError(
        `The lease on ${input.service_name} is no longer this deploy's (${Item?.execution_arn?.S ? `execution ${Item.execution_arn.S} holds it` : 'nobody holds it'}); the service was not touched. Start a new deploy.`,
      );
    }
    const { services = [] } = await ecs
      .send(new DescribeServicesCommand({ cluster: env.ECS_CLUSTER, services: [input.service_name] }))
      .catch((error: unknown) => {
        throw toWorkflowError(error, `Describing service ${input.service_name}`);
      });
    const running = services[0]?.taskDefinition;
    if (!running)
      throw new ConfigurationError(`Service ${input.service_name} does not exist on ${env.ECS_CLUSTER}`);
    const done = input.action === 'deploy' ? running === input.to : running !== input.from;
    if (done) {
      tools.logger.info('Service already updated', { ...input, running });
      return { updated: false, task_definition_arn: running };
    }
    await ecs
      .send(
        new UpdateServiceCommand({
          cluster: env.ECS_CLUSTER,
          service: input.service_name,
          taskDefinition: input.to,
          deploymentConfiguration: { maximumPercent: 100, minimumHealthyPercent: 0 },
          // Each deploy pins its own revision, so a deploy is a change; a rollback must restart
          // the bot on the previous revision even when ECS already lists it.
          forceNewDeployment: input.action === 'rollback',
        }),
      )
      .catch((error: unknown) => {
        throw toWorkflowError(error, `Updating service ${input.service_name}`);
      });
    tools.metrics.addMetric('ServiceUpdates', MetricUnit.Count, 1);
    tools.logger.info('Service updated', { ...input });
    return { updated: true, task_definition_arn: input.to };
  },
});
