import { describe, expect, it } from 'vitest';
import {
  type ChildRun,
  LOCAL_DISTRIBUTED_MAP,
  LOCAL_INLINE_MAP,
  runDistributedMap,
  runInlineMap,
  withMapsAsTasks,
} from '../src/distributed-map';
import { type AslDefinition, allStates } from '../src/machines';
import { World } from '../src/world';

const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:tradai-local-synthetic';
const START = Date.parse('2026-01-05T09:00:00Z');
const MINUTE = 60_000;
const minutesSince = (world: World) => (world.now - START) / MINUTE;

/** A synthetic Distributed Map: items from the input, one Task per child, ItemBatcher as given. */
const distributedMap = (extra: Record<string, unknown> = {}) =>
  ({
    Type: 'Map',
    ItemsPath: '$.items',
    ItemProcessor: {
      ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
      StartAt: 'Work',
      States: { Work: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', End: true } },
    },
    End: true,
    ...extra,
  }) as never;

const items = (count: number) => Array.from({ length: count }, (_, i) => ({ id: `item-${i}` }));

/**
 * A child that takes `minutes` of its own clock and records its input; it fails when `fails` says
 * so of its input.
 */
const recordingChild = (world: World, minutes = 10, fails: (input: unknown) => boolean = () => false) => {
  const inputs: unknown[] = [];
  const runChild = async (_: AslDefinition, input: unknown, name: string): Promise<ChildRun> => {
    inputs.push(input);
    world.now += minutes * MINUTE;
    const executionArn = `${MACHINE.replace(':stateMachine:', ':execution:')}/Batches:${name}`;
    return fails(input)
      ? { status: 'FAILED', executionArn, error: { Error: 'States.TaskFailed', Cause: 'no' } }
      : { status: 'SUCCEEDED', executionArn, output: { seen: input } };
  };
  return { inputs, runChild };
};

const context = (world: World, runChild: ReturnType<typeof recordingChild>['runChild']) => ({
  world,
  stateMachineArn: MACHINE,
  executionName: 'synthetic',
  stateName: 'Batches',
  runChild,
});

const read = (world: World, bucket: string, key: string) =>
  JSON.parse(new TextDecoder().decode(world.getObject(bucket, key)?.body));

describe('a Distributed Map with an ItemBatcher', () => {
  it('splits the items into batches of MaxItemsPerBatch, in order, each child getting {"Items": [...]}', async () => {
    // Prepare
    const world = new World({ accountId: '123456789012', region: 'us-east-1', stage: 'local' });
    const child = recordingChild(world);

    // Act
    const output = await runDistributedMap(
      distributedMap({ ItemBatcher: { MaxItemsPerBatch: 4 }, MaxConcurrency: 10 }),
      { items: items(10) },
      context(world, child.runChild),
    );

    // Assess: 4 + 4 + 2, each batch one child, all at once
    expect(child.inputs).toEqual([
      { Items: items(10).slice(0, 4) },
      { Items: items(10).slice(4, 8) },
      { Items: items(10).slice(8) },
    ]);
    expect(output).toEqual(child.inputs.map((input) => ({ seen: input })));
    expect(minutesSince(world)).toBe(10);
  });

  it('passes BatchInput to every child, and shapes each item with ItemSelector before batching', async () => {
    // Prepare
    const world = new World({ accountId: '123456789012', region: 'us-east-1', stage: 'local' });
    const child = recordingChild(world);

    // Act
    await runDistributedMap(
      distributedMap({
        ItemSelector: {
          'id.$': '$$.Map.Item.Value.id',
          'index.$': '$$.Map.Item.Index',
          'sweep.$': '$.sweep',
        },
        ItemBatcher: {
          MaxItemsPerBatchPath: '$.per_batch',
          BatchInput: { 'sweep_id.$': '$.sweep', fixed: true },
        },
      }),
      { items: items(5), per_batch: 3, sweep: 'sw-1' },
      context(world, child.runChild),
    );

    // Assess
    const shaped = (i: number) => ({ id: `item-${i}`, index: i, sweep: 'sw-1' });
    expect(child.inputs).toEqual([
      { BatchInput: { sweep_id: 'sw-1', fixed: true }, Items: [shaped(0), shaped(1), shaped(2)] },
      { BatchInput: { sweep_id: 'sw-1', fixed: true }, Items: [shaped(3), shaped(4)] },
    ]);
  });

  it('keeps every batch within MaxInputBytesPerBatch, the whole child input counted', async () => {
    // Prepare: items of 50 bytes of JSON each
    const world = new World({ accountId: '123456789012', region: 'us-east-1', stage: 'local' });
    const child = recordingChild(world);
    const big = Array.from({ length: 7 }, (_, i) => ({ pad: `${i}`.padEnd(40, 'x') }));
    expect(JSON.stringify(big[0])).toHaveLength(50);
    // `{"BatchInput":{"b":1},"Items":[]}` is 33 bytes; three items and two commas make 185.
    const limit = 33 + 3 * 50 + 2;

    // Act
    await runDistributedMap(
      distributedMap({
        ItemBatcher: { MaxInputBytesPerBatchPath: '$.bytes', BatchInput: { b: 1 } },
        MaxConcurrency: 1,
      }),
      { items: big, bytes: limit },
      context(world, child.runChild),
    );

    // Assess: 3 + 3 + 1, no batch over the limit, and none could have taken one more item
    const batches = child.inputs as { Items: unknown[] }[];
    expect(batches.map((b) => b.Items.length)).toEqual([3, 3, 1]);
    for (const batch of batches) expect(Buffer.byteLength(JSON.stringify(batch))).toBeLessThanOrEqual(limit);
    expect(
      Buffer.byteLength(JSON.stringify({ BatchInput: { b: 1 }, Items: big.slice(0, 4) })),
    ).toBeGreaterThan(limit);
    expect(minutesSince(world)).toBe(30);
  });

  it('takes the smaller batch when both limits are given', async () => {
    // Prepare
    const world = new World({ accountId: '123456789012', region: 'us-east-1', stage: 'local' });
    const child = recordingChild(world);

    // Act: by count 2 a batch; by bytes 3 would fit
    await runDistributedMap(
      distributedMap({ ItemBatcher: { MaxItemsPerBatch: 2, MaxInputBytesPerBatch: 1_000 } }),
      { items: items(5) },
      context(world, child.runChild),
    );

    // Assess
    expect((child.inputs as { Items: unknown[] }[]).map((b) => b.Items.length)).toEqual([2, 2, 1]);
  });

  it('fails the Map Run when one item alone is over MaxInputBytesPerBatch', async () => {
    // Prepare
    const world = new World({ accountId: '123456789012', region: 'us-east-1', stage: 'local' });
    const child = recordingChild(world);

    // Act
    const act = runDistributedMap(
      distributedMap({ ItemBatcher: { MaxInputBytesPerBatch: 40 } }),
      { items: [{ id: 'a' }, { id: 'x'.repeat(40) }] },
      context(world, child.runChild),
    );

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'States.DataLimitExceeded' });
    expect(child.inputs).toEqual([]);
  });

  it('refuses an ItemBatcher with neither limit, or a byte limit over 256 KiB', async () => {
    const world = new World({ accountId: '123456789012', region: 'us-east-1', stage: 'local' });
    const child = recordingChild(world);
    for (const ItemBatcher of [
      { BatchInput: {} },
      { MaxInputBytesPerBatch: 262_145 },
      { MaxItemsPerBatch: 0 },
    ])
      await expect(
        runDistributedMap(
          distributedMap({ ItemBatcher }),
          { items: items(2) },
          context(world, child.runChild),
        ),
      ).rejects.toMatchObject({ name: 'States.Runtime' });
  });

  it('counts a failed child as a failure of every item of its batch against the tolerance', async () => {
    // Prepare: 10 items in batches of 5; the second batch fails
    const failsSecond = (input: unknown) => (input as { Items: { id: string }[] }).Items[0]?.id === 'item-5';
    const run = async (tolerated: number) => {
      const world = new World({ accountId: '123456789012', region: 'us-east-1', stage: 'local' });
      const child = recordingChild(world, 10, failsSecond);
      const result = runDistributedMap(
        distributedMap({
          ItemBatcher: { MaxItemsPerBatch: 5 },
          ToleratedFailurePercentage: tolerated,
          ResultWriter: {
            Resource: 'arn:aws:states:::s3:putObject',
            Parameters: { Bucket: 'out', Prefix: 'res' },
          },
        }),
        { items: items(10) },
        context(world, child.runChild),
      );
      return { world, result };
    };

    // Act + Assess: 5 of 10 items failed is 50%: over 49%, within 50%
    const over = await run(49);
    await expect(over.result).rejects.toMatchObject({
      name: 'States.ExceedToleratedFailureThreshold',
      message: expect.stringContaining('5 of 10 items failed, in 1 of 2 child executions'),
    });
    const within = await run(50);
    const output = (await within.result) as { ResultWriterDetails: { Bucket: string; Key: string } };

    // The ResultWriter records one entry per child, its input the batch
    const manifest = read(within.world, 'out', output.ResultWriterDetails.Key);
    const succeeded = read(within.world, 'out', manifest.ResultFiles.SUCCEEDED[0].Key);
    const failed = read(within.world, 'out', manifest.ResultFiles.FAILED[0].Key);
    expect(succeeded).toHaveLength(1);
    expect(failed).toHaveLength(1);
    expect(JSON.parse(succeeded[0].Input)).toEqual({ Items: items(10).slice(0, 5) });
    expect(JSON.parse(failed[0].Input)).toEqual({ Items: items(10).slice(5) });
    expect(failed[0]).toMatchObject({ Status: 'FAILED', Error: 'States.TaskFailed' });
  });

  it('lists the batches never started as PENDING when the tolerance is exceeded', async () => {
    // Prepare: one child at a time, every batch fails, none tolerated
    const world = new World({ accountId: '123456789012', region: 'us-east-1', stage: 'local' });
    const child = recordingChild(world, 10, () => true);

    // Act
    const act = runDistributedMap(
      distributedMap({
        ItemBatcher: { MaxItemsPerBatch: 2 },
        MaxConcurrency: 1,
        ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: 'out' } },
      }),
      { items: items(6) },
      context(world, child.runChild),
    );

    // Assess: the first batch fails (2 of 6 items), no other starts
    await expect(act).rejects.toMatchObject({ message: expect.stringContaining('2 of 6 items failed') });
    const pending = world.keys('out').find((key) => key.endsWith('PENDING_0.json')) as string;
    expect(read(world, 'out', pending).map((p: { Input: string }) => JSON.parse(p.Input))).toEqual([
      { Items: items(6).slice(2, 4) },
      { Items: items(6).slice(4) },
    ]);
  });
});

