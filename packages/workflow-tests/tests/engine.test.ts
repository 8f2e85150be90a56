import '@tradai/local-aws/polyfills';
import { namedError, runWorkflow } from '@tradai/local-aws';
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';

/** A one-state machine whose Pass state evaluates `parameters`, run by the local engine. */
const evaluate = async (parameters: Record<string, unknown>, input: unknown, context?: unknown) => {
  const machine = new StateMachine({
    StartAt: 'Evaluate',
    States: { Evaluate: { Type: 'Pass', Parameters: parameters, End: true } },
  } as never);
  return machine.run(input as never, { context: context as never }).result as Promise<
    Record<string, unknown>
  >;
};

// patches/aws-local-stepfunctions+3.0.0.patch, applied by `npm ci` (postinstall: patch-package).
describe('the local engine, where the machines depend on it behaving like AWS', () => {
  it('keeps the escapes States.JsonToString writes, so nested JSON text stays JSON', async () => {
    // Prepare
    const error = { Error: 'States.TaskFailed', Cause: JSON.stringify({ StopCode: 'SpotInterruption' }) };

    // Act
    const output = await evaluate({ 'text.$': 'States.JsonToString($.error)' }, { error });

    // Assess
    expect(output.text).toBe(JSON.stringify(error));
    expect(JSON.parse(String(output.text))).toEqual(error);
  });

  it("reads a quoted literal's escapes as AWS does (\\' is a quote), and keeps a value's backslashes", async () => {
    // Act
    const output = await evaluate(
      { 'text.$': "States.Format('it\\'s {}', $.path)" },
      { path: 'C:\\runs\\42' },
    );

    // Assess
    expect(output.text).toBe("it's C:\\runs\\42");
  });

  it('takes $$.Execution.StartTime from the execution, not from the wall clock', async () => {
    // Act
    const output = await evaluate(
      { 'start.$': '$$.Execution.StartTime' },
      {},
      {
        Execution: { StartTime: '2026-01-05T09:00:00.000Z' },
      },
    );

    // Assess
    expect(output.start).toBe('2026-01-05T09:00:00.000Z');
  });

  it('advances $$.State.EnteredTime with the simulated clock: the record spans the 42 container minutes', async () => {
    // Act
    const run = await runWorkflow({ machine: 'backtest', caseName: 'ContainerExitsNonZero' });

    // Assess
    const started = Date.parse(String(run.record?.started_at));
    const completed = Date.parse(String(run.record?.completed_at));
    expect(started).toBe(run.end.startDate);
    expect(completed - started).toBeGreaterThanOrEqual(42 * 60_000);
    expect(completed).toBeLessThanOrEqual(run.end.stopDate);
  });
});

describe("the world's failures, as the engine matches them", () => {
  it('raises a task timeout that a States.TaskFailed catcher does not catch, as AWS never would', async () => {
    // Prepare
    const machine = new StateMachine({
      StartAt: 'Work',
      States: {
        Work: {
          Type: 'Task',
          Resource: 'arn:aws:states:::ecs:runTask.sync',
          TimeoutSeconds: 60,
          Catch: [
            { ErrorEquals: ['States.TaskFailed'], ResultPath: '$.error', Next: 'TaskFailed' },
            { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'TimedOut' },
          ],
          End: true,
        },
        TaskFailed: { Type: 'Pass', Result: 'TaskFailed', End: true },
        TimedOut: { Type: 'Pass', Result: 'TimedOut', End: true },
      },
    } as never);

    // Act
    const output = await machine.run({} as never, {
      overrides: {
        taskResourceLocalHandlers: {
          Work: async () => {
            throw namedError('States.Timeout', 'Work did not finish within 60 s');
          },
        },
      },
    }).result;

    // Assess
    expect(output).toBe('TimedOut');
  });
});

