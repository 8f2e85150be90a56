import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { SPEC_TEST_INPUT } from '@tradai/lambda-kit/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { aws, physicalId } from './aws';
import { invokePackaged } from './bundles';
import { ACCOUNT, REGION } from './deploy';

const QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:tradai-dev-backtest-requests`;
const batch = (...bodies: [string, unknown][]) => ({
  Records: bodies.map(([messageId, body]) => ({
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: { ApproximateReceiveCount: '1' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: QUEUE_ARN,
    awsRegion: REGION,
  })),
});
const request = (runId: string) => ({ ...SPEC_TEST_INPUT, run_id: runId });

const record = async (runId: string) =>
  (
    await aws().dynamodb.send(
      new GetItemCommand({ TableName: 'tradai-dev-workflow-state', Key: { run_id: { S: runId } } }),
    )
  ).Item;
const executionsOf = async (machineLogicalId: string) =>
  (await aws().sfn.send(new ListExecutionsCommand({ stateMachineArn: physicalId(machineLogicalId) })))
    .executions ?? [];
/** What the trigger parked in the request DLQ, read back (and removed) with its attributes. */
const parked = async () => {
  const { sqs } = aws();
  const QueueUrl = physicalId('BacktestRequestDLQ');
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl,
      MaxNumberOfMessages: 10,
      MessageAttributeNames: ['All'],
      WaitTimeSeconds: 0,
    }),
  );
  for (const message of Messages)
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
  return Messages.map((message) => ({
    body: message.Body,
    attributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue]),
    ),
  }));
};

describe('backtest-trigger, packaged, on moto: SQS batch in, DynamoDB, Step Functions and the DLQ', () => {
  beforeAll(async () => {
    await parked();
  });

  it('records the run PENDING with a real conditional put, and starts the execution named after it', async () => {
    // Act
    const invoked = invokePackaged('backtest-trigger', batch(['m1', request('it-run-1')]));

    // Assess
    expect(invoked).toMatchObject({ ok: true, result: { batchItemFailures: [] } });
    expect(await record('it-run-1')).toMatchObject({
      run_id: { S: 'it-run-1' },
      status: { S: 'PENDING' },
      workflow: { S: 'backtest' },
      message_id: { S: 'm1' },
    });
    const started = (await executionsOf('BacktestStateMachine')).find((e) => e.name === 'it-run-1');
    expect(started).toBeDefined();
    const described = await aws().sfn.send(
      new DescribeExecutionCommand({ executionArn: started?.executionArn }),
    );
    expect(JSON.parse(String(described.input))).toMatchObject({
      run_id: 'it-run-1',
      start_date: '2024-01-01',
    });
  });

  it('starts nothing new and keeps the record when the message is delivered again', async () => {
    // Prepare
    invokePackaged('backtest-trigger', batch(['first', request('it-run-2')]));
    const before = await record('it-run-2');

    // Act
    const again = invokePackaged('backtest-trigger', batch(['again', request('it-run-2')]));

    // Assess
    expect(again).toMatchObject({ ok: true, result: { batchItemFailures: [] } });
    expect((await executionsOf('BacktestStateMachine')).filter((e) => e.name === 'it-run-2')).toHaveLength(1);
    expect(await record('it-run-2')).toEqual(before);
    expect(await parked()).toEqual([]);
  });

  it('parks a malformed message in the real DLQ with its reason and errors, and runs the rest of the batch', async () => {
    // Act
    const invoked = invokePackaged(
      'backtest-trigger',
      batch(['bad', { ...request('it-run-3'), timeframe: '7m' }], ['good', request('it-run-4')]),
    );

    // Assess
    expect(invoked).toMatchObject({ ok: true, result: { batchItemFailures: [] } });
    const [message, ...rest] = await parked();
    expect(rest).toEqual([]);
    expect(message?.attributes).toMatchObject({ reason: 'malformed', source_message_id: 'bad' });
    expect(JSON.parse(String(message?.attributes.validation_errors))).toEqual([
      expect.objectContaining({ field: 'timeframe' }),
    ]);
    expect(await record('it-run-3')).toBeUndefined();
    expect(await record('it-run-4')).toMatchObject({ status: { S: 'PENDING' } });
  });

  it('parks a message that reuses a run_id for another request as a conflict, and starts nothing', async () => {
    // Prepare
    invokePackaged('backtest-trigger', batch(['original', request('it-run-5')]));

    // Act
    invokePackaged(
      'backtest-trigger',
      batch(['reuse', { ...request('it-run-5'), experiment_name: 'another' }]),
    );

    // Assess
    const [message] = await parked();
    expect(message?.attributes).toMatchObject({ reason: 'conflict', existing_status: 'PENDING' });
    expect((await executionsOf('BacktestStateMachine')).filter((e) => e.name === 'it-run-5')).toHaveLength(1);
  });

  it('starts a sweep from the queue on the sweep machine, named after its sweep_id, and writes no record', async () => {
    // Prepare
    const { run_id: _, ...base } = SPEC_TEST_INPUT;
    const sweep = {
      ...base,
      workflow: 'backtest-sweep',
      sweep_id: 'it-sweep-1',
      grid: { stoploss: [-0.05, -0.1] },
    };

    // Act
    const first = invokePackaged('backtest-trigger', batch(['s1', sweep]));
    const again = invokePackaged('backtest-trigger', batch(['s2', sweep]));

    // Assess
    expect(first).toMatchObject({ ok: true, result: { batchItemFailures: [] } });
    expect(again).toMatchObject({ ok: true, result: { batchItemFailures: [] } });
    const sweeps = (await executionsOf('BacktestSweepStateMachine')).filter((e) => e.name === 'it-sweep-1');
    expect(sweeps).toHaveLength(1);
    const described = await aws().sfn.send(
      new DescribeExecutionCommand({ executionArn: sweeps[0]?.executionArn }),
    );
    expect(JSON.parse(String(described.input))).not.toHaveProperty('workflow');
    expect(await record('it-sweep-1')).toBeUndefined();
    expect(await parked()).toEqual([]);
  });
});
