import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import { awsError, censusOfRejections, fakeContext } from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler, rolloutBudgetSeconds } from '../../src';

const ecsMock = mockClient(ECSClient);
const TD = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/tradai-dev-trading-live-MomentumStrategy:3';
const OLD = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/tradai-dev-trading-live-MomentumStrategy:2';
const event = { service_name: 'tradai-dev-live-momentumstrategy', task_definition_arn: TD };
const invoke = (input: unknown) => handler(input, fakeContext('tradai-dev-check-service-rollout'));

const service = (primary: Record<string, unknown>) =>
  ecsMock.on(DescribeServicesCommand).resolves({
    services: [
      {
        serviceName: event.service_name,
        deployments: [
          {
            status: 'PRIMARY',
            taskDefinition: TD,
            desiredCount: 2,
            runningCount: 2,
            rolloutState: 'COMPLETED',
            ...primary,
          },
          { status: 'ACTIVE', taskDefinition: OLD, desiredCount: 2, runningCount: 0 },
        ],
      },
    ],
  });

/** The service's RUNNING tasks of `taskDefinition`, with the container health ECS reports. */
const tasks = (health: string[], taskDefinition = TD) => {
  const arns = health.map((_, i) => `arn:aws:ecs:eu-west-1:123456789012:task/tradai-dev/${i}`);
  ecsMock.on(ListTasksCommand).resolves({ taskArns: arns });
  ecsMock.on(DescribeTasksCommand).resolves({
    tasks: health.map((healthStatus, i) => ({
      taskArn: arns[i],
      taskDefinitionArn: taskDefinition,
      lastStatus: 'RUNNING',
      healthStatus: healthStatus as never,
    })),
  });
};

