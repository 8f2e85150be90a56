import { MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import {
  awsClientConfig,
  BotNotAnsweringError,
  ConfigurationError,
  createWorkflowHandler,
  ecsClusterNameSchema,
  MAX_ROLLOUT_SECONDS,
  ROLLOUT_POLL_SECONDS,
  RolloutFailedError,
  RolloutInProgressError,
  RolloutTimedOutError,
  readEnvironment,
  taskDefinitionArnSchema,
  toWorkflowError,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';

const ecs = new ECSClient(awsClientConfig);

export const checkServiceRolloutInput = z.strictObject({
  service_name: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,255}$/, { error: 'must be an ECS service name' })),
  task_definition_arn: taskDefinitionArnSchema,
});

export const environment = z.object({
  ECS_CLUSTER: ecsClusterNameSchema,
  /** Fargate provisioning, image pull and container start of one task (per environment). */
  ROLLOUT_TASK_START_SECONDS: z._default(
    z.coerce.number().check(z.int(), z.minimum(30), z.maximum(900)),
    180,
  ),
  /** The target group's deregistration delay, for a service behind a load balancer (ELB's default). */
  ROLLOUT_DEREGISTRATION_DELAY_SECONDS: z._default(
    z.coerce.number().check(z.int(), z.minimum(0), z.maximum(3_600)),
    300,
  ),
});

/**
 * How long the bot's health check may take to decide once ECS runs the task: its start period and
 * three failed checks (pin-task-definition BOT_HEALTH_CHECK: 120 s + 3 x 30 s).
 */
export const BOT_HEALTH_SECONDS = 120 + 3 * 30;

/** ECS's default stopTimeout: SIGTERM, then SIGKILL 30 s later. */
export const STOP_TIMEOUT_SECONDS = 30;

/**
 * How long a stop-before-start rollout of this service may take (docs/decisions/0031): the old task
 * stops (stop timeout, plus the deregistration delay behind a load balancer), the new one starts,
 * ECS waits out the health-check grace period, and one poll sees it. Never more than the machine's
 * retry budget allows.
 */
export const rolloutBudgetSeconds = (
  service: { healthCheckGracePeriodSeconds?: number; loadBalancers?: unknown[] },
  settings: { taskStartSeconds: number; deregistrationDelaySeconds: number },
): number => {
  const deregistration = (service.loadBalancers?.length ?? 0) > 0 ? settings.deregistrationDelaySeconds : 0;
  const needed =
    STOP_TIMEOUT_SECONDS +
    deregistration +
    settings.taskStartSeconds +
    (service.healthCheckGracePeriodSeconds ?? 0) +
    ROLLOUT_POLL_SECONDS;
  return Math.min(needed, MAX_ROLLOUT_SECONDS);
};

export interface RolloutState {
  state: 'COMPLETED';
  running: number;
  desired: number;
  /** The bot's tasks that pass their health check (freqtrade answers and is running). */
  healthy: number;
}

/**
 * The health of the service's RUNNING tasks of `taskDefinition`, as ECS reports the container
 * health check (HEALTHY, UNHEALTHY, UNKNOWN while the check has not yet decided).
 */
const taskHealth = async (cluster: string, service: string, taskDefinition: string) => {
  const { taskArns = [] } = await ecs
    .send(new ListTasksCommand({ cluster, serviceName: service, desiredStatus: 'RUNNING' }))
    .catch((error: unknown) => {
      throw toWorkflowError(error, `Listing the tasks of ${service}`);
    });
  if (taskArns.length === 0) return [];
  const { tasks = [] } = await ecs
    .send(new DescribeTasksCommand({ cluster, tasks: taskArns.slice(0, 100) }))
    .catch((error: unknown) => {
      throw toWorkflowError(error, `Describing the tasks of ${service}`);
    });
  return tasks
    .filter((task) => task.taskDefinitionArn === taskDefinition && task.lastStatus === 'RUNNING')
    .map((task) => task.healthStatus ?? 'UNKNOWN');
};

