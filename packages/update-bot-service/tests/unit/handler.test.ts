import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { awsError, censusOfRejections, fakeContext } from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../src';

const ecsMock = mockClient(ECSClient);
const dynamodbMock = mockClient(DynamoDBClient);
const invoke = (input: unknown) => handler(input, fakeContext('tradai-dev-update-bot-service'));

const SERVICE = 'tradai-dev-live-momentumstrategy';
const TOKEN = '3f2b8c1e-9a4d-4e7b-8c2a-1d5e6f7a8b9c';
const OTHER_TOKEN = '00000000-1111-4222-8333-444455556666';
const FAMILY = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/tradai-dev-trading-live-MomentumStrategy';
const PINNED = `${FAMILY}:3`;
const PREVIOUS = `${FAMILY}:2`;
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:tradai-dev-deploy:deploy-1';

const deploy = { action: 'deploy', service_name: SERVICE, to: PINNED, lease_token: TOKEN };
const rollback = {
  action: 'rollback',
  service_name: SERVICE,
  from: PINNED,
  to: PREVIOUS,
  lease_token: TOKEN,
};

const lease = (token = TOKEN, execution_arn = EXECUTION) =>
  dynamodbMock.on(GetItemCommand).resolves({
    Item: {
      service_name: { S: SERVICE },
      execution_arn: { S: execution_arn },
      token: { S: token },
      expires_at: { S: '2026-01-05T10:45:00.000Z' },
    },
  });
const serviceRuns = (taskDefinition: string) =>
  ecsMock
    .on(DescribeServicesCommand)
    .resolves({ services: [{ serviceName: SERVICE, taskDefinition, desiredCount: 1 }] });