describe('check-service-rollout', () => {
  beforeEach(() => {
    vi.clearAllMocks();
    ecsMock.reset();
    vi.stubEnv('ECS_CLUSTER', 'tradai-dev');
    tasks(['HEALTHY', 'HEALTHY']);
  });

  it('returns COMPLETED once the new task definition runs every desired task', async () => {
    // Prepare
    service({});

    // Act & Assess
    await expect(invoke(event)).resolves.toEqual({ state: 'COMPLETED', running: 2, desired: 2, healthy: 2 });
    expect(ecsMock).toReceiveCommandWith(DescribeServicesCommand, {
      cluster: 'tradai-dev',
      services: [event.service_name],
    });
    expect(ecsMock).toReceiveCommandWith(ListTasksCommand, {
      cluster: 'tradai-dev',
      serviceName: event.service_name,
      desiredStatus: 'RUNNING',
    });
  });

  it('throws BotNotAnsweringError when ECS runs the task but its health check fails (freqtrade does not answer)', async () => {
    // Prepare
    service({});
    tasks(['HEALTHY', 'UNHEALTHY']);

    // Act & Assess
    await expect(invoke(event)).rejects.toMatchObject({
      name: 'BotNotAnsweringError',
      message: expect.stringContaining('/api/v1/ping'),
    });
  });

  it('waits while the health check has not decided, then gives up past the budget with BotNotAnsweringError', async () => {
    // Prepare: ECS says COMPLETED, the health check still UNKNOWN
    tasks(['UNKNOWN', 'UNKNOWN']);
    service({ createdAt: new Date(Date.now() - 60_000) });

    // Act & Assess: within the budget, the state machine polls again
    await expect(invoke(event)).rejects.toMatchObject({
      name: 'RolloutInProgressError',
      message: expect.stringContaining('0/2 tasks healthy'),
    });

    // Prepare: long past the rollout budget and the health check's own time
    service({ createdAt: new Date(Date.now() - 3_600_000) });

    // Act & Assess
    await expect(invoke(event)).rejects.toMatchObject({ name: 'BotNotAnsweringError' });
  });

  it('counts only tasks of the deployed revision as healthy', async () => {
    // Prepare: the healthy tasks are the old revision's
    service({});
    tasks(['HEALTHY', 'HEALTHY'], OLD);

    // Act & Assess
    await expect(invoke(event)).rejects.toMatchObject({ name: 'RolloutInProgressError' });
  });

  it('asks no task of a paused bot (desired count 0)', async () => {
    // Prepare
    service({ desiredCount: 0, runningCount: 0 });

    // Act & Assess
    await expect(invoke(event)).resolves.toEqual({ state: 'COMPLETED', running: 0, desired: 0, healthy: 0 });
    expect(ecsMock.commandCalls(ListTasksCommand)).toHaveLength(0);
  });

  it.each([
    ['rolling out', { rolloutState: 'IN_PROGRESS', runningCount: 1 }],
    ['marked complete with tasks still starting', { rolloutState: 'COMPLETED', runningCount: 1 }],
  ])('throws RolloutInProgressError while %s, for the state machine to retry', async (_, primary) => {
    service(primary);
    await expect(invoke(event)).rejects.toMatchObject({
      name: 'RolloutInProgressError',
      message: expect.stringContaining('1/2 tasks running'),
    });
  });

  it('throws RolloutFailedError with ECS reason when the circuit breaker stops the rollout', async () => {
    service({
      rolloutState: 'FAILED',
      rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
    });
    await expect(invoke(event)).rejects.toMatchObject({
      name: 'RolloutFailedError',
      message: expect.stringContaining('circuit breaker'),
    });
  });

  it('says ECS rolled the service back when its circuit breaker failed our deployment and made the old one PRIMARY', async () => {
    // Prepare
    ecsMock.on(DescribeServicesCommand).resolves({
      services: [
        {
          serviceName: event.service_name,
          deployments: [
            {
              status: 'PRIMARY',
              taskDefinition: OLD,
              desiredCount: 1,
              runningCount: 1,
              rolloutState: 'IN_PROGRESS',
            },
            {
              status: 'ACTIVE',
              taskDefinition: TD,
              rolloutState: 'FAILED',
              rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
            },
          ],
        },
      ],
    });

    // Act & Assess
    await expect(invoke(event)).rejects.toMatchObject({
      name: 'RolloutFailedError',
      message: expect.stringContaining(`ECS rolled the service back to ${OLD}`),
    });
  });

  it.each([
    ['no load balancer, no grace period', {}, 240],
    ['a 60 s grace period', { healthCheckGracePeriodSeconds: 60 }, 300],
    [
      'a load balancer (300 s deregistration delay)',
      { loadBalancers: [{}], healthCheckGracePeriodSeconds: 60 },
      600,
    ],
    ['a grace period longer than the machine waits', { healthCheckGracePeriodSeconds: 3_000 }, 1_200],
  ])('allows a rollout with %s %i s', (_, settings, budget) => {
    expect(rolloutBudgetSeconds(settings, { taskStartSeconds: 180, deregistrationDelaySeconds: 300 })).toBe(
      budget,
    );
  });

  it("throws RolloutTimedOutError once the rollout has run past its service's budget, and not before", async () => {
    // Prepare: created 239 s, then 241 s ago, for a 240 s budget
    const createdAt = (secondsAgo: number) => new Date(Date.now() - secondsAgo * 1000);
    service({ rolloutState: 'IN_PROGRESS', runningCount: 0, createdAt: createdAt(239) });
    await expect(invoke(event)).rejects.toMatchObject({ name: 'RolloutInProgressError' });
    service({ rolloutState: 'IN_PROGRESS', runningCount: 0, createdAt: createdAt(241) });

    // Act & Assess
    await expect(invoke(event)).rejects.toMatchObject({
      name: 'RolloutTimedOutError',
      message: expect.stringContaining('should take at most 240 s'),
    });
  });

  it('throws RolloutFailedError when another deployment took over the service', async () => {
    service({ taskDefinition: OLD });
    await expect(invoke(event)).rejects.toMatchObject({
      name: 'RolloutFailedError',
      message: expect.stringContaining('another deployment took over'),
    });
  });

  it('reports a missing service as a ConfigurationError', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .resolves({ services: [], failures: [{ arn: event.service_name, reason: 'MISSING' }] });
    await expect(invoke(event)).rejects.toMatchObject({ name: 'ConfigurationError' });
  });

  it('refuses a task definition that is not a revision ARN, before any ECS call', async () => {
    await expect(
      invoke({ ...event, task_definition_arn: 'tradai-dev-trading-live-MomentumStrategy' }),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('task_definition_arn: must be an ECS task definition revision ARN'),
    });
    expect(ecsMock.calls()).toHaveLength(0);
  });

  it('maps ECS throttling to TransientAwsError', async () => {
    ecsMock.on(DescribeServicesCommand).rejects(awsError('ThrottlingException', 400));
    await expect(invoke(event)).rejects.toMatchObject({ name: 'TransientAwsError' });
  });

  it('answers any input with a state or a named error, never a TypeError', async () => {
    // Prepare
    service({});
    const events = fc.oneof(
      fc.record({
        service_name: fc.constantFrom(event.service_name, 'bad name', ''),
        task_definition_arn: fc.constantFrom(TD, OLD, 'not-an-arn'),
      }),
      fc.anything(),
    );

    // Act
    const census = await censusOfRejections(handler, events, {
      allowedErrors: ['ValidationError', 'RolloutFailedError'],
      numRuns: 300,
    });

    // Assess
    expect(census.answered).toBeGreaterThan(0);
    expect(census.byName.RolloutFailedError).toBeGreaterThan(0);
    expect(census.byName.ValidationError).toBeGreaterThan(0);
  });
});