describe('an inline Map', () => {
  const world = () => new World({ accountId: '123456789012', region: 'us-east-1', stage: 'local' });
  const iterator: AslDefinition = { StartAt: 'Step', States: { Step: { Type: 'Pass', End: true } } };

  it('runs each iteration on a clock of its own, at most MaxConcurrency at once, its outputs in item order', async () => {
    // Prepare: 30, 10, 20 minutes, two at a time
    const w = world();
    const starts: number[] = [];

    // Act
    const output = await runInlineMap(
      {
        Type: 'Map',
        ItemsPath: '$.minutes',
        MaxConcurrency: 2,
        ItemSelector: { 'minutes.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index' },
        ItemProcessor: iterator,
      },
      { minutes: [30, 10, 20] },
      {
        world: w,
        context: {},
        runIteration: async (definition, input, index) => {
          expect(definition).toBe(iterator);
          starts[index] = minutesSince(w);
          w.now += (input as { minutes: number }).minutes * MINUTE;
          return { status: 'SUCCEEDED', output: input };
        },
      },
    );

    // Assess: the third starts when the second ends; the Map ends with the last
    expect(starts).toEqual([0, 0, 10]);
    expect(minutesSince(w)).toBe(30);
    expect(output).toEqual([
      { minutes: 30, index: 0 },
      { minutes: 10, index: 1 },
      { minutes: 20, index: 2 },
    ]);
  });

  it('fails with the error of the iteration that failed first, at the time it failed', async () => {
    // Prepare: iterations 1 and 2 fail, after 20 and 5 minutes
    const w = world();
    const minutes = [30, 20, 5];

    // Act
    const act = runInlineMap({ Type: 'Map', Iterator: iterator }, minutes, {
      world: w,
      context: {},
      runIteration: async (_, input, index) => {
        w.now += (input as number) * MINUTE;
        return index === 0
          ? { status: 'SUCCEEDED', output: input }
          : { status: 'FAILED', error: Object.assign(new Error(`iteration ${index}`), { name: 'Oops' }) };
      },
    });

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'Oops', message: 'iteration 2' });
    expect(minutesSince(w)).toBe(5);
  });

  it('refuses an input that is not an array', async () => {
    const act = runInlineMap(
      { Type: 'Map', ItemProcessor: iterator },
      { not: 'a list' },
      {
        world: world(),
        context: {},
        runIteration: async () => ({ status: 'SUCCEEDED' }),
      },
    );
    await expect(act).rejects.toMatchObject({ name: 'States.Runtime' });
  });
});

