import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { Uint8ArrayBlobAdapter } from '@smithy/core/serde';
import { awsError, censusOfRejections, fakeContext, statusChangeEvent } from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../src';

const dynamodbMock = mockClient(DynamoDBClient);
const lambdaMock = mockClient(LambdaClient);
const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:tradai-dev-backtest';
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:tradai-dev-backtest:run-42';
const OTHER = 'arn:aws:states:eu-west-1:123456789012:execution:tradai-dev-backtest:run-42-again';

const event = (status: string, detail: Record<string, unknown> = {}) =>
  statusChangeEvent(status, { input: JSON.stringify({ run_id: 'run-42' }), ...detail });
const invoke = (input: unknown) => handler(input, fakeContext('tradai-dev-reconcile-run'));

type Item = Record<string, { S?: string }>;

/** A workflow-state table and a claims table that evaluate the reconciler's conditions as DynamoDB would. */
const tables = (records: Record<string, Item>) => {
  const claims = new Set<string>();
  const failed = (Item?: Item) =>
    Object.assign(
      new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      {
        Item,
      },
    );
  dynamodbMock.on(UpdateItemCommand).callsFake(async ({ Key, ExpressionAttributeValues: v }) => {
    const runId = String(Key.run_id.S);
    const old = records[runId];
    const owner = old?.execution_arn?.S;
    const holds =
      old &&
      ((old.status?.S === 'RUNNING' && owner === v[':arn'].S) ||
        (old.status?.S === 'PENDING' &&
          runId === v[':name'].S &&
          (owner === undefined || owner === v[':arn'].S)));
    if (!holds) throw failed(old);
    records[runId] = {
      ...old,
      status: v[':terminal'],
      execution_arn: v[':arn'],
      error_name: v[':error_name'],
    };
    return {};
  });
  dynamodbMock.on(PutItemCommand).callsFake(async ({ Item: claim }) => {
    const key = String(claim?.event_key?.S);
    if (claims.has(key)) throw failed();
    claims.add(key);
    return {};
  });
  dynamodbMock.on(DeleteItemCommand).callsFake(async ({ Key }) => {
    claims.delete(String(Key?.event_key?.S));
    return {};
  });
  return { records, claims };
};
const notices = () =>
  lambdaMock
    .commandCalls(InvokeCommand)
    .map((call) => JSON.parse(new TextDecoder().decode(call.args[0].input.Payload as Uint8Array)));

