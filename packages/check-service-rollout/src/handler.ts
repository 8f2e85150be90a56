import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import {
  awsClientConfig,
  ConfigurationError,
  createWorkflowHandler,
  RolloutFailedError,
  RolloutInProgressError,
  readEnvironment,
  toWorkflowError,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';

const ecs = new ECSClient(awsClientConfig);

export const checkServiceRolloutInput = z.strictObject({
  service_name: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,255}$/, { error: 'must be an ECS service name' })),
  task_definition_arn: z.string().check(
    z.regex(/^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]{1,255}:\d+$/, {
      error: 'must be an ECS task definition revision ARN',
    }),
  ),
});

const environment = z.object({
  ECS_CLUSTER: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,255}$/, { error: 'must be an ECS cluster name' })),
});

export interface RolloutState {
  state: 'COMPLETED';
  running: number;
  desired: number;
}

/**
 * Whether the service finished rolling out `task_definition_arn`: COMPLETED returns; still rolling
 * out throws `RolloutInProgressError` (the state machine retries it, a bounded number of times);
 * ECS giving up, or another deployment taking over, throws `RolloutFailedError`.
 */
export const { handler, logger, metrics } = createWorkflowHandler({
  service: 'check-service-rollout',
  input: checkServiceRolloutInput,
  handle: async ({ service_name, task_definition_arn }, tools): Promise<RolloutState> => {
    const env = readEnvironment(environment);
    const { services = [] } = await ecs
      .send(new DescribeServicesCommand({ cluster: env.ECS_CLUSTER, services: [service_name] }))
      .catch((error: unknown) => {
        throw toWorkflowError(error, `Describing service ${service_name}`);
      });
    const [service] = services;
    if (!service)
      throw new ConfigurationError(`Service ${service_name} does not exist on cluster ${env.ECS_CLUSTER}`);
    const primary = service.deployments?.find((deployment) => deployment.status === 'PRIMARY');
    if (primary?.taskDefinition !== task_definition_arn) {
      throw new RolloutFailedError(
        `Service ${service_name} now rolls out ${primary?.taskDefinition ?? 'nothing'}, not ${task_definition_arn}: another deployment took over`,
      );
    }
    const running = primary.runningCount ?? 0;
    const desired = primary.desiredCount ?? 0;
    if (primary.rolloutState === 'FAILED') {
      throw new RolloutFailedError(
        `Rollout of ${task_definition_arn} failed: ${primary.rolloutStateReason ?? 'no reason given'}`,
      );
    }
    if (primary.rolloutState !== 'COMPLETED' || running < desired) {
      tools.metrics.addMetric('RolloutChecksInProgress', MetricUnit.Count, 1);
      throw new RolloutInProgressError(
        `${service_name}: ${running}/${desired} tasks running (${primary.rolloutState ?? 'unknown'})`,
      );
    }
    tools.metrics.addMetric('RolloutsCompleted', MetricUnit.Count, 1);
    return { state: 'COMPLETED', running, desired };
  },
});
