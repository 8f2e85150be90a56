import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { awsError, censusOfRejections, fakeContext } from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../src';

const dynamodbMock = mockClient(DynamoDBClient);
const invoke = (request: unknown, execution_name = 'deploy-1') =>
  handler({ request, execution_name }, fakeContext('tradai-dev-validate-deployment'));

const dryRun = {
  request_id: 'deploy-1',
  strategy_name: 'MomentumStrategy',
  strategy_version: '1.0.0',
  environment: 'dry-run',
};
const live = { ...dryRun, environment: 'live', backtest_run_id: 'bt-42' };
const backtest = (overrides: Record<string, string> = {}) => ({
  Item: Object.fromEntries(
    Object.entries({
      run_id: 'bt-42',
      status: 'COMPLETED',
      strategy_name: 'MomentumStrategy',
      strategy_version: '1.0.0',
      ...overrides,
    }).map(([key, value]) => [key, { S: value }]),
  ),
});

describe('validate-deployment', () => {
  beforeEach(() => {
    vi.clearAllMocks();
    dynamodbMock.reset();
    vi.stubEnv('STAGE', 'dev');
    vi.stubEnv('WORKFLOW_STATE_TABLE', 'tradai-dev-workflow-state');
  });

  it('accepts a dry-run without any backtest, names its service, and times its lease past the machine timeout', async () => {
    // Prepare
    vi.useFakeTimers({ now: Date.parse('2026-01-05T09:00:00Z'), toFake: ['Date'] });

    // Act & Assess
    await expect(invoke(dryRun)).resolves.toEqual({
      deployment_id: 'deploy-1',
      request_id: 'deploy-1',
      strategy_name: 'MomentumStrategy',
      strategy_version: '1.0.0',
      environment: 'dry-run',
      backtest_run_id: '',
      service_name: 'tradai-dev-dry-run-momentumstrategy',
      lease: {
        now: '2026-01-05T09:00:00.000Z',
        expires_at: '2026-01-05T10:45:00.000Z',
        expires_at_epoch: String(Date.parse('2026-01-05T10:45:00Z') / 1000),
      },
    });
    expect(dynamodbMock.calls()).toHaveLength(0);
    vi.useRealTimers();
  });

  it('refuses a lease shorter than the deploy machine may run (DEPLOY_LEASE_SECONDS)', async () => {
    // Prepare
    vi.stubEnv('DEPLOY_LEASE_SECONDS', '600');

    // Act & Assess
    await expect(invoke(dryRun)).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringContaining('DEPLOY_LEASE_SECONDS'),
    });
  });

  it('accepts a live deployment resting on a COMPLETED backtest of that exact version', async () => {
    // Prepare
    dynamodbMock.on(GetItemCommand).resolves(backtest());

    // Act
    const validated = await invoke(live);

    // Assess
    expect(validated).toMatchObject({
      environment: 'live',
      backtest_run_id: 'bt-42',
      service_name: 'tradai-dev-live-momentumstrategy',
    });
    expect(dynamodbMock).toReceiveCommandWith(GetItemCommand, {
      TableName: 'tradai-dev-workflow-state',
      Key: { run_id: { S: 'bt-42' } },
      ConsistentRead: true,
    });
  });

  it.each([
    ['no such backtest', {}, 'backtest run bt-42 does not exist'],
    ['a failed backtest', backtest({ status: 'FAILED' }), 'backtest run bt-42 is FAILED, not COMPLETED'],
    ['a backtest still running', backtest({ status: 'RUNNING' }), 'is RUNNING, not COMPLETED'],
    [
      'a backtest of another version',
      backtest({ strategy_version: '0.9.0' }),
      'tested MomentumStrategy 0.9.0, not MomentumStrategy 1.0.0',
    ],
    [
      'a backtest of another strategy',
      backtest({ strategy_name: 'OtherStrategy' }),
      'tested OtherStrategy 1.0.0',
    ],
  ])('refuses a live deployment on %s with DeploymentRefusedError', async (_, answer, reason) => {
    // Prepare
    dynamodbMock.on(GetItemCommand).resolves(answer);

    // Act & Assess
    await expect(invoke(live)).rejects.toMatchObject({
      name: 'DeploymentRefusedError',
      message: expect.stringContaining(reason),
    });
  });

  it('requires the backtest run of a live deployment, naming the field', async () => {
    await expect(invoke({ ...live, backtest_run_id: undefined })).rejects.toMatchObject({
      name: 'ValidationError',
      message:
        'Invalid deploy request: backtest_run_id: is required for a live deployment (the COMPLETED backtest of this version)',
    });
  });

  it('refuses an environment the stage may not deploy to', async () => {
    // Prepare
    vi.stubEnv('ALLOWED_ENVIRONMENTS', 'dry-run');

    // Act & Assess
    await expect(invoke(live)).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'Invalid deploy request: environment: must be one of dry-run on stage dev',
    });
    expect(dynamodbMock.calls()).toHaveLength(0);
  });

  it('maps DynamoDB throttling to TransientAwsError', async () => {
    dynamodbMock.on(GetItemCommand).rejects(awsError('ProvisionedThroughputExceededException', 400));
    await expect(invoke(live)).rejects.toMatchObject({ name: 'TransientAwsError' });
  });

  it('answers any input with a validated deployment or a named error', async () => {
    // Prepare
    dynamodbMock.on(GetItemCommand).resolves(backtest());
    const events = fc.oneof(
      fc.record({
        request: fc.record({
          request_id: fc.constantFrom('d-1', '../x'),
          strategy_name: fc.constantFrom('MomentumStrategy', 'bad name'),
          strategy_version: fc.constantFrom('1.0.0', 'latest'),
          environment: fc.constantFrom('dry-run', 'live', 'prod'),
          backtest_run_id: fc.constantFrom('bt-42', 'bt/42'),
        }),
        execution_name: fc.constant('d-1'),
      }),
      fc.anything(),
    );

    // Act
    const census = await censusOfRejections(handler, events, {
      allowedErrors: ['ValidationError', 'DeploymentRefusedError'],
      numRuns: 400,
    });

    // Assess
    expect(census.answered).toBeGreaterThan(0);
    expect(census.rejected).toBeGreaterThan(0);
  });
});