describe('reconcile-run', () => {
  beforeEach(() => {
    vi.clearAllMocks();
    dynamodbMock.reset();
    lambdaMock.reset();
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200 });
    vi.stubEnv('WORKFLOW_STATE_TABLE', 'tradai-dev-workflow-state');
    vi.stubEnv('NOTICE_CLAIMS_TABLE', 'tradai-dev-execution-metric-events');
    vi.stubEnv('NOTIFY_FUNCTION_NAME', 'tradai-dev-notify-completion');
    vi.stubEnv('STATE_MACHINE_PREFIX', 'tradai-dev-');
    vi.stubEnv('DEPLOY_LEASES_TABLE', 'tradai-dev-deploy-leases');
    vi.stubEnv('STAGE', 'dev');
  });

  it('marks an aborted run ABORTED and tells people once', async () => {
    // Prepare
    const world = tables({ 'run-42': { status: { S: 'RUNNING' }, execution_arn: { S: EXECUTION } } });

    // Act
    const result = await invoke(event('ABORTED'));

    // Assess
    expect(result).toEqual({ workflow: 'backtest', record: 'reconciled', notified: true });
    expect(world.records['run-42']?.status?.S).toBe('ABORTED');
    expect(notices()).toEqual([
      {
        workflow: 'backtest',
        status: 'ABORTED',
        run_id: 'run-42',
        execution_arn: EXECUTION,
        error: { Error: 'ExecutionAborted', Cause: expect.stringContaining('StopExecution') },
      },
    ]);
    expect(lambdaMock).toReceiveCommandWith(InvokeCommand, { FunctionName: 'tradai-dev-notify-completion' });
  });

  it('leaves a run alone on PENDING_REDRIVE: the redriven execution will end on its own', async () => {
    // Prepare
    const world = tables({ 'run-42': { status: { S: 'FAILED' }, execution_arn: { S: EXECUTION } } });

    // Act
    const result = await invoke(event('PENDING_REDRIVE'));

    // Assess
    expect(result).toMatchObject({ notified: false, reason: 'nothing to reconcile: PENDING_REDRIVE' });
    expect(world.records['run-42']?.status?.S).toBe('FAILED');
    expect(notices()).toEqual([]);
  });

  describe("a deploy's lease on its service", () => {
    const DEPLOY_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:tradai-dev-deploy';
    const DEPLOY = 'arn:aws:states:eu-west-1:123456789012:execution:tradai-dev-deploy:deploy-7';
    const deployEnd = (status: 'ABORTED' | 'TIMED_OUT', input: unknown) =>
      event(status, {
        executionArn: DEPLOY,
        stateMachineArn: DEPLOY_MACHINE,
        name: 'deploy-7',
        input: JSON.stringify(input),
      });
    const request = {
      request_id: 'deploy-7',
      strategy_name: 'MomentumStrategy',
      strategy_version: '1.2.0',
      environment: 'dry-run',
    };
    /** A leases table that evaluates `execution_arn = :arn` as DynamoDB would. */
    const leases = (held: Record<string, string>) => {
      tables({});
      dynamodbMock
        .on(DeleteItemCommand, { TableName: 'tradai-dev-deploy-leases' })
        .callsFake(async (input) => {
          const service = String(input.Key?.service_name?.S);
          if (held[service] !== input.ExpressionAttributeValues?.[':arn']?.S) {
            throw new ConditionalCheckFailedException({
              message: 'The conditional request failed',
              $metadata: {},
            });
          }
          delete held[service];
          return {};
        });
      return held;
    };

    it.each(['ABORTED', 'TIMED_OUT'] as const)(
      'releases the lease a %s deploy held, for the next deploy',
      async (status) => {
        // Prepare
        const held = leases({ 'tradai-dev-dry-run-momentumstrategy': DEPLOY });

        // Act
        const result = await invoke(deployEnd(status, request));

        // Assess
        expect(result).toMatchObject({ workflow: 'deploy', lease: 'released', notified: true });
        expect(held).toEqual({});
      },
    );

    it("leaves another deploy's lease alone", async () => {
      // Prepare
      const other = `${DEPLOY}-other`;
      const held = leases({ 'tradai-dev-dry-run-momentumstrategy': other });

      // Act
      const result = await invoke(deployEnd('ABORTED', request));

      // Assess
      expect(result).toMatchObject({ lease: 'not-held' });
      expect(held).toEqual({ 'tradai-dev-dry-run-momentumstrategy': other });
    });

    it('touches no lease for an input that names no deployable service', async () => {
      // Prepare
      leases({});

      // Act
      const result = await invoke(deployEnd('ABORTED', { ...request, environment: 'prod' }));

      // Assess
      expect(result).toMatchObject({ lease: 'no-service' });
      expect(
        dynamodbMock.commandCalls(DeleteItemCommand, { TableName: 'tradai-dev-deploy-leases' }),
      ).toHaveLength(0);
    });
  });

  it("closes a sweep's own record when the sweep times out, its record named after the execution", async () => {
    // Prepare: the sweep machine's execution is named after its sweep_id (the API's rule)
    const sweepArn = 'arn:aws:states:eu-west-1:123456789012:execution:tradai-dev-backtest-sweep:grid-24';
    const world = tables({ 'grid-24': { status: { S: 'RUNNING' }, execution_arn: { S: sweepArn } } });

    // Act
    const result = await invoke(
      statusChangeEvent('TIMED_OUT', {
        machine: 'tradai-dev-backtest-sweep',
        executionArn: sweepArn,
        name: 'grid-24',
        input: JSON.stringify({ sweep_id: 'grid-24' }),
      }),
    );

    // Assess
    expect(result).toMatchObject({ workflow: 'backtest-sweep', record: 'reconciled', notified: true });
    expect(world.records['grid-24']?.status?.S).toBe('TIMED_OUT');
    expect(notices()).toEqual([expect.objectContaining({ workflow: 'backtest-sweep', run_id: 'grid-24' })]);
    expect(notices()[0]).not.toHaveProperty('sweep_id');
  });

  it("closes the sweep's record when a re-run of its failures is aborted: the re-run claimed it", async () => {
    // Prepare: RecordRerunRunning put the sweep's record under the re-run's execution
    const rerunArn =
      'arn:aws:states:eu-west-1:123456789012:execution:tradai-dev-backtest-sweep:grid-24-rerun-1';
    const world = tables({ 'grid-24': { status: { S: 'RUNNING' }, execution_arn: { S: rerunArn } } });

    // Act
    await invoke(
      statusChangeEvent('ABORTED', {
        machine: 'tradai-dev-backtest-sweep',
        executionArn: rerunArn,
        name: 'grid-24-rerun-1',
        input: JSON.stringify({ rerun_failed: { sweep_id: 'grid-24', attempt: 1 } }),
      }),
    );

    // Assess
    expect(world.records['grid-24']?.status?.S).toBe('ABORTED');
  });

  it("hands notify-completion an aborted variant's sweep_id, so the sweep alone notifies", async () => {
    // Prepare: a variant of sweep grid-24, running when the sweep was stopped
    const variantArn = 'arn:aws:states:eu-west-1:123456789012:execution:tradai-dev-backtest:grid-24-3';
    const world = tables({ 'grid-24-3': { status: { S: 'RUNNING' }, execution_arn: { S: variantArn } } });

    // Act
    await invoke(
      statusChangeEvent('ABORTED', {
        executionArn: variantArn,
        name: 'grid-24-3',
        input: JSON.stringify({ run_id: 'grid-24-3', sweep_id: 'grid-24' }),
      }),
    );

    // Assess
    expect(world.records['grid-24-3']?.status?.S).toBe('ABORTED');
    expect(notices()).toEqual([expect.objectContaining({ run_id: 'grid-24-3', sweep_id: 'grid-24' })]);
  });

  it.each([
    ['a sweep_id that is not one', { run_id: 'run-42', sweep_id: '../../etc' }],
    ['no sweep_id', { run_id: 'run-42' }],
    ['a null sweep_id (a run of its own)', { run_id: 'run-42', sweep_id: null }],
  ])('notifies a backtest with %s as a run of its own', async (_, input) => {
    // Prepare
    tables({ 'run-42': { status: { S: 'RUNNING' }, execution_arn: { S: EXECUTION } } });

    // Act
    await invoke(event('ABORTED', { input: JSON.stringify(input) }));

    // Assess
    expect(notices()[0]).not.toHaveProperty('sweep_id');
  });

  it("closes the trigger's PENDING record of an execution that timed out before claiming it", async () => {
    // Prepare
    const world = tables({ 'run-42': { status: { S: 'PENDING' } } });

    // Act
    const result = await invoke(event('TIMED_OUT', { error: 'States.Timeout' }));

    // Assess
    expect(result).toMatchObject({ record: 'reconciled', notified: true });
    expect(world.records['run-42']).toMatchObject({
      status: { S: 'TIMED_OUT' },
      execution_arn: { S: EXECUTION },
    });
    expect(notices()[0]?.error.Error).toBe('States.Timeout');
  });

  it('marks a run FAILED after a crash no Catch could see (States.Runtime)', async () => {
    // Prepare
    const world = tables({ 'run-42': { status: { S: 'RUNNING' }, execution_arn: { S: EXECUTION } } });

    // Act
    const result = await invoke(event('FAILED', { error: 'States.Runtime', cause: 'An error occurred' }));

    // Assess
    expect(result).toMatchObject({ record: 'reconciled', notified: true });
    expect(world.records['run-42']).toMatchObject({
      status: { S: 'FAILED' },
      error_name: { S: 'States.Runtime' },
    });
  });

  it('leaves alone a run its own failure tail already recorded and notified', async () => {
    // Prepare
    const world = tables({ 'run-42': { status: { S: 'FAILED' }, execution_arn: { S: EXECUTION } } });

    // Act
    const result = await invoke(event('FAILED', { error: 'ValidationError' }));

    // Assess
    expect(result).toMatchObject({ record: 'owned-terminal', notified: false });
    expect(world.records['run-42']?.status?.S).toBe('FAILED');
    expect(lambdaMock).not.toReceiveCommand(InvokeCommand);
  });

  it.each([
    ['RUNNING under another execution', { status: { S: 'RUNNING' }, execution_arn: { S: OTHER } }],
    ['COMPLETED', { status: { S: 'COMPLETED' }, execution_arn: { S: OTHER } }],
  ])('never takes a record that is %s: the abort is told, the record stays', async (_, record) => {
    // Prepare
    const world = tables({ 'run-42': record });

    // Act
    const result = await invoke(event('ABORTED'));

    // Assess
    expect(result).toMatchObject({ record: 'not-ours', notified: true });
    expect(world.records['run-42']).toEqual(record);
  });

  it('is idempotent: the same event twice records once and notifies once', async () => {
    // Prepare
    const world = tables({ 'run-42': { status: { S: 'RUNNING' }, execution_arn: { S: EXECUTION } } });

    // Act
    const first = await invoke(event('ABORTED'));
    const again = await invoke(event('ABORTED'));

    // Assess
    expect(first).toMatchObject({ record: 'reconciled', notified: true });
    expect(again).toMatchObject({ record: 'owned-terminal', notified: false, reason: 'already notified' });
    expect(notices()).toHaveLength(1);
    expect([...world.claims]).toEqual([`notice#${EXECUTION}#0`]);
  });

  it('gives the claim back when notify-completion fails, so the retried event notifies', async () => {
    // Prepare
    tables({ 'run-42': { status: { S: 'RUNNING' }, execution_arn: { S: EXECUTION } } });
    lambdaMock
      .on(InvokeCommand)
      .resolvesOnce({
        StatusCode: 200,
        FunctionError: 'Unhandled',
        Payload: Uint8ArrayBlobAdapter.fromString('{"errorType":"Error"}'),
      })
      .resolves({ StatusCode: 200 });

    // Act
    const first = invoke(event('ABORTED'));
    await expect(first).rejects.toMatchObject({ name: 'TransientAwsError' });
    const retried = await invoke(event('ABORTED'));

    // Assess
    expect(retried).toMatchObject({ notified: true });
    expect(notices()).toHaveLength(2);
  });

  it('maps a throttled table to TransientAwsError, so EventBridge retries the event', async () => {
    dynamodbMock.on(UpdateItemCommand).rejects(awsError('ThrottlingException', 400));
    await expect(invoke(event('ABORTED'))).rejects.toMatchObject({ name: 'TransientAwsError' });
  });

  it('notifies an aborted data sync, which keeps no run record', async () => {
    // Prepare
    tables({});
    const sync = event('ABORTED', {
      stateMachineArn: MACHINE.replace('backtest', 'data-sync'),
      executionArn: EXECUTION.replace('tradai-dev-backtest', 'tradai-dev-data-sync'),
      name: 'sync-7',
    });

    // Act
    const result = await invoke(sync);

    // Assess
    expect(result).toMatchObject({ workflow: 'data-sync', record: 'not-recorded', notified: true });
    expect(dynamodbMock).not.toReceiveCommand(UpdateItemCommand);
    expect(notices()[0]).not.toHaveProperty('run_id');
  });

  it('does not notify a failure the machine handled, when no record names the run', async () => {
    tables({});
    await expect(
      invoke(event('FAILED', { error: 'ValidationError', name: 'bad-request' })),
    ).resolves.toMatchObject({
      record: 'no-record',
      notified: false,
    });
  });

  it('reads the input run_id only through its schema', async () => {
    // Prepare: a hostile input names another run with a path in it
    tables({ '../x': { status: { S: 'RUNNING' }, execution_arn: { S: EXECUTION } } });

    // Act
    await invoke(event('ABORTED', { input: JSON.stringify({ run_id: '../x' }), name: 'run-42' }));

    // Assess
    const keys = dynamodbMock
      .commandCalls(UpdateItemCommand)
      .map((call) => call.args[0].input.Key?.run_id?.S);
    expect(keys).toEqual(['run-42']);
  });

  it('ignores a machine that is not ours', async () => {
    const result = await invoke(
      event('ABORTED', { stateMachineArn: MACHINE.replace('tradai-dev-', 'other-') }),
    );
    expect(result).toMatchObject({ workflow: null, notified: false });
    expect(dynamodbMock.calls()).toHaveLength(0);
  });

  it('answers any input with an outcome or a named ValidationError', async () => {
    // Prepare
    tables({});
    const events = fc.oneof(
      fc.constantFrom('FAILED', 'TIMED_OUT', 'ABORTED', 'PAUSED').map((status) => event(status)),
      fc.record({ input: fc.string(), name: fc.string() }).map((detail) => event('ABORTED', detail)),
      fc.anything(),
    );

    // Act
    const census = await censusOfRejections(handler, events, { numRuns: 300 });

    // Assess
    expect(census.answered).toBeGreaterThan(0);
    expect(census.rejected).toBeGreaterThan(0);
  });
});
