import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
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
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
const alreadyExists = () =>
  new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} });

describe('backtest-trigger', () => {
  beforeEach(() => {
    vi.clearAllMocks();
    for (const mock of [sfnMock, dynamodbMock, sqsMock]) mock.reset();
    dynamodbMock.on(PutItemCommand).resolves({});
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:x' });
    sqsMock.on(SendMessageCommand).resolves({});
    vi.stubEnv('WORKFLOW_STATE_TABLE', 'tradai-dev-workflow-state');
    vi.stubEnv('BACKTEST_STATE_MACHINE_NAME', 'tradai-dev-backtest');
    vi.stubEnv('BACKTEST_SIMPLIFIED_STATE_MACHINE_NAME', 'tradai-dev-backtest-simplified');
    vi.stubEnv('REQUEST_DLQ_NAME', 'tradai-dev-backtest-requests-dlq');
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
    // Prepare: the run already has a record (RUNNING) and an execution
    dynamodbMock.on(PutItemCommand).rejects(conditionFailed());
    sfnMock.on(StartExecutionCommand).rejects(alreadyExists());

    // Act
    const response = await invoke(message('again', request('run-1')));

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(dynamodbMock).toReceiveCommandTimes(PutItemCommand, 1);
    expect(sfnMock).toReceiveCommandTimes(StartExecutionCommand, 1);
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
});