/**
 * Whether the service finished rolling out `task_definition_arn`: COMPLETED returns; still rolling
 * out throws `RolloutInProgressError` (the state machine retries it), until the service's own
 * budget has passed since the deployment was created (`RolloutTimedOutError`); ECS giving up
 * (its circuit breaker), or another deployment taking over, throws `RolloutFailedError`.
 */
export const { handler } = createWorkflowHandler({
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
      const ours = service.deployments?.find(
        (deployment) => deployment.taskDefinition === task_definition_arn,
      );
      throw new RolloutFailedError(
        ours?.rolloutState === 'FAILED'
          ? `Rollout of ${task_definition_arn} failed and ECS rolled the service back to ${primary?.taskDefinition ?? 'nothing'}: ${ours.rolloutStateReason ?? 'no reason given'}`
          : `Service ${service_name} now rolls out ${primary?.taskDefinition ?? 'nothing'}, not ${task_definition_arn}: another deployment took over`,
      );
    }
    const running = primary.runningCount ?? 0;
    const desired = primary.desiredCount ?? 0;
    if (primary.rolloutState === 'FAILED') {
      throw new RolloutFailedError(
        `Rollout of ${task_definition_arn} failed: ${primary.rolloutStateReason ?? 'no reason given'}`,
      );
    }
    const budget = rolloutBudgetSeconds(service, {
      taskStartSeconds: env.ROLLOUT_TASK_START_SECONDS,
      deregistrationDelaySeconds: env.ROLLOUT_DEREGISTRATION_DELAY_SECONDS,
    });
    const elapsed = primary.createdAt ? (Date.now() - primary.createdAt.getTime()) / 1000 : 0;
    if (primary.rolloutState !== 'COMPLETED' || running < desired) {
      if (elapsed > budget) {
        tools.metrics.addMetric('RolloutsTimedOut', MetricUnit.Count, 1);
        throw new RolloutTimedOutError(
          `${service_name}: ${running}/${desired} tasks running (${primary.rolloutState ?? 'unknown'}) after ${Math.round(elapsed)} s; this service's rollout should take at most ${budget} s`,
        );
      }
      tools.metrics.addMetric('RolloutChecksInProgress', MetricUnit.Count, 1);
      throw new RolloutInProgressError(
        `${service_name}: ${running}/${desired} tasks running (${primary.rolloutState ?? 'unknown'})`,
      );
    }
    // ECS says RUNNING; healthy means freqtrade answers (the task's health check, pin-task-definition).
    const health = desired === 0 ? [] : await taskHealth(env.ECS_CLUSTER, service_name, task_definition_arn);
    const healthy = health.filter((status) => status === 'HEALTHY').length;
    if (health.includes('UNHEALTHY')) {
      tools.metrics.addMetric('BotsNotAnswering', MetricUnit.Count, 1);
      throw new BotNotAnsweringError(
        `${service_name}: ECS runs ${task_definition_arn}, but its health check fails: freqtrade does not answer /api/v1/ping, or is not running`,
      );
    }
    if (healthy < desired) {
      if (elapsed > budget + BOT_HEALTH_SECONDS) {
        tools.metrics.addMetric('BotsNotAnswering', MetricUnit.Count, 1);
        throw new BotNotAnsweringError(
          `${service_name}: ${healthy}/${desired} tasks healthy ${Math.round(elapsed)} s after the deploy: freqtrade never answered its health check`,
        );
      }
      tools.metrics.addMetric('RolloutChecksInProgress', MetricUnit.Count, 1);
      throw new RolloutInProgressError(
        `${service_name}: ${healthy}/${desired} tasks healthy (health check pending)`,
      );
    }
    tools.metrics.addMetric('RolloutsCompleted', MetricUnit.Count, 1);
    return { state: 'COMPLETED', running, desired, healthy };
  },
});
