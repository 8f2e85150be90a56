import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { censusOfRejections, fakeContext, statusChangeEvent } from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';

const dynamodbMock = mockClient(DynamoDBClient);
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:tradai-dev-backtest:run-42';
const event = (
  status: string,
  machine = 'tradai-dev-backtest',
  stopDate: number | null = 1_736_070_120_000,
  extra: Record<string, unknown> = {},
) => statusChangeEvent(status, { machine, ...(status !== 'RUNNING' && { stopDate }), ...extra });

/** A fresh module with metrics on, printing EMF to console.log; returns the handler and the EMF records. */
const load = async () => {
  vi.resetModules();
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  vi.stubEnv('POWERTOOLS_DEV', 'true');
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
    lines.push(String(line));
  });
  const { handler } = await import('../../src');
  const emf = () =>
    lines
      .flatMap((line) => {
        try {
          return [JSON.parse(line)];
        } catch {
          return [];
        }
      })
      .filter((record) => record._aws?.CloudWatchMetrics?.[0]?.Dimensions?.[0]?.[0] === 'WorkflowType');
  return { invoke: (input: unknown) => handler(input, fakeContext('tradai-dev-execution-metrics')), emf };
};

/** DynamoDB's conditional put on event_key, remembered: a second claim of a key fails. */
const rememberClaims = () => {
  const claimed = new Set<string>();
  dynamodbMock.on(PutItemCommand).callsFake(async ({ Item }) => {
    const key = String(Item?.event_key?.S);
    if (claimed.has(key))
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    claimed.add(key);
    return {};
  });
  return claimed;
};

