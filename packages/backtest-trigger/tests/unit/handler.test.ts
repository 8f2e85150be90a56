import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { awsError, fakeContext, SPEC_TEST_INPUT } from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../src';

const sfnMock = mockClient(SFNClient);
const dynamodbMock = mockClient(DynamoDBClient);
const sqsMock = mockClient(SQSClient);
const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:tradai-dev-backtest';
const DLQ = 'https://sqs.eu-west-1.amazonaws.com/123456789012/tradai-dev-backtest-requests-dlq';

const message = (messageId: string, body: unknown) => ({
  messageId,
  receiptHandle: `rh-${messageId}`,
  body: typeof body === 'string' ? body : JSON.stringify(body),
  attributes: {},
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:tradai-dev-backtest-requests',
  awsRegion: 'eu-west-1',
});
const request = (runId: string) => ({ ...SPEC_TEST_INPUT, run_id: runId });
const invoke = (...records: ReturnType<typeof message>[]) =>
  handler({ Records: records }, fakeContext('tradai-dev-backtest-trigger'));
const conditionFailed = (Item?: Record<string, unknown>) =>
  Object.assign(
    new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
    {
      Item,
    },
  );
const alreadyExists = () =>
  new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} });

describe('backtest-trigger', () => {
  beforeEach(() => {
    vi.clearAllMocks();
    for (const mock of [sfnMock, dynamodbMock, sqsMock]) mock.reset();
    dynamodbMock.on(PutItemCommand).resolves({});
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:x' });
    sqsMock.on(SendMessageCommand).resolves({});
    sqsMock.on(GetQueueUrlCommand).resolves({ QueueUrl: DLQ });
    vi.stubEnv('WORKFLOW_STATE_TABLE', 'tradai-dev-workflow-state');
    vi.stubEnv('BACKTEST_STATE_MACHINE_NAME', 'tradai-dev-backtest');
    vi.stubEnv('BACKTEST_SIMPLIFIED_STATE_MACHINE_NAME', 'tradai-dev-backtest-simplified');
    vi.stubEnv('REQUEST_DLQ_NAME', 'tradai-dev-backtest-requests-dlq');
    vi.stubEnv('BACKTEST_SWEEP_STATE_MACHINE_NAME', 'tradai-dev-backtest-sweep');
  });

  it('records PENDING and starts the execution named after the run, with the request normalised', async () => {
    // Act
    const response = await invoke(message('m1', request('run-1')));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(dynamodbMock).toReceiveCommandWith(PutItemCommand, {
      TableName: 'tradai-dev-workflow-state',
      ConditionExpression: 'attribute_not_exists(run_id)',
      Item: expect.objectContaining({
        run_id: { S: 'run-1' },
        status: { S: 'PENDING' },
        workflow: { S: 'backtest' },
      }),
    });
    const start = sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(start).toMatchObject({ stateMachineArn: MACHINE, name: 'run-1' });
    expect(JSON.parse(String(start?.input))).toMatchObject({
      run_id: 'run-1',
      start_date: '2024-01-01',
      end_date: '2024-06-01',
    });
  });

  it('returns exactly the failed item of a mixed batch: valid, malformed, duplicate, throttled', async () => {
    // Prepare
    sfnMock
      .on(StartExecutionCommand, { name: 'duplicate' })
      .rejects(alreadyExists())
      .on(StartExecutionCommand, { name: 'throttled' })
      .rejects(awsError('ThrottlingException', 400));
    dynamodbMock
      .on(PutItemCommand, { Item: expect.objectContaining({ run_id: { S: 'duplicate' } }) })
      .rejects(conditionFailed());

    // Act
    const response = await invoke(
      message('ok', request('fine')),
      message('bad', { ...request('x'), timeframe: '7m' }),
      message('dup', request('duplicate')),
      message('slow', request('throttled')),
    );

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'slow' }] });
    expect(sqsMock).toReceiveCommandTimes(SendMessageCommand, 1);
    expect(sqsMock).toReceiveCommandWith(SendMessageCommand, {
      QueueUrl: DLQ,
      MessageAttributes: expect.objectContaining({
        source_message_id: { DataType: 'String', StringValue: 'bad' },
      }),
    });
  });

  it('starts no second execution and does not reset the record when a message is redelivered', async () => {
    // Prepare: the first delivery recorded PENDING and started the run
    await invoke(message('first', request('run-1')));
    const recorded = dynamodbMock.commandCalls(PutItemCommand)[0]?.args[0].input.Item;
    dynamodbMock.on(PutItemCommand).rejects(conditionFailed({ ...recorded, status: { S: 'RUNNING' } }));
    sfnMock.on(StartExecutionCommand).rejects(alreadyExists());

    // Act
    const response = await invoke(message('again', request('run-1')));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(dynamodbMock).toReceiveCommandTimes(PutItemCommand, 2);
    expect(sfnMock).toReceiveCommandTimes(StartExecutionCommand, 2);
    expect(sqsMock).not.toReceiveCommand(SendMessageCommand);
  });

  it('parks a message that reuses a run_id with another body in the DLQ as a conflict, and starts nothing', async () => {
    // Prepare: run-1 exists, recorded for another request
    dynamodbMock
      .on(PutItemCommand)
      .rejects(
        conditionFailed({ run_id: { S: 'run-1' }, status: { S: 'COMPLETED' }, request_hash: { S: 'other' } }),
      );

    // Act
    const response = await invoke(message('reuse', { ...request('run-1'), experiment_name: 'another-idea' }));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(sfnMock).not.toReceiveCommand(StartExecutionCommand);
    expect(sqsMock).toReceiveCommandWith(SendMessageCommand, {
      QueueUrl: DLQ,
      MessageAttributes: expect.objectContaining({
        reason: { DataType: 'String', StringValue: 'conflict' },
        existing_status: { DataType: 'String', StringValue: 'COMPLETED' },
      }),
    });
  });

  it('refuses a run_id already sent to the other backtest machine: one run, one machine', async () => {
    // Prepare: the first message claims run-1 for the backtest machine; DynamoDB then holds it
    let claimed: Record<string, unknown> | undefined;
    dynamodbMock.on(PutItemCommand).callsFake(async (input) => {
      if (claimed) throw conditionFailed(claimed);
      claimed = input.Item;
      return {};
    });

    // Act
    await invoke(message('first', { ...request('run-1'), workflow: 'backtest' }));
    const response = await invoke(
      message('second', { ...request('run-1'), workflow: 'backtest-simplified' }),
    );

    // Assess: one execution, on the first machine; the second message parked as a conflict
    expect(response).toEqual({ batchItemFailures: [] });
    expect(sfnMock).toReceiveCommandTimes(StartExecutionCommand, 1);
    expect(sfnMock).toReceiveCommandWith(StartExecutionCommand, { stateMachineArn: MACHINE, name: 'run-1' });
    expect(sqsMock).toReceiveCommandWith(SendMessageCommand, {
      MessageAttributes: expect.objectContaining({ reason: { DataType: 'String', StringValue: 'conflict' } }),
    });
  });

  it('closes the PENDING record and parks the message when StartExecution is refused for good', async () => {
    // Prepare
    sfnMock.on(StartExecutionCommand).rejects(awsError('AccessDeniedException', 400));
    dynamodbMock.on(UpdateItemCommand).resolves({});

    // Act
    const response = await invoke(message('denied', request('run-9')));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(dynamodbMock).toReceiveCommandWith(UpdateItemCommand, {
      Key: { run_id: { S: 'run-9' } },
      ConditionExpression:
        '#status = :pending AND request_hash = :hash AND attribute_not_exists(execution_arn)',
      ExpressionAttributeValues: expect.objectContaining({
        ':failed': { S: 'FAILED' },
        ':error_name': { S: 'ExecutionNotStartedError' },
      }),
    });
    expect(sqsMock).toReceiveCommandWith(SendMessageCommand, {
      MessageAttributes: expect.objectContaining({
        reason: { DataType: 'String', StringValue: 'start-failed' },
      }),
    });
  });

  it.each([
    ['1', 1, 0],
    ['5', 0, 1],
  ])(
    'lets SQS retry a throttled start on receive %s, and closes the run on the last receive',
    async (receiveCount, failures, closed) => {
      // Prepare
      sfnMock
        .on(StartExecutionCommand)
        .rejects(awsError('ThrottlingException', 400))
        .on(StartExecutionCommand, { name: 'run-ok' })
        .resolves({ executionArn: 'arn:ok' });
      dynamodbMock.on(UpdateItemCommand).resolves({});
      const throttled = {
        ...message('slow', request('run-7')),
        attributes: { ApproximateReceiveCount: receiveCount },
      };

      // Act
      const response = await invoke(throttled as never, message('ok', request('run-ok')));

      // Assess
      expect(response.batchItemFailures).toHaveLength(failures);
      expect(dynamodbMock).toReceiveCommandTimes(UpdateItemCommand, closed);
    },
  );

  it('parks a request nested 5,000 levels deep as malformed, naming config_overrides, and starts the rest', async () => {
    // Prepare
    const deep = `{"stoploss": ${'['.repeat(5_000)}${']'.repeat(5_000)}}`;
    const body = JSON.stringify(request('deep')).replace(
      '"config_overrides":{',
      `"config_overrides":${deep},"x":{`,
    );

    // Act
    const response = await invoke(message('deep', body), message('fine', request('fine')));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const parked = sqsMock.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageAttributes;
    expect(JSON.parse(String(parked?.validation_errors?.StringValue))).toEqual([
      { field: 'config_overrides.stoploss[0]', message: 'must nest at most 32 levels' },
    ]);
    expect(sfnMock).toReceiveCommandTimes(StartExecutionCommand, 1);
  });

  it('parks in the DLQ at the URL SQS gives for its name (GetQueueUrl, once a container), not one built from the region', async () => {
    // Prepare: a partition whose SQS host is not amazonaws.com
    const chinaDlq = 'https://sqs.cn-north-1.amazonaws.com.cn/123456789012/tradai-dev-backtest-requests-dlq';
    sqsMock.on(GetQueueUrlCommand).resolves({ QueueUrl: chinaDlq });
    vi.resetModules();
    const { handler: fresh } = await import('../../src');

    // Act
    await fresh({ Records: [message('bad1', '{'), message('bad2', '[')] }, fakeContext());
    await fresh({ Records: [message('bad3', '{')] }, fakeContext());

    // Assess
    expect(sqsMock).toReceiveCommandTimes(GetQueueUrlCommand, 1);
    expect(sqsMock).toReceiveCommandWith(GetQueueUrlCommand, {
      QueueName: 'tradai-dev-backtest-requests-dlq',
    });
    expect(sqsMock.commandCalls(SendMessageCommand).map((call) => call.args[0].input.QueueUrl)).toEqual([
      chinaDlq,
      chinaDlq,
      chinaDlq,
    ]);
  });

  it('parks a malformed message in the DLQ with its errors instead of retrying it', async () => {
    // Act
    const response = await invoke(
      message('junk', '{"run_id": "../x"'),
      message('bad', { ...request('y'), run_id: '../x' }),
    );

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    const parked = sqsMock.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
    expect(
      parked.map((input) => JSON.parse(String(input.MessageAttributes?.validation_errors?.StringValue))),
    ).toEqual([
      [{ field: '(body)', message: 'must be a JSON object' }],
      [expect.objectContaining({ field: 'run_id' })],
    ]);
    expect(sfnMock).not.toReceiveCommand(StartExecutionCommand);
    expect(dynamodbMock).not.toReceiveCommand(PutItemCommand);
  });

  it('starts the machine the configuration names, unless the request names another', async () => {
    // Prepare
    vi.stubEnv('DEFAULT_BACKTEST_WORKFLOW', 'backtest-simplified');

    // Act
    await invoke(message('a', request('a')), message('b', { ...request('b'), workflow: 'backtest' }));

    // Assess
    const arns = sfnMock
      .commandCalls(StartExecutionCommand)
      .map((call) => [call.args[0].input.name, call.args[0].input.stateMachineArn]);
    expect(Object.fromEntries(arns)).toEqual({ a: `${MACHINE}-simplified`, b: MACHINE });
  });

  it('keeps at most START_CONCURRENCY StartExecution calls in flight', async () => {
    // Prepare
    vi.stubEnv('START_CONCURRENCY', '3');
    let inFlight = 0;
    let peak = 0;
    sfnMock.on(StartExecutionCommand).callsFake(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return { executionArn: 'arn:x' };
    });
    // The limiter is created once per module (per container): a fresh module reads the setting.
    vi.resetModules();
    const { handler: fresh } = await import('../../src');

    // Act
    await fresh(
      { Records: Array.from({ length: 10 }, (_, i) => message(`m${i}`, request(`run-${i}`))) },
      fakeContext(),
    );

    // Assess
    expect(sfnMock).toReceiveCommandTimes(StartExecutionCommand, 10);
    expect(peak).toBe(3);
  });

  describe('a sweep on the queue (workflow: "backtest-sweep")', () => {
    const SWEEP_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:tradai-dev-backtest-sweep';
    const { run_id: _, ...base } = SPEC_TEST_INPUT;
    const sweep = {
      ...base,
      workflow: 'backtest-sweep',
      sweep_id: 'grid-6',
      grid: { stoploss: [-0.05, -0.1, -0.2], minimal_roi: [{ '0': 0.1 }, { '0': 0.05 }] },
    };
    const { workflow: _kind, ...machineInput } = sweep;
    const parked = () => sqsMock.commandCalls(SendMessageCommand).map((call) => call.args[0].input);

    it('starts the sweep machine, named after the sweep_id, with the input the API gives it, and writes no record', async () => {
      // Act
      const response = await invoke(message('s1', sweep));

      // Assess
      expect(response).toEqual({ batchItemFailures: [] });
      const start = sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input;
      expect(start).toMatchObject({ stateMachineArn: SWEEP_MACHINE, name: 'grid-6' });
      expect(JSON.parse(String(start?.input))).toEqual(machineInput);
      expect(dynamodbMock).not.toReceiveCommand(PutItemCommand);
    });

    it("starts a re-run of a sweep's failures, named <sweep_id>-rerun-<attempt>", async () => {
      // Act
      await invoke(
        message('r1', { workflow: 'backtest-sweep', rerun_failed: { sweep_id: 'grid-6', attempt: 1 } }),
      );

      // Assess
      const start = sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input;
      expect(start).toMatchObject({ stateMachineArn: SWEEP_MACHINE, name: 'grid-6-rerun-1' });
      expect(JSON.parse(String(start?.input))).toEqual({ rerun_failed: { sweep_id: 'grid-6', attempt: 1 } });
    });

    it('parks a sweep over the cap as malformed, naming its count, and starts nothing', async () => {
      // Prepare
      vi.stubEnv('MAX_SWEEP_VARIANTS', '5');

      // Act
      const response = await invoke(message('big', sweep));

      // Assess
      expect(response).toEqual({ batchItemFailures: [] });
      expect(sfnMock).not.toReceiveCommand(StartExecutionCommand);
      expect(parked()[0]?.MessageAttributes).toMatchObject({
        reason: { DataType: 'String', StringValue: 'malformed' },
        validation_errors: {
          DataType: 'String',
          StringValue: JSON.stringify([
            { field: 'grid', message: 'makes 6 variants; a sweep may run at most 5' },
          ]),
        },
      });
    });

    it('parks a sweep whose waves cannot end before the machine times out, and starts nothing', async () => {
      // Prepare: 1,000 variants one at a time, 90 minutes a wave, against 7 days
      const slow = {
        ...sweep,
        grid: undefined,
        variants: Array.from({ length: 1_000 }, (_, i) => ({ stoploss: -0.01 - i / 10_000 })),
        max_concurrency: 1,
      };

      // Act
      await invoke(message('slow', slow));

      // Assess
      expect(sfnMock).not.toReceiveCommand(StartExecutionCommand);
      expect(parked()[0]?.MessageAttributes?.validation_errors?.StringValue).toContain(
        '"field":"max_concurrency","message":"1000 variants, 1 at a time, run in 1000 waves',
      );
    });

    it('treats a redelivered sweep (the same request, already ended) as done', async () => {
      // Prepare
      sfnMock.on(StartExecutionCommand).rejects(alreadyExists());
      sfnMock
        .on(DescribeExecutionCommand)
        .resolves({ status: 'SUCCEEDED', input: JSON.stringify({ ...machineInput, sweep_id: 'grid-6' }) });

      // Act
      const response = await invoke(message('again', sweep));

      // Assess
      expect(response).toEqual({ batchItemFailures: [] });
      expect(sfnMock).toReceiveCommandWith(DescribeExecutionCommand, {
        executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:tradai-dev-backtest-sweep:grid-6',
      });
      expect(sqsMock).not.toReceiveCommand(SendMessageCommand);
    });

    it('parks a sweep that reuses a sweep_id with another request as a conflict', async () => {
      // Prepare
      sfnMock.on(StartExecutionCommand).rejects(alreadyExists());
      sfnMock
        .on(DescribeExecutionCommand)
        .resolves({ status: 'SUCCEEDED', input: JSON.stringify({ ...machineInput, top_n: 3 }) });

      // Act
      const response = await invoke(message('reuse', sweep));

      // Assess
      expect(response).toEqual({ batchItemFailures: [] });
      expect(parked()[0]?.MessageAttributes).toMatchObject({
        reason: { StringValue: 'conflict' },
        existing_status: { StringValue: 'SUCCEEDED' },
      });
    });

    it('leaves a throttled sweep start to SQS, and parks it once the receives run out', async () => {
      // Prepare
      sfnMock.on(StartExecutionCommand, { name: 'grid-6' }).rejects(awsError('ThrottlingException', 400));
      const last = { ...message('last', sweep), attributes: { ApproximateReceiveCount: '5' } };

      // Act
      const retried = await invoke(message('first', sweep), message('fine', request('run-1')));
      const given = await invoke(last as never);

      // Assess
      expect(retried).toEqual({ batchItemFailures: [{ itemIdentifier: 'first' }] });
      expect(given).toEqual({ batchItemFailures: [] });
      expect(parked()[0]?.MessageAttributes).toMatchObject({ reason: { StringValue: 'start-failed' } });
    });

    it.each([
      ['an unknown key', { ...sweep, surprise: 1 }, 'surprise'],
      [
        'a grid value nested 4,000 levels deep',
        `{"workflow":"backtest-sweep","sweep_id":"deep","grid":{"stoploss":[${'['.repeat(4_000)}${']'.repeat(4_000)}]}}`,
        'must nest at most 32 levels',
      ],
      ['a 9 KB sweep_id', { ...sweep, sweep_id: 'x'.repeat(9_000) }, 'sweep_id'],
    ])('parks a sweep with %s as malformed, naming it, and starts nothing', async (_, body, named) => {
      // Act
      const response = await invoke(message('hostile', body), message('fine', request('run-1')));

      // Assess
      expect(response).toEqual({ batchItemFailures: [] });
      expect(parked()[0]?.MessageAttributes?.reason?.StringValue).toBe('malformed');
      expect(parked()[0]?.MessageAttributes?.validation_errors?.StringValue).toContain(named);
      expect(sfnMock.commandCalls(StartExecutionCommand).map((call) => call.args[0].input.name)).toEqual([
        'run-1',
      ]);
    });

    it('runs a message whose `workflow` is not the sweep as a backtest request (and refuses the sweep fields)', async () => {
      // Act
      await invoke(message('mixed', { ...sweep, workflow: 'backtest' }));

      // Assess: validated as a backtest, where sweep_id is allowed but grid is not
      expect(sfnMock).not.toReceiveCommand(StartExecutionCommand);
      expect(parked()[0]?.MessageAttributes?.validation_errors?.StringValue).toContain('grid');
    });
  });
});