describe('simulated time, everywhere a run reads the clock', () => {
  it("stamps what a handler writes with the run's time: data quality is checked when the 12-minute collection ends", async () => {
    // Act
    const run = await runWorkflow({ machine: 'data-sync', caseName: 'HappyPath' });

    // Assess: the world starts at 09:00; the data-collection task takes 12 simulated minutes
    expect(run.status).toBe('SUCCEEDED');
    expect((run.output as { quality: { checked_at: string } }).quality.checked_at).toBe(
      '2026-01-05T09:12:00.000Z',
    );
  });

  it('times each state on the simulated clock: a Spot loss after 7 minutes, then 42 on demand', async () => {
    // Act
    const run = await runWorkflow({ machine: 'backtest', caseName: 'SpotInterruptedFallsBackToOnDemand' });

    // Assess
    const visits = run.events
      .filter((e) => e.state === 'RunBacktest' && (e.event === 'caught' || e.event === 'exited'))
      .map((e) => [e.event, (e.simulatedMs ?? 0) / 60_000]);
    // The engine reports a caught state as caught, then exited.
    expect(visits).toEqual([
      ['caught', 7],
      ['exited', 7],
      ['exited', 42],
    ]);
    expect(run.record).toMatchObject({
      started_at: '2026-01-05T09:00:00.000Z',
      completed_at: '2026-01-05T09:49:00.000Z',
    });
  });
});

describe("the in-memory DynamoDB answers the functions' SDK calls as DynamoDB does", () => {
  it('deletes under a DeleteItem condition only when it holds (a lease another execution took stays)', async () => {
    // Prepare: the lease now belongs to execution B
    const { seedWorld, withWorld } = await import('@tradai/local-aws');
    const { DeleteItemCommand, DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const world = seedWorld();
    const key = { service: { S: 'tradai-local-live-strategytestv3' } };
    world.putItem('leases', key, { ...key, execution_arn: { S: 'arn:b' } }, {});
    const release = (arn: string) =>
      new DynamoDBClient({}).send(
        new DeleteItemCommand({
          TableName: 'leases',
          Key: key,
          ConditionExpression: 'execution_arn = :arn',
          ExpressionAttributeValues: { ':arn': { S: arn } },
        }),
      );

    // Act
    const byA = await withWorld(world, {}, () =>
      release('arn:a').then(
        () => 'deleted',
        (e: Error) => e.name,
      ),
    );
    const held = world.item('leases', key);
    const byB = await withWorld(world, {}, () =>
      release('arn:b').then(
        () => 'deleted',
        (e: Error) => e.name,
      ),
    );

    // Assess
    expect(byA).toBe('ConditionalCheckFailedException');
    expect(held).toMatchObject({ execution_arn: { S: 'arn:b' } });
    expect(byB).toBe('deleted');
    expect(world.item('leases', key)).toBeUndefined();
  });
});

describe("the in-memory DynamoDB keys a PutItem by the table's KeySchema", () => {
  it('stores an item under its key attribute wherever the attribute stands in the Item', async () => {
    // Prepare: the deploy leases table, keyed by service_name; the Item lists another attribute first
    const { seedWorld, LOCAL_STACK } = await import('@tradai/local-aws');
    const { answerDynamoDbTask } = await import('@tradai/local-aws/dynamodb-tasks');
    const world = seedWorld();
    const table = Object.keys(LOCAL_STACK.tableKeys).find((name) =>
      name.endsWith('-deploy-leases'),
    ) as string;
    const Item = { execution_arn: { S: 'arn:a' }, service_name: { S: 'tradai-local-live-strategytestv3' } };

    // Act
    answerDynamoDbTask(world, 'arn:aws:states:::dynamodb:putItem', { TableName: table, Item });

    // Assess
    expect(LOCAL_STACK.tableKeys[table]).toBe('service_name');
    expect(world.item(table, { service_name: Item.service_name })).toEqual(Item);
    expect(world.item(table, { execution_arn: Item.execution_arn })).toBeUndefined();
  });
});