describe('execution-metrics', () => {
  beforeEach(() => {
    vi.clearAllMocks();
    dynamodbMock.reset();
    dynamodbMock.on(PutItemCommand).resolves({});
    vi.stubEnv('METRIC_EVENTS_TABLE', 'tradai-dev-execution-metric-events');
    vi.stubEnv('STATE_MACHINE_PREFIX', 'tradai-dev-');
  });

  it.each([
    ['RUNNING', { ExecutionStarted: 1 }, undefined],
    ['SUCCEEDED', { ExecutionSucceeded: 1, ExecutionDuration: 2520 }, undefined],
    ['FAILED', { ExecutionFailed: 1, InfrastructureFailure: 1, ExecutionDuration: 2520 }, 'FAILED'],
    ['TIMED_OUT', { ExecutionFailed: 1, InfrastructureFailure: 1, ExecutionDuration: 2520 }, 'TIMED_OUT'],
    ['ABORTED', { ExecutionFailed: 1, ExecutionAborted: 1, ExecutionDuration: 2520 }, 'ABORTED'],
  ])(
    'emits the %s metrics in TradAI/StepFunctions with WorkflowType as the only dimension',
    async (status, values, said) => {
      // Prepare
      const { invoke, emf } = await load();

      // Act
      await invoke(event(status));

      // Assess
      const [record, ...more] = emf();
      expect(more).toEqual([]);
      expect(record._aws.CloudWatchMetrics[0]).toEqual({
        Namespace: 'TradAI/StepFunctions',
        Dimensions: [['WorkflowType']],
        Metrics: Object.keys(values).map((name) => ({
          Name: name,
          Unit: name === 'ExecutionDuration' ? 'Seconds' : 'Count',
        })),
      });
      expect(record).toMatchObject({ WorkflowType: 'backtest', ...values });
      expect(record.execution_status).toBe(said);
    },
  );

  it.each([
    ['ValidationError', 'BusinessFailure'],
    ['DataStaleError', 'BusinessFailure'],
    ['DuplicateRunError', 'BusinessFailure'],
    ['DeploymentRefusedError', 'BusinessFailure'],
    ['BacktestTaskFailedError', 'InfrastructureFailure'],
    ['States.TaskFailed', 'InfrastructureFailure'],
    ['ConfigurationError', 'InfrastructureFailure'],
    [null, 'InfrastructureFailure'],
  ])('classes a FAILED execution whose error is %s as %s', async (error, metric) => {
    // Prepare
    const { invoke, emf } = await load();

    // Act
    await invoke(event('FAILED', 'tradai-dev-backtest', 1_736_070_120_000, { error }));

    // Assess
    const [record] = emf();
    const names = record._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name);
    expect(names).toEqual(['ExecutionFailed', metric, 'ExecutionDuration']);
    expect(record.error_name).toBe(error ?? '');
  });

  it('counts a PENDING_REDRIVE event as ExecutionRedriven, not as a failure, instead of refusing it', async () => {
    // Prepare (before, the event failed the schema: Lambda retried it twice and dropped it)
    const { invoke, emf } = await load();

    // Act
    const result = await invoke(event('PENDING_REDRIVE', 'tradai-dev-backtest', 1_736_070_120_000));

    // Assess
    expect(result.emitted).toBe(true);
    const names = emf()[0]._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name);
    expect(names).toEqual(['ExecutionRedriven']);
  });

  it('counts the failure of a redriven execution again, once per redrive', async () => {
    // Prepare: DynamoDB remembers the claims
    const claimed = rememberClaims();
    const { invoke, emf } = await load();

    // Act
    const first = await invoke(
      event('FAILED', 'tradai-dev-backtest', 1_736_070_120_000, { redriveCount: 0 }),
    );
    const redriven = await invoke(
      event('FAILED', 'tradai-dev-backtest', 1_736_070_120_000, { redriveCount: 1 }),
    );
    const again = await invoke(
      event('FAILED', 'tradai-dev-backtest', 1_736_070_120_000, { redriveCount: 1 }),
    );

    // Assess
    expect([first, redriven, again].map((r) => r.emitted)).toEqual([true, true, false]);
    expect(emf().map((record) => record.ExecutionFailed)).toEqual([1, 1]);
    expect([...claimed]).toEqual([`${EXECUTION}#FAILED#0`, `${EXECUTION}#FAILED#1`]);
  });

  it.each([
    ['tradai-dev-backtest-simplified', 'backtest'],
    ['tradai-dev-data-sync', 'data-sync'],
    ['tradai-dev-deploy', 'deploy'],
  ])('counts %s as WorkflowType %s', async (machine, workflowType) => {
    const { invoke, emf } = await load();
    await invoke(event('SUCCEEDED', machine));
    expect(emf()[0]).toMatchObject({ WorkflowType: workflowType });
  });

  it('emits nothing twice for the same execution and status', async () => {
    // Prepare: DynamoDB remembers the first claim
    rememberClaims();
    const { invoke, emf } = await load();

    // Act
    const first = await invoke(event('FAILED'));
    const duplicate = await invoke(event('FAILED'));
    const next = await invoke(event('RUNNING'));

    // Assess
    expect([first, duplicate, next]).toEqual([
      { emitted: true },
      { emitted: false, reason: 'duplicate' },
      { emitted: true },
    ]);
    expect(emf().map((record) => record.ExecutionFailed ?? record.ExecutionStarted)).toEqual([1, 1]);
    expect(dynamodbMock).toReceiveCommandWith(PutItemCommand, {
      TableName: 'tradai-dev-execution-metric-events',
      ConditionExpression: 'attribute_not_exists(event_key)',
      Item: expect.objectContaining({ event_key: { S: `${EXECUTION}#FAILED#0` } }),
    });
  });

  it('ignores a machine that is not ours, without claiming anything', async () => {
    const { invoke, emf } = await load();
    await expect(invoke(event('FAILED', 'someone-elses-machine'))).resolves.toMatchObject({ emitted: false });
    expect(emf()).toEqual([]);
    expect(dynamodbMock).not.toReceiveCommand(PutItemCommand);
  });

  it('answers any input with metrics, a skip or a named ValidationError', async () => {
    // Prepare: a fresh module, with metrics off again
    vi.resetModules();
    const { handler } = await import('../../src');
    const events = fc.oneof(
      fc.constantFrom('RUNNING', 'SUCCEEDED', 'PAUSED').map((status) => event(status)),
      fc.anything(),
    );

    // Act
    const census = await censusOfRejections(handler, events, { numRuns: 300 });

    // Assess
    expect(census.answered).toBeGreaterThan(0);
    expect(census.rejected).toBeGreaterThan(0);
  });
});
