import { type ChildRun, LOCAL, runDistributedMap, World } from '@tradai/local-aws';
import { describe, expect, it } from 'vitest';

const MACHINE = `arn:aws:states:${LOCAL.region}:${LOCAL.accountId}:stateMachine:tradai-local-backtest-sweep`;
const MINUTE = 60_000;

/** A Distributed Map as the sweep machine writes it: items from S3, results to S3. */
const mapState = (extra: Record<string, unknown> = {}) =>
  ({
    Type: 'Map',
    ItemReader: {
      Resource: 'arn:aws:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSON' },
      Parameters: { 'Bucket.$': '$.items.bucket', 'Key.$': '$.items.key' },
    },
    ItemSelector: {
      'request.$': '$$.Map.Item.Value',
      'index.$': '$$.Map.Item.Index',
      'sweep_id.$': '$.sweep_id',
    },
    MaxConcurrencyPath: '$.max_concurrency',
    ToleratedFailurePercentagePath: '$.tolerated',
    ItemProcessor: {
      ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
      StartAt: 'RunVariant',
      States: {
        RunVariant: { Type: 'Task', Resource: 'arn:aws:states:::states:startExecution.sync:2', End: true },
      },
    },
    ResultWriter: {
      Resource: 'arn:aws:states:::s3:putObject',
      Parameters: { Bucket: 'runs', 'Prefix.$': '$.prefix' },
    },
    End: true,
    ...extra,
  }) as never;

const setUp = (count: number, input: Record<string, unknown> = {}) => {
  const world = new World({ ...LOCAL });
  world.putObject(
    'runs',
    'sweeps/sw/items.json',
    JSON.stringify(Array.from({ length: count }, (_, i) => ({ run_id: `sw-${i}` }))),
  );
  return {
    world,
    input: {
      sweep_id: 'sw',
      items: { bucket: 'runs', key: 'sweeps/sw/items.json' },
      prefix: 'sweeps/sw/results',
      max_concurrency: 4,
      tolerated: 10,
      ...input,
    },
  };
};

/** A child that takes `minutes` of its own clock, and fails when `fails` says so. */
const child =
  (
    world: World,
    minutes: number,
    fails: (input: { index: number }) => boolean = () => false,
    seen: unknown[] = [],
  ) =>
  async (_: unknown, input: unknown, name: string): Promise<ChildRun> => {
    seen.push(input);
    world.now += minutes * MINUTE;
    const executionArn = `${MACHINE.replace('stateMachine', 'execution')}/RunVariants:${name}`;
    return fails(input as { index: number })
      ? {
          status: 'FAILED',
          executionArn,
          error: { Error: 'States.TaskFailed', Cause: '{"Error":"BacktestResultError"}' },
        }
      : {
          status: 'SUCCEEDED',
          executionArn,
          output: { run_id: (input as { request: { run_id: string } }).request.run_id },
        };
  };

const ctx = (world: World, runChild: ReturnType<typeof child>) => ({
  world,
  stateMachineArn: MACHINE,
  executionName: 'sw',
  stateName: 'RunVariants',
  runChild,
});

