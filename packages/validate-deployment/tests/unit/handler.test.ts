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
const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:tradai/exchange/binance-main-AbCdEf';
const live = {
  ...dryRun,
  environment: 'live',
  backtest_run_id: 'bt-42',
  exchange_credentials: { secret_arn: SECRET },
};
const IMAGE =
  '123456789012.dkr.ecr.us-east-1.amazonaws.com/tradai/strategies/momentumstrategy@sha256:5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f5e1f';
const item = (attributes: Record<string, string>) => ({
  Item: Object.fromEntries(Object.entries(attributes).map(([key, value]) => [key, { S: value }])),
});
/** A backtest as RecordCompleted leaves it: what it tested, and its figures. */
const backtest = (overrides: Record<string, string> = {}) =>
  item({
    run_id: 'bt-42',
    status: 'COMPLETED',
    workflow: 'backtest',
    strategy_name: 'MomentumStrategy',
    strategy_version: '1.0.0',
    image_uri: IMAGE,
    strategy_hash: 'sha256:abc',
    config_path: 's3://tradai-dev-backtest-runs/runs/bt-42/config.json',
    params_path: '',
    result: JSON.stringify({ total_trades: 120, max_drawdown: 8.4 }),
    ...overrides,
  });
const sweep = (winner: Record<string, unknown> | null, overrides: Record<string, string> = {}) =>
  item({
    run_id: 'sw-1',
    status: 'COMPLETED',
    workflow: 'backtest-sweep',
    result: JSON.stringify({ winner }),
    ...overrides,
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

    // Act
    const validated = await invoke(dryRun);

    // Assess
    expect(validated).toMatchObject({
      deployment_id: 'deploy-1',
      request_id: 'deploy-1',
      strategy_name: 'MomentumStrategy',
      strategy_version: '1.0.0',
      environment: 'dry-run',
      backtest_run_id: '',
      tested: { run_id: '', image_uri: '', strategy_hash: '' },
      exchange_credentials: null,
      open_trades: 'keep',
      dry_run_wallet: 1000,
      requested_by: 'StartExecution (not through the API)',
      service_name: 'tradai-dev-dry-run-momentumstrategy',
      lease: {
        now: '2026-01-05T09:00:00.000Z',
        // 8,100 s: past the deploy machine's 7,200 s timeout.
        expires_at: '2026-01-05T11:15:00.000Z',
        expires_at_epoch: String(Date.parse('2026-01-05T11:15:00Z') / 1000),
      },
    });
    expect(validated.lease.token).toMatch(/^[0-9a-f-]{36}$/);
    expect(dynamodbMock.calls()).toHaveLength(0);
    vi.useRealTimers();
  });

  it('gives every deploy its own fencing token', async () => {
    // Act
    const [a, b] = [await invoke(dryRun), await invoke(dryRun)];

    // Assess
    expect(a.lease.token).not.toBe(b.lease.token);
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

  it('accepts a live deployment resting on a COMPLETED backtest of that exact version, with what it tested', async () => {
    // Prepare
    vi.stubEnv('ALLOWED_ENVIRONMENTS', 'dry-run,live');
    dynamodbMock.on(GetItemCommand).resolves(backtest());

    // Act
    const validated = await invoke(live);

    // Assess
    expect(validated).toMatchObject({
      environment: 'live',
      backtest_run_id: 'bt-42',
      tested: {
        run_id: 'bt-42',
        image_uri: IMAGE,
        strategy_hash: 'sha256:abc',
        config_path: 's3://tradai-dev-backtest-runs/runs/bt-42/config.json',
        source: 'backtest bt-42',
      },
      exchange_credentials: { secret_arn: SECRET },
      service_name: 'tradai-dev-live-momentumstrategy',
    });
    expect(dynamodbMock).toReceiveCommandWith(GetItemCommand, {
      TableName: 'tradai-dev-workflow-state',
      Key: { run_id: { S: 'bt-42' } },
      ConsistentRead: true,
    });
  });

  it('refuses live on a stage that has not opted in, by default', async () => {
    await expect(invoke(live)).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('environment: must be one of dry-run on stage dev'),
    });
    expect(dynamodbMock.calls()).toHaveLength(0);
  });

  it('records the API caller, and refuses a requested_by that is not an IAM identity', async () => {
    // Prepare
    const caller = 'arn:aws:sts::123456789012:assumed-role/quant-deployer/alice';

    // Act & Assess
    await expect(invoke({ ...dryRun, requested_by: caller })).resolves.toMatchObject({
      requested_by: caller,
    });
    await expect(invoke({ ...dryRun, requested_by: 'alice' })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('requested_by'),
    });
  });

  it('lets only the live deployer role deploy live when the stage names one', async () => {
    // Prepare
    vi.stubEnv('ALLOWED_ENVIRONMENTS', 'dry-run,live');
    vi.stubEnv('LIVE_DEPLOYER_ROLE', 'live-deployer');
    dynamodbMock.on(GetItemCommand).resolves(backtest());

    // Act & Assess
    await expect(
      invoke({ ...live, requested_by: 'arn:aws:sts::123456789012:assumed-role/quant/alice' }),
    ).rejects.toMatchObject({
      name: 'DeploymentRefusedError',
      message: expect.stringContaining('live-deployer'),
    });
    await expect(
      invoke({ ...live, requested_by: 'arn:aws:sts::123456789012:assumed-role/live-deployer/ci' }),
    ).resolves.toMatchObject({ environment: 'live' });
  });

  it.each([
    ['too few trades', { total_trades: 12, max_drawdown: 8.4 }, '12 trades, below'],
    ['too deep a drawdown', { total_trades: 120, max_drawdown: 41 }, 'max drawdown of 41 %'],
    ['no drawdown recorded', { total_trades: 120 }, 'no max drawdown recorded'],
  ])('refuses a live deployment whose backtest fails the quality gates: %s', async (_, result, reason) => {
    // Prepare
    vi.stubEnv('ALLOWED_ENVIRONMENTS', 'dry-run,live');
    dynamodbMock.on(GetItemCommand).resolves(backtest({ result: JSON.stringify(result) }));

    // Act & Assess
    await expect(invoke(live)).rejects.toMatchObject({
      name: 'DeploymentRefusedError',
      message: expect.stringContaining(reason),
    });
  });

  it('refuses a backtest that predates the recorded digest and hash', async () => {
    // Prepare
    vi.stubEnv('ALLOWED_ENVIRONMENTS', 'dry-run,live');
    dynamodbMock.on(GetItemCommand).resolves(backtest({ image_uri: '', strategy_hash: '' }));

    // Act & Assess
    await expect(invoke(live)).rejects.toMatchObject({
      name: 'DeploymentRefusedError',
      message: expect.stringContaining('did not record the image digest and strategy hash'),
    });
  });

  it('promotes a sweep winner that held out of sample, by sweep and variant id', async () => {
    // Prepare
    vi.stubEnv('ALLOWED_ENVIRONMENTS', 'dry-run,live');
    const promote = { ...live, backtest_run_id: undefined, promote: { sweep_id: 'sw-1', variant: 3 } };
    dynamodbMock
      .on(GetItemCommand, { Key: { run_id: { S: 'sw-1' } } })
      .resolves(sweep({ run_id: 'sw-1-3', index: 3, rank: 1, basis: 'held out of sample' }))
      .on(GetItemCommand, { Key: { run_id: { S: 'sw-1-3' } } })
      .resolves(backtest({ run_id: 'sw-1-3' }));

    // Act
    const validated = await invoke(promote);

    // Assess
    expect(validated.tested).toMatchObject({ run_id: 'sw-1-3', source: 'sweep sw-1 variant 3' });
  });

  it.each([
    [
      'a variant that is not the winner',
      sweep({ run_id: 'sw-1-5', index: 5, basis: 'held out of sample' }),
      'variant 5 is',
    ],
    [
      'a winner ranked in sample only',
      sweep({ run_id: 'sw-1-3', index: 3, basis: 'in sample only' }),
      'in sample only',
    ],
    ['a sweep without a winner', sweep(null), 'has no winner'],
    ['a sweep still running', sweep(null, { status: 'RUNNING' }), 'is RUNNING, not COMPLETED'],
    ['no such sweep', {}, 'sweep sw-1 does not exist'],
  ])('refuses to promote %s', async (_, answer, reason) => {
    // Prepare
    vi.stubEnv('ALLOWED_ENVIRONMENTS', 'dry-run,live');
    dynamodbMock.on(GetItemCommand).resolves(answer);

    // Act & Assess
    await expect(
      invoke({ ...live, backtest_run_id: undefined, promote: { sweep_id: 'sw-1', variant: 3 } }),
    ).rejects.toMatchObject({ name: 'DeploymentRefusedError', message: expect.stringContaining(reason) });
  });

  it.each([
    [
      'live without keys',
      { ...live, exchange_credentials: undefined },
      'exchange_credentials: is required for a live deployment',
    ],
    [
      'dry-run with keys',
      { ...dryRun, exchange_credentials: { secret_arn: SECRET } },
      'exchange_credentials: must not be set for a dry-run',
    ],
    [
      'the keys themselves',
      { ...live, exchange_credentials: { key: 'AKIA', secret: 's' } },
      'exchange_credentials: must be {secret_arn} or {ssm_path}',
    ],
    [
      'a secret outside tradai/exchange/',
      { ...live, exchange_credentials: { secret_arn: SECRET.replace('tradai/exchange/', 'other/') } },
      'exchange_credentials',
    ],
    [
      'a backtest and a sweep winner at once',
      { ...live, promote: { sweep_id: 'sw-1', variant: 3 } },
      'promote: is set with backtest_run_id',
    ],
    [
      'a dry-run wallet on a live bot',
      { ...live, dry_run_wallet: 500 },
      'dry_run_wallet: is for a dry-run deployment only',
    ],
    [
      'an unknown open-trade policy',
      { ...dryRun, open_trades: 'forceexit' },
      'open_trades: must be one of keep, refuse',
    ],
  ])('refuses %s with a ValidationError naming the field', async (_, request, message) => {
    // Prepare
    vi.stubEnv('ALLOWED_ENVIRONMENTS', 'dry-run,live');

    // Act & Assess
    await expect(invoke(request)).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining(message),
    });
    expect(dynamodbMock.calls()).toHaveLength(0);
  });

  it.each([
    ['no such backtest', {}, 'run bt-42 does not exist'],
    ['a failed backtest', backtest({ status: 'FAILED' }), 'run bt-42 is FAILED, not COMPLETED'],
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
    vi.stubEnv('ALLOWED_ENVIRONMENTS', 'dry-run,live');
    dynamodbMock.on(GetItemCommand).resolves(answer);

    // Act & Assess
    await expect(invoke(live)).rejects.toMatchObject({
      name: 'DeploymentRefusedError',
      message: expect.stringContaining(reason),
    });
  });

  it('requires the backtest run of a live deployment, naming the field', async () => {
    vi.stubEnv('ALLOWED_ENVIRONMENTS', 'dry-run,live');
    await expect(invoke({ ...live, backtest_run_id: undefined })).rejects.toMatchObject({
      name: 'ValidationError',
      message:
        'Invalid deploy request: backtest_run_id: is required for a live deployment (the COMPLETED backtest of this version), or promote a sweep winner',
    });
  });

  it('refuses an environment the stage may not deploy to', async () => {
    // Prepare
    vi.stubEnv('ALLOWED_ENVIRONMENTS', 'dry-run');

    // Act & Assess
    await expect(invoke(live)).rejects.toMatchObject({
      name: 'ValidationError',
      message:
        'Invalid deploy request: environment: must be one of dry-run on stage dev (live is opt-in per stage: custom.deployEnvironments)',
    });
    expect(dynamodbMock.calls()).toHaveLength(0);
  });

  it('maps DynamoDB throttling to TransientAwsError', async () => {
    vi.stubEnv('ALLOWED_ENVIRONMENTS', 'dry-run,live');
    dynamodbMock.on(GetItemCommand).rejects(awsError('ProvisionedThroughputExceededException', 400));
    await expect(invoke(live)).rejects.toMatchObject({ name: 'TransientAwsError' });
  });

  it('answers any input with a validated deployment or a named error', async () => {
    // Prepare
    vi.stubEnv('ALLOWED_ENVIRONMENTS', 'dry-run,live');
    dynamodbMock.on(GetItemCommand).resolves(backtest());
    const events = fc.oneof(
      fc.record({
        request: fc.record({
          request_id: fc.constantFrom('d-1', '../x'),
          strategy_name: fc.constantFrom('MomentumStrategy', 'bad name'),
          strategy_version: fc.constantFrom('1.0.0', 'latest'),
          environment: fc.constantFrom('dry-run', 'live', 'prod'),
          backtest_run_id: fc.constantFrom('bt-42', 'bt/42'),
          exchange_credentials: fc.constantFrom(
            { secret_arn: SECRET },
            { ssm_path: '/tradai/exchange/main' },
            'keys',
          ),
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