describe('update-bot-service', () => {
  beforeEach(() => {
    vi.clearAllMocks();
    ecsMock.reset();
    dynamodbMock.reset();
    vi.stubEnv('ECS_CLUSTER', 'tradai-dev');
    vi.stubEnv('DEPLOY_LEASES_TABLE', 'tradai-dev-deploy-leases');
    ecsMock.on(UpdateServiceCommand).resolves({ service: { serviceName: SERVICE } });
  });

  it('moves the service to the pinned revision, stop-before-start, keeping its desired count, while the lease is ours', async () => {
    // Prepare
    lease();
    serviceRuns(PREVIOUS);

    // Act
    const update = await invoke(deploy);

    // Assess
    expect(update).toEqual({ updated: true, task_definition_arn: PINNED });
    expect(dynamodbMock).toReceiveCommandWith(GetItemCommand, {
      TableName: 'tradai-dev-deploy-leases',
      Key: { service_name: { S: SERVICE } },
      ConsistentRead: true,
    });
    expect(ecsMock).toReceiveCommandWith(DescribeServicesCommand, {
      cluster: 'tradai-dev',
      services: [SERVICE],
    });
    expect(ecsMock).toReceiveCommandTimes(UpdateServiceCommand, 1);
    const [sent] = ecsMock.commandCalls(UpdateServiceCommand);
    expect(sent?.args[0].input).toEqual({
      cluster: 'tradai-dev',
      service: SERVICE,
      taskDefinition: PINNED,
      deploymentConfiguration: { maximumPercent: 100, minimumHealthyPercent: 0 },
      forceNewDeployment: false,
    });
    expect(sent?.args[0].input).not.toHaveProperty('desiredCount');
  });

  it('does not update a service that already runs the pinned revision (a retry after a lost reply)', async () => {
    // Prepare
    lease();
    serviceRuns(PINNED);

    // Act
    const update = await invoke(deploy);

    // Assess
    expect(update).toEqual({ updated: false, task_definition_arn: PINNED });
    expect(ecsMock).not.toReceiveCommand(UpdateServiceCommand);
  });

  it.each([
    ['nobody holds the lease', () => dynamodbMock.on(GetItemCommand).resolves({}), 'nobody holds it'],
    [
      'another deploy took the lease',
      () => lease(OTHER_TOKEN, `${EXECUTION}-2`),
      `execution ${EXECUTION}-2 holds it`,
    ],
  ])('throws LeaseLostError and touches nothing when %s', async (_, arrange, holder) => {
    // Prepare
    arrange();
    serviceRuns(PREVIOUS);

    // Act & Assess
    await expect(invoke(deploy)).rejects.toMatchObject({
      name: 'LeaseLostError',
      message: expect.stringContaining(holder),
    });
    expect(ecsMock).not.toReceiveCommand(DescribeServicesCommand);
    expect(ecsMock).not.toReceiveCommand(UpdateServiceCommand);
  });

  it('rolls back from our revision to the previous one, forcing a new deployment', async () => {
    // Prepare
    lease();
    serviceRuns(PINNED);

    // Act
    const update = await invoke(rollback);

    // Assess
    expect(update).toEqual({ updated: true, task_definition_arn: PREVIOUS });
    expect(ecsMock).toReceiveCommandWith(UpdateServiceCommand, {
      cluster: 'tradai-dev',
      service: SERVICE,
      taskDefinition: PREVIOUS,
      deploymentConfiguration: { maximumPercent: 100, minimumHealthyPercent: 0 },
      forceNewDeployment: true,
    });
  });

  it.each([
    ['already runs the previous revision (a retried rollback)', PREVIOUS],
    ['runs a revision someone else deployed', `${FAMILY}:4`],
  ])('does not roll back a service that no longer runs our revision: it %s', async (_, running) => {
    // Prepare
    lease();
    serviceRuns(running);

    // Act
    const update = await invoke(rollback);

    // Assess
    expect(update).toEqual({ updated: false, task_definition_arn: running });
    expect(ecsMock).not.toReceiveCommand(UpdateServiceCommand);
  });

  it('reports a service missing from the cluster as a ConfigurationError', async () => {
    // Prepare
    lease();
    ecsMock
      .on(DescribeServicesCommand)
      .resolves({ services: [], failures: [{ arn: SERVICE, reason: 'MISSING' }] });

    // Act & Assess
    await expect(invoke(deploy)).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringContaining(`Service ${SERVICE} does not exist on tradai-dev`),
    });
    expect(ecsMock).not.toReceiveCommand(UpdateServiceCommand);
  });

  it.each([
    [
      'UpdateService fails with a ServerException',
      () => ecsMock.on(UpdateServiceCommand).rejects(awsError('ServerException', 500)),
    ],
    [
      'DescribeServices is throttled',
      () => ecsMock.on(DescribeServicesCommand).rejects(awsError('ThrottlingException', 400)),
    ],
    [
      'the lease read is throttled',
      () => dynamodbMock.on(GetItemCommand).rejects(awsError('ProvisionedThroughputExceededException', 400)),
    ],
  ])('maps %s to TransientAwsError, for the state machine to retry', async (_, arrange) => {
    // Prepare
    lease();
    serviceRuns(PREVIOUS);
    arrange();

    // Act & Assess
    await expect(invoke(deploy)).rejects.toMatchObject({ name: 'TransientAwsError' });
  });

  it('reports ECS denying the update as a ConfigurationError', async () => {
    // Prepare
    lease();
    serviceRuns(PREVIOUS);
    ecsMock.on(UpdateServiceCommand).rejects(awsError('AccessDeniedException', 400));

    // Act & Assess
    await expect(invoke(deploy)).rejects.toMatchObject({ name: 'ConfigurationError' });
  });

  it.each([
    [
      'a lease token that is not a UUID',
      { lease_token: 'not-a-token' },
      'lease_token: must be the lease token (a UUID)',
    ],
    ['no lease token', { lease_token: undefined }, 'lease_token'],
    ['an unknown action', { action: 'restart' }, 'action: must be deploy or rollback'],
    [
      'a task definition family instead of a revision',
      { to: FAMILY },
      'to: must be an ECS task definition revision ARN',
    ],
    ['a service name with spaces', { service_name: 'bad name' }, 'service_name'],
  ])('refuses %s with a ValidationError naming the field, before any call', async (_, change, message) => {
    // Act & Assess
    await expect(invoke({ ...deploy, ...change })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining(message),
    });
    expect(dynamodbMock.calls()).toHaveLength(0);
    expect(ecsMock.calls()).toHaveLength(0);
  });

  it('reports a lease table that is not a table name as a ConfigurationError', async () => {
    // Prepare
    vi.stubEnv('DEPLOY_LEASES_TABLE', 'no');

    // Act & Assess
    await expect(invoke(deploy)).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringContaining('DEPLOY_LEASES_TABLE'),
    });
    expect(ecsMock.calls()).toHaveLength(0);
  });

  it('answers any input with a service update or a named error, never a TypeError', async () => {
    // Prepare
    lease();
    serviceRuns(PINNED);
    const events = fc.oneof(
      fc.record(
        {
          action: fc.constantFrom('deploy', 'rollback', 'restart'),
          service_name: fc.constantFrom(SERVICE, 'bad name'),
          from: fc.constantFrom(PINNED, PREVIOUS, 'not-an-arn'),
          to: fc.constantFrom(PINNED, PREVIOUS, FAMILY),
          lease_token: fc.constantFrom(TOKEN, OTHER_TOKEN, 'token'),
        },
        { requiredKeys: ['action', 'service_name', 'to', 'lease_token'] },
      ),
      fc.anything(),
    );

    // Act
    const census = await censusOfRejections(handler, events, {
      allowedErrors: ['ValidationError', 'LeaseLostError'],
      numRuns: 300,
    });

    // Assess
    expect(census.answered).toBeGreaterThan(0);
    expect(census.byName.ValidationError).toBeGreaterThan(0);
  });

  it('refuses a rollback that does not say which revision it rolls back from, touching nothing', async () => {
    // Act & Assess (before the fix it answered updated: false and left the bot on the failed revision)
    await expect(
      invoke({ action: 'rollback', service_name: SERVICE, to: PREVIOUS, lease_token: TOKEN }),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('from: is required for a rollback'),
    });
    expect(ecsMock.calls()).toHaveLength(0);
    expect(dynamodbMock.calls()).toHaveLength(0);
  });
});