describe('Map states before the engine sees them', () => {
  const definition: AslDefinition = {
    StartAt: 'Fan',
    States: {
      Fan: {
        Type: 'Parallel',
        Branches: [
          {
            StartAt: 'Inner',
            States: {
              Inner: {
                Type: 'Map',
                Iterator: { StartAt: 'InIterator', States: { InIterator: { Type: 'Task', End: true } } },
                End: true,
              },
            },
          },
        ],
        Next: 'Batches',
      },
      Batches: {
        Type: 'Map',
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED' },
          StartAt: 'PerBatch',
          States: {
            PerBatch: {
              Type: 'Map',
              ItemsPath: '$.Items',
              ItemProcessor: { StartAt: 'RunVariant', States: { RunVariant: { Type: 'Task', End: true } } },
              End: true,
            },
          },
        },
        Retry: [{ ErrorEquals: ['States.ALL'] }],
        Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Done' }],
        Next: 'Done',
      },
      Done: { Type: 'Succeed' },
    },
  };

  it('lists the states of Parallel branches and of inline Maps, not those of a Distributed Map', () => {
    expect(allStates(definition).map(([name]) => name)).toEqual([
      'Fan',
      'Inner',
      'InIterator',
      'Batches',
      'Done',
    ]);
    const processor = (definition.States.Batches as unknown as { ItemProcessor: AslDefinition })
      .ItemProcessor;
    expect(allStates(processor).map(([name]) => name)).toEqual(['PerBatch', 'RunVariant']);
  });

  it('makes every Map a Task of a local resource, Parallel branches included, keeping its Retry and Catch', () => {
    const engine = withMapsAsTasks(definition);
    const inner = (engine.States.Fan as { Branches: AslDefinition[] }).Branches[0]?.States.Inner;
    expect(inner).toMatchObject({ Type: 'Task', Resource: LOCAL_INLINE_MAP, End: true });
    expect(engine.States.Batches).toMatchObject({
      Type: 'Task',
      Resource: LOCAL_DISTRIBUTED_MAP,
      Parameters: { 'input.$': '$' },
      Retry: definition.States.Batches?.Retry,
      Catch: definition.States.Batches?.Catch,
      Next: 'Done',
    });
    // A Map has no timeout; the engine's own (60 s of real time unless given) must not stop a long one.
    expect(engine.States.Batches?.TimeoutSeconds).toBeGreaterThan(86_400);
    expect(engine.States.Batches).not.toHaveProperty('ItemProcessor');
  });
});