describe("the local engine's Distributed Map (a stand-in for what aws-local-stepfunctions lacks)", () => {
  it('runs every item as a child, at most MaxConcurrency at once, each on its own clock', async () => {
    // Prepare: 10 variants of 42 minutes, 4 at a time
    const { world, input } = setUp(10);
    const seen: unknown[] = [];
    const start = world.now;

    // Act
    const output = await runDistributedMap(
      mapState(),
      input,
      ctx(
        world,
        child(world, 42, () => false, seen),
      ),
    );

    // Assess: three waves (4, 4, 2) of 42 minutes each
    expect((world.now - start) / MINUTE).toBe(126);
    expect(seen).toHaveLength(10);
    expect(seen[7]).toEqual({ request: { run_id: 'sw-7' }, index: 7, sweep_id: 'sw' });
    expect(output).toMatchObject({
      ResultWriterDetails: {
        Bucket: 'runs',
        Key: expect.stringMatching(/^sweeps\/sw\/results\/[0-9a-f-]{36}\/manifest\.json$/),
      },
    });
  });

  it('starts each child on the slot that frees first, in simulated time', async () => {
    // Prepare: one long child among short ones, two at a time
    const { world, input } = setUp(5, { max_concurrency: 2 });
    const minutes = [10, 50, 10, 10, 10];
    const starts: number[] = [];
    const runChild = async (_: unknown, item: unknown, name: string): Promise<ChildRun> => {
      const { index } = item as { index: number };
      starts[index] = (world.now - Date.parse('2026-01-05T09:00:00Z')) / MINUTE;
      world.now += (minutes[index] ?? 0) * MINUTE;
      return {
        status: 'SUCCEEDED',
        executionArn: `arn:aws:states:us-east-1:123456789012:execution:x/RunVariants:${name}`,
        output: {},
      };
    };

    // Act
    await runDistributedMap(mapState(), input, ctx(world, runChild));

    // Assess: the short ones follow each other on one slot while the long one runs on the other
    expect(starts).toEqual([0, 0, 10, 20, 30]);
    expect((world.now - Date.parse('2026-01-05T09:00:00Z')) / MINUTE).toBe(50);
  });

  it('writes the results as ResultWriter does: a manifest, and the succeeded and failed children', async () => {
    // Prepare: one failure in ten is within a 10% tolerance
    const { world, input } = setUp(10);

    // Act
    const output = (await runDistributedMap(
      mapState(),
      input,
      ctx(
        world,
        child(world, 42, (i) => i.index === 3),
      ),
    )) as { ResultWriterDetails: { Key: string } };

    // Assess
    const read = (key: string) => JSON.parse(new TextDecoder().decode(world.getObject('runs', key)?.body));
    const manifest = read(output.ResultWriterDetails.Key);
    expect(manifest.ResultFiles.SUCCEEDED).toHaveLength(1);
    const succeeded = read(manifest.ResultFiles.SUCCEEDED[0].Key);
    const failed = read(manifest.ResultFiles.FAILED[0].Key);
    expect(succeeded).toHaveLength(9);
    expect(failed).toEqual([
      expect.objectContaining({
        Status: 'FAILED',
        Error: 'States.TaskFailed',
        Input: JSON.stringify({ request: { run_id: 'sw-3' }, index: 3, sweep_id: 'sw' }),
      }),
    ]);
    expect(JSON.parse(succeeded[0].Output)).toEqual({ run_id: 'sw-0' });
  });

  it('fails with States.ExceedToleratedFailureThreshold past the tolerance, stops starting children, and still writes what ran', async () => {
    // Prepare: every other child fails, 10% tolerated, one at a time
    const { world, input } = setUp(10, { max_concurrency: 1 });

    // Act
    const act = runDistributedMap(
      mapState(),
      input,
      ctx(
        world,
        child(world, 42, (i) => i.index % 2 === 1),
      ),
    );

    // Assess: the second failure (index 3) is 20% > 10%: nothing after it starts
    await expect(act).rejects.toMatchObject({
      name: 'States.ExceedToleratedFailureThreshold',
      message: expect.stringContaining('2 of 10'),
    });
    const keys = world.keys('runs', 'sweeps/sw/results/');
    const pending = keys.find((key) => key.endsWith('PENDING_0.json')) as string;
    expect(JSON.parse(new TextDecoder().decode(world.getObject('runs', pending)?.body))).toHaveLength(6);
  });

  it('fails with States.ItemReaderFailed when the items are not there', async () => {
    // Prepare
    const { world, input } = setUp(1);

    // Act
    const act = runDistributedMap(
      mapState(),
      { ...input, items: { bucket: 'runs', key: 'sweeps/other/items.json' } },
      ctx(world, child(world, 1)),
    );

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'States.ItemReaderFailed' });
  });
});

describe('a backtest that is a variant of a sweep', () => {
  it('runs and records as any run, and leaves notifying to the sweep', async () => {
    // Prepare
    const { runWorkflow, caseDefinition, caseInput } = await import('@tradai/local-aws');
    const input = {
      ...(caseInput('backtest', caseDefinition('backtest', 'HappyPath')) as object),
      sweep_id: 'grid-24',
    };

    // Act
    const run = await runWorkflow({ machine: 'backtest', caseName: 'HappyPath', input });

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.record).toMatchObject({ status: 'COMPLETED' });
    expect(run.states).toContain('NotifyCompletion');
    expect(run.world.published).toEqual([]);
  });
});

describe('a sweep stopped from outside (AbortedSweep: StopExecution 60 simulated minutes in)', () => {
  it('aborts the running variants with it, starts no other, and leaves every record closed with one notice', async () => {
    // Prepare
    const { runWorkflow, TABLE } = await import('@tradai/local-aws');

    // Act
    const run = await runWorkflow({ machine: 'backtest-sweep', caseName: 'AbortedSweep' });

    // Assess: 24 variants, 8 at a time, 42 minutes each; the stop comes in the second wave
    const variant = (index: number) =>
      run.world.record(TABLE, `sweep-20260105-strategytestv3-grid-${index}`) as
        | { status?: string }
        | undefined;
    const statuses = Array.from({ length: 24 }, (_, index) => variant(index)?.status ?? 'never started');
    expect(statuses.filter((s) => s === 'COMPLETED')).toHaveLength(8);
    expect(statuses.filter((s) => s === 'ABORTED')).toHaveLength(8);
    expect(statuses.filter((s) => s === 'never started')).toHaveLength(8);
    expect(run.nested.filter((n) => n.status === 'ABORTED').map((n) => n.name)).toEqual(
      Array.from({ length: 8 }, (_, index) => `sweep-20260105-strategytestv3-grid-${index + 8}`),
    );
    // Each aborted record was closed by reconcile-run at the stop, the sweep's too, on the simulated clock.
    const stop = new Date(run.end.stopDate).toISOString();
    expect(Date.parse(stop) - run.end.startDate).toBeGreaterThanOrEqual(60 * MINUTE);
    expect(Date.parse(stop) - run.end.startDate).toBeLessThan(61 * MINUTE);
    for (let index = 8; index < 16; index++)
      expect(variant(index)).toMatchObject({
        status: 'ABORTED',
        error_name: 'ExecutionAborted',
        completed_at: stop,
      });
    expect(run.record).toMatchObject({ completed_at: stop });
    expect(run.record).toMatchObject({ status: 'ABORTED', workflow: 'backtest-sweep' });
    expect(run.world.published.map((m) => m.attributes.status)).toEqual(['ABORTED']);
  });
});
