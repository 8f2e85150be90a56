import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
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

describe('check-service-rollout', () => {
  beforeEach(() => {
    vi.clearAllMocks();
    ecsMock.reset();
    vi.stubEnv('ECS_CLUSTER', 'tradai-dev');
  });

  it('returns COMPLETED once the new task definition runs every desired task', async () => {
    // Prepare
    service({});

    // Act & Assess
    await expect(invoke(event)).resolves.toEqual({ state: 'COMPLETED', running: 2, desired: 2 });
    expect(ecsMock).toReceiveCommandWith(DescribeServicesCommand, {
      cluster: 'tradai-dev',
      services: [event.service_name],
    });
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
