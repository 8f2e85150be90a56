import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { canonicalJson } from '@tradai/lambda-kit';
import { awsError, censusOfRejections, fakeContext } from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../src';

const sfnMock = mockClient(SFNClient);
const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:tradai-dev-data-sync';
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:tradai-dev-data-sync:sync-1';
const sync = {
  request_id: 'sync-1',
  symbols: ['BTC/USDT:USDT'],
  timeframe: '1h',
  start_date: '2024-01-01',
  end_date: '2024-06-01',
};
const post = (resource: string, body: unknown) =>
  handler(
    { resource, httpMethod: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) },
    fakeContext('tradai-dev-start-workflow'),
  );
const json = (response: { body: string }) => JSON.parse(response.body);

describe('start-workflow', () => {
  beforeEach(() => {
    vi.clearAllMocks();
    sfnMock.reset();
    vi.stubEnv('DATA_SYNC_STATE_MACHINE_NAME', 'tradai-dev-data-sync');
    vi.stubEnv('DEPLOY_STATE_MACHINE_NAME', 'tradai-dev-deploy');
    vi.stubEnv('BACKTEST_SWEEP_STATE_MACHINE_NAME', 'tradai-dev-backtest-sweep');
  });

  const sweep = {
    sweep_id: 'grid-6',
    strategy_name: 'MomentumStrategy',
    strategy_version: '1.0.0',
    experiment_name: 'sl-x-roi',
    symbols: ['BTC/USDT:USDT'],
    timeframe: '1h',
    start_date: '2024-01-01',
    end_date: '2024-06-01',
    grid: { stoploss: [-0.05, -0.1, -0.2], minimal_roi: [{ '0': 0.1 }, { '0': 0.05 }] },
  };

  it('starts a sweep on the sweep machine, named after its sweep_id', async () => {
    // Prepare
    const execution = 'arn:aws:states:eu-west-1:123456789012:execution:tradai-dev-backtest-sweep:grid-6';
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: execution });

    // Act
    const response = await post('/workflows/backtest-sweep', sweep);

    // Assess
    expect(response.statusCode).toBe(202);
    expect(json(response)).toEqual({ execution_arn: execution, sweep_id: 'grid-6', started: true });
    expect(sfnMock).toReceiveCommandWith(StartExecutionCommand, {
      stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:tradai-dev-backtest-sweep',
      name: 'grid-6',
    });
  });

  it("starts a re-run of a sweep's failures as <sweep_id>-rerun-<attempt>, and refuses a bad one by field", async () => {
    // Prepare
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:x' });

    // Act
    const started = await post('/workflows/backtest-sweep', {
      rerun_failed: { sweep_id: 'grid-6', attempt: 2 },
    });
    const refused = await post('/workflows/backtest-sweep', {
      rerun_failed: { sweep_id: 'grid-6', attempt: 0 },
    });

    // Assess
    expect(started.statusCode).toBe(202);
    expect(sfnMock).toReceiveCommandWith(StartExecutionCommand, {
      name: 'grid-6-rerun-2',
      input: canonicalJson({ rerun_failed: { attempt: 2, sweep_id: 'grid-6' } }),
    });
    expect(refused.statusCode).toBe(400);
    expect(json(refused).issues).toEqual([{ field: 'rerun_failed.attempt', message: 'must be at least 1' }]);
  });

  it('gives the sweep machine the input the backtest queue gives it: without `workflow`, keys sorted', async () => {
    // Prepare
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:x' });

    // Act
    await post('/workflows/backtest-sweep', { workflow: 'backtest-sweep', ...sweep });

    // Assess
    const input = sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.input;
    expect(input).toBe(canonicalJson(sweep));
  });

  it('answers a sweep repeated after it ended with its execution and starts nothing new', async () => {
    // Prepare: Step Functions refuses the name of an ended execution (a running one it would return)
    sfnMock
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED', input: JSON.stringify(sweep) });

    // Act
    const response = await post('/workflows/backtest-sweep', sweep);

    // Assess
    expect(response.statusCode).toBe(200);
    expect(json(response)).toMatchObject({ sweep_id: 'grid-6', started: false, status: 'SUCCEEDED' });
  });

  it('refuses a sweep over the stage cap with a 400 naming its count, and starts nothing', async () => {
    // Prepare
    vi.stubEnv('MAX_SWEEP_VARIANTS', '5');

    // Act
    const response = await post('/workflows/backtest-sweep', sweep);

    // Assess
    expect(response.statusCode).toBe(400);
    expect(json(response).issues).toEqual([
      { field: 'grid', message: 'makes 6 variants; a sweep may run at most 5' },
    ]);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('starts a data sync named after its request id and answers 202 with the execution ARN', async () => {
    // Prepare
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date() });

    // Act
    const response = await post('/workflows/data-sync', sync);

    // Assess
    expect(response.statusCode).toBe(202);
    expect(json(response)).toEqual({ execution_arn: EXECUTION, request_id: 'sync-1', started: true });
    expect(sfnMock).toReceiveCommandWith(StartExecutionCommand, {
      stateMachineArn: MACHINE,
      name: 'sync-1',
    });
    const input = sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.input;
    expect(JSON.parse(String(input))).toEqual(sync);
  });

  it('starts a deploy on the deploy machine', async () => {
    // Prepare
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:x' });
    const deploy = {
      request_id: 'deploy-1',
      strategy_name: 'MomentumStrategy',
      strategy_version: '1.0.0',
      environment: 'dry-run',
    };

    // Act
    const response = await post('/workflows/deploy', deploy);

    // Assess
    expect(response.statusCode).toBe(202);
    expect(sfnMock).toReceiveCommandWith(StartExecutionCommand, {
      stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:tradai-dev-deploy',
      name: 'deploy-1',
    });
  });

  it.each([
    [
      'a bad field',
      '/workflows/data-sync',
      { ...sync, timeframe: '7m' },
      [{ field: 'timeframe', message: expect.any(String) }],
    ],
    [
      'no request id',
      '/workflows/data-sync',
      { ...sync, request_id: undefined },
      [{ field: 'request_id', message: 'is required' }],
    ],
    [
      'a live deploy without backtest',
      '/workflows/deploy',
      { request_id: 'd', strategy_name: 'MomentumStrategy', strategy_version: '1.0.0', environment: 'live' },
      [
        { field: 'backtest_run_id', message: expect.stringContaining('is required') },
        { field: 'exchange_credentials', message: expect.stringContaining('is required') },
      ],
    ],
    [
      'a deploy that names its own caller',
      '/workflows/deploy',
      {
        request_id: 'd',
        strategy_name: 'MomentumStrategy',
        strategy_version: '1.0.0',
        environment: 'dry-run',
        requested_by: 'arn:aws:iam::123456789012:role/admin',
      },
      [{ field: 'requested_by', message: expect.any(String) }],
    ],
    [
      'a body that is not JSON',
      '/workflows/data-sync',
      '{"symbols": [',
      [{ field: '(body)', message: 'must be a JSON object' }],
    ],
  ])('answers %s with 400 and the field errors, and starts nothing', async (_, resource, body, issues) => {
    // Act
    const response = await post(resource, body);

    // Assess
    expect(response.statusCode).toBe(400);
    expect(json(response)).toMatchObject({ error: 'ValidationError', issues });
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it("starts a deploy with the API caller's IAM identity as requested_by", async () => {
    // Prepare
    sfnMock.on(StartExecutionCommand).resolves({
      executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:tradai-dev-deploy:d-1',
    });
    const body = {
      request_id: 'd-1',
      strategy_name: 'MomentumStrategy',
      strategy_version: '1.0.0',
      environment: 'dry-run',
    };
    const caller = 'arn:aws:sts::123456789012:assumed-role/quant-deployer/alice';

    // Act
    const response = await handler(
      {
        resource: '/workflows/deploy',
        httpMethod: 'POST',
        body: JSON.stringify(body),
        requestContext: { identity: { userArn: caller } },
      },
      fakeContext('tradai-dev-start-workflow'),
    );

    // Assess
    expect(response.statusCode).toBe(202);
    expect(sfnMock).toReceiveCommandWith(StartExecutionCommand, {
      name: 'd-1',
      input: canonicalJson({ ...body, open_trades: 'keep', requested_by: caller }),
    });
  });

  it('answers a retry of the same request with the execution it already started, not a second one', async () => {
    // Prepare
    sfnMock
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    sfnMock
      .on(DescribeExecutionCommand)
      .resolves({ executionArn: EXECUTION, status: 'SUCCEEDED', input: JSON.stringify({ ...sync }) });

    // Act: the same fields, in another order
    const { request_id, ...rest } = sync;
    const response = await post('/workflows/data-sync', { ...rest, request_id });

    // Assess
    expect(response.statusCode).toBe(200);
    expect(json(response)).toEqual({
      execution_arn: EXECUTION,
      request_id: 'sync-1',
      started: false,
      status: 'SUCCEEDED',
    });
    expect(sfnMock).toReceiveCommandWith(DescribeExecutionCommand, { executionArn: EXECUTION });
  });

  it('answers 409 when the request id already started an execution with another body', async () => {
    // Prepare
    sfnMock
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    sfnMock.on(DescribeExecutionCommand).resolves({
      executionArn: EXECUTION,
      status: 'RUNNING',
      input: JSON.stringify({ ...sync, timeframe: '4h' }),
    });

    // Act
    const response = await post('/workflows/data-sync', sync);

    // Assess
    expect(response.statusCode).toBe(409);
    expect(json(response)).toMatchObject({ error: 'Conflict', execution_arn: EXECUTION });
  });

  it('answers 503 with Retry-After when Step Functions throttles', async () => {
    // Prepare
    sfnMock.on(StartExecutionCommand).rejects(awsError('ThrottlingException', 400));

    // Act
    const response = await post('/workflows/data-sync', sync);

    // Assess
    expect(response.statusCode).toBe(503);
    expect(response.headers['Retry-After']).toBe('5');
  });

  it('answers 404 for any other route or method', async () => {
    const response = await handler(
      { resource: '/workflows/backtest', httpMethod: 'POST', body: '{}' },
      fakeContext(),
    );
    expect(response.statusCode).toBe(404);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('answers any body with 202 or a 400 naming fields, never an exception', async () => {
    // Prepare
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: EXECUTION });
    const bodies = fc.oneof(
      fc.record({
        ...Object.fromEntries(Object.entries(sync).map(([k, v]) => [k, fc.constant(v)])),
        timeframe: fc.constantFrom('1h', 'x'),
      }),
      fc.anything(),
    );

    // Act
    const statuses = new Set<number>();
    const census = await censusOfRejections(
      async (body: unknown) => {
        const response = await post('/workflows/data-sync', body);
        statuses.add(response.statusCode);
        return response;
      },
      bodies,
      { allowedErrors: [], numRuns: 300 },
    );

    // Assess
    expect(census.rejected).toBe(0);
    expect([...statuses].sort()).toEqual([202, 400]);
  });
});
