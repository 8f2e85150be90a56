/*
 * The Map states, which aws-local-stepfunctions 3.0 runs only in part: it knows an inline Map, but
 * no ItemReader, ItemBatcher, ResultWriter, tolerated failures or child executions, and it runs an
 * inline Map's iterations on one clock (their simulated times would add up). Before the engine
 * sees a definition, each Map becomes a Task of a resource only this package answers:
 *   - a Distributed Map is AWS's Map Run: items read from S3 (or the input), batched if it says so,
 *     each item or batch run as a child execution of the ItemProcessor (its own clock, at most
 *     MaxConcurrency at once), failures counted against the tolerance, and the children's results
 *     written to S3 as ResultWriter writes them (docs/decisions/0037);
 *   - an inline Map runs its iterations in the same execution, each on its own clock, at most
 *     MaxConcurrency at once; the first to fail (in simulated time) fails the Map.
 */
import { createHash } from 'node:crypto';
import { createLimiter } from '@tradai/lambda-kit';
import { StateMachine } from 'aws-local-stepfunctions';
import type { AslDefinition, AslState } from './machines';
import { namedError } from './tasks';
import { onOwnClock, type World } from './world';

export const LOCAL_DISTRIBUTED_MAP = 'arn:aws:states:::local:distributedMap';
export const LOCAL_INLINE_MAP = 'arn:aws:states:::local:inlineMap';
/**
 * A Wait state, run as a task the world answers: it moves the world's clock on by its seconds and
 * passes its input through, as Step Functions does, without waiting real time.
 */
export const LOCAL_WAIT = 'arn:aws:states:::local:wait';

/** ItemBatcher: items grouped into one child execution's input, `{"BatchInput": ..., "Items": [...]}`. */
interface ItemBatcher {
  MaxItemsPerBatch?: number;
  MaxItemsPerBatchPath?: string;
  MaxInputBytesPerBatch?: number;
  MaxInputBytesPerBatchPath?: string;
  BatchInput?: unknown;
}

interface MapState extends AslState {
  ItemProcessor?: AslDefinition & { ProcessorConfig?: { Mode?: string } };
  /** The ItemProcessor's older name (inline Maps). */
  Iterator?: AslDefinition;
  ItemReader?: {
    Resource: string;
    ReaderConfig?: { InputType?: string; MaxItems?: number };
    Parameters?: unknown;
  };
  ItemBatcher?: ItemBatcher;
  ItemsPath?: string;
  ItemSelector?: unknown;
  /** ItemSelector's older name. */
  Parameters?: unknown;
  MaxConcurrency?: number;
  MaxConcurrencyPath?: string;
  ToleratedFailurePercentage?: number;
  ToleratedFailurePercentagePath?: string;
  ResultWriter?: { Resource: string; Parameters?: unknown };
}
type DistributedMapState = MapState & { ItemProcessor: NonNullable<MapState['ItemProcessor']> };

export const isDistributedMap = (state: AslState): state is DistributedMapState =>
  state.Type === 'Map' &&
  (state.ItemProcessor as MapState['ItemProcessor'] | undefined)?.ProcessorConfig?.Mode === 'DISTRIBUTED';

export const isInlineMap = (state: AslState): state is MapState =>
  state.Type === 'Map' && !isDistributedMap(state);

/** The definition an inline Map runs for each item: its ItemProcessor (or Iterator). */
export const iteratorOf = (state: MapState): AslDefinition => {
  const iterator = state.ItemProcessor ?? state.Iterator;
  if (!iterator) throw namedError('States.Runtime', 'A Map state needs an ItemProcessor (or Iterator)');
  return iterator;
};

const KEPT = [
  'Comment',
  'InputPath',
  'ResultPath',
  'ResultSelector',
  'OutputPath',
  'Next',
  'End',
  'Retry',
  'Catch',
];

/**
 * A Map has no TimeoutSeconds, but the engine times every Task out after TimeoutSeconds of real
 * time (60 s unless given): a long Map Run would time out. This is the most setTimeout takes
 * (2^31 - 1 ms); the simulated Map is not timed out by it.
 */
const NO_REAL_TIMEOUT_SECONDS = 2_147_483;

const asTask = (state: AslState, resource: string): AslState => ({
  Type: 'Task',
  Resource: resource,
  Parameters: { 'input.$': '$' },
  TimeoutSeconds: NO_REAL_TIMEOUT_SECONDS,
  ...Object.fromEntries(KEPT.filter((key) => key in state).map((key) => [key, state[key]])),
});

/**
 * The definition the engine runs: every Map a Task of LOCAL_DISTRIBUTED_MAP or LOCAL_INLINE_MAP,
 * in Parallel branches too. What a Map runs (its ItemProcessor) is converted when it runs.
 */
export const withMapsAsTasks = (definition: AslDefinition): AslDefinition => ({
  ...definition,
  States: Object.fromEntries(
    Object.entries(definition.States).map(([name, state]) => [
      name,
      isDistributedMap(state)
        ? asTask(state, LOCAL_DISTRIBUTED_MAP)
        : isInlineMap(state)
          ? asTask(state, LOCAL_INLINE_MAP)
          : state.Type === 'Wait'
            ? asTask(state, LOCAL_WAIT)
            : state.Branches
              ? { ...state, Branches: state.Branches.map(withMapsAsTasks) }
              : state,
    ]),
  ),
});

/** The one-state Pass machine of each template evaluate() has seen, by the template's JSON. */
const evaluators = new Map<string, StateMachine>();

/** A Parameters template evaluated as the engine would (a one-state Pass machine does it). */
const evaluate = async (template: unknown, input: unknown, context: Record<string, unknown> = {}) => {
  const key = JSON.stringify(template);
  let evaluator = evaluators.get(key);
  if (!evaluator) {
    evaluator = new StateMachine(
      {
        StartAt: 'Evaluate',
        States: { Evaluate: { Type: 'Pass', Parameters: { value: template }, End: true } },
      } as never,
      { validationOptions: { noValidate: true } },
    );
    evaluators.set(key, evaluator);
  }
  const out = await evaluator.run(input as never, { context: context as never }).result;
  return (out as { value: unknown }).value;
};

export const jsonPathValue = async (
  jsonPath: string,
  input: unknown,
  context: Record<string, unknown> = {},
) => evaluate({ 'at.$': jsonPath }, input, context).then((v) => (v as { at: unknown }).at);

/** A field given as a number or, with `Path`, read from the input. */
const numberOf = async (
  value: number | undefined,
  at: string | undefined,
  input: unknown,
  context: Record<string, unknown>,
) => (at ? Number(await jsonPathValue(at, input, context)) : value);

/** One child execution of the Map Run, as its ResultWriter records it. */
export interface ChildRun {
  status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  output?: unknown;
  error?: { Error: string; Cause: string };
  executionArn: string;
}

export interface MapRunContext {
  world: World;
  /** `arn:aws:states:<region>:<account>:stateMachine:<name>` of the machine holding the Map. */
  stateMachineArn: string;
  executionName: string;
  stateName: string;
  /** The execution's context object ($$): what ItemReader, ItemSelector and BatchInput may read. */
  context?: Record<string, unknown>;
  /** Runs the ItemProcessor on one item (or batch), as a child execution named `name`. */
  runChild: (processor: AslDefinition, input: unknown, name: string) => Promise<ChildRun>;
  /** How many children run (in simulated time) as each one starts, for whoever watches. */
  onConcurrency?: (running: number) => void;
}

const s3Location = (value: unknown) => {
  const { Bucket, Key, Prefix } = (value ?? {}) as { Bucket?: unknown; Key?: unknown; Prefix?: unknown };
  return { bucket: String(Bucket ?? ''), key: String(Key ?? ''), prefix: String(Prefix ?? '') };
};

/** What ran on a slot: the child's result, and when (simulated) it started and stopped. */
interface Ran<R> {
  result: R;
  start: number;
  stop: number;
}

/**
 * Runs `count` children on at most `concurrency` slots in simulated time, each on a clock of its
 * own: the next one starts on the slot that frees first, when it frees (greedy, as the Map Run
 * does). A child is placed only once no running child could free a slot earlier; until then the
 * engine waits for the child that started first. Children placed run in real time as soon as one
 * of REAL_TIME_CONCURRENCY places frees, in the order they were placed; the schedule never depends
 * on real time.
 *
 * `launch` gives the body of child `index` starting at `start`, or undefined to start no more
 * (`running` counts the children running once it starts); `settled` is told each result as it
 * comes, and returns true to start no more. Returns what ran, by index (a hole for each child never
 * started), and the time the first child started.
 */
type Body<R> = (() => Promise<R>) | undefined;
/**
 * How many of the children placed run at once in real time. The schedule does not depend on it (a
 * child is placed once every child that started before it has ended, whenever that was in real
 * time), nor does the speed (the work is the processor's); what it bounds is how many executions
 * are half done in memory at once: a sweep at MaxConcurrency 1,000 would otherwise hold them all.
 */
const REAL_TIME_CONCURRENCY = 8;

/**
 * The next turn of the event loop. A sweep is promises all the way down: without a turn, it runs as
 * one job, and V8 keeps alive every object a WeakRef was made for during a job until the job ends
 * (the engine's AbortSignal.any and event targets make them): ten thousand executions' worth of
 * them, and the collector walks them all, again and again. Each child starts on a turn of its own.
 */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const runOnSlots = async <R>(
  world: World,
  count: number,
  concurrency: number,
  launch: (index: number, start: number, running: () => number) => Body<R> | Promise<Body<R>>,
  settled: (index: number, result: R) => boolean,
): Promise<{ ran: (Ran<R> | undefined)[]; started: number }> => {
  const started = world.now;
  const clocks: number[] = Array.from({ length: Math.min(concurrency, Math.max(1, count)) }, () => started);
  const running = new Map<number, { start: number; done: Promise<void> }>();
  const ran: (Ran<R> | undefined)[] = new Array(count);
  let halted = false;
  const inRealTime = createLimiter(REAL_TIME_CONCURRENCY);
  const place = async (): Promise<number> => {
    for (;;) {
      let best = -1;
      for (let slot = 0; slot < clocks.length; slot++) {
        if (running.has(slot)) continue;
        if (best < 0 || (clocks[slot] as number) < (clocks[best] as number)) best = slot;
      }
      let earliest: { start: number; done: Promise<void> } | undefined;
      for (const child of running.values()) if (!earliest || child.start < earliest.start) earliest = child;
      if (best >= 0 && (!earliest || (clocks[best] as number) <= earliest.start)) return best;
      await earliest?.done;
    }
  };
  for (let index = 0; index < count; index++) {
    const slot = await place();
    if (halted) break;
    const start = clocks[slot] as number;
    const launched = launch(index, start, () => running.size + 1);
    const body = launched instanceof Promise ? await launched : launched;
    if (!body) break;
    const done = inRealTime(async () => {
      await nextTurn();
      return onOwnClock(world, start, body);
    }).then(([result, stop]) => {
      ran[index] = { result, start, stop };
      clocks[slot] = stop;
      running.delete(slot);
      if (settled(index, result)) halted = true;
    });
    running.set(slot, { start, done });
  }
  await Promise.all([...running.values()].map((child) => child.done));
  return { ran, started };
};

/** At most 256 KiB: AWS's limit on an execution's input, and so on a batch. */
const MAX_BATCH_BYTES = 262_144;
const bytesOf = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? 'null');

/** One child execution's share of a batched Map Run: its input, and which items it holds. */
interface Batch {
  input: { BatchInput?: unknown; Items: unknown[] };
  items: number[];
}

/**
 * The items (ItemSelector applied to each) grouped as ItemBatcher says, in order: each batch as
 * many items as fit both MaxItemsPerBatch and MaxInputBytesPerBatch, counting the bytes of the
 * child's whole input (`{"BatchInput": ..., "Items": [...]}` as JSON, UTF-8).
 */
const batchesOf = async (
  batcher: ItemBatcher,
  selected: unknown[],
  input: unknown,
  context: Record<string, unknown>,
): Promise<Batch[]> => {
  const maxItems = await numberOf(batcher.MaxItemsPerBatch, batcher.MaxItemsPerBatchPath, input, context);
  const maxBytes = await numberOf(
    batcher.MaxInputBytesPerBatch,
    batcher.MaxInputBytesPerBatchPath,
    input,
    context,
  );
  if (maxItems === undefined && maxBytes === undefined)
    throw namedError(
      'States.Runtime',
      'ItemBatcher needs MaxItemsPerBatch(Path) or MaxInputBytesPerBatch(Path), or both',
    );
  if (maxItems !== undefined && !(Number.isInteger(maxItems) && maxItems > 0))
    throw namedError('States.Runtime', `MaxItemsPerBatch must be a positive integer, not ${maxItems}`);
  if (maxBytes !== undefined && !(Number.isInteger(maxBytes) && maxBytes > 0 && maxBytes <= MAX_BATCH_BYTES))
    throw namedError(
      'States.Runtime',
      `MaxInputBytesPerBatch must be a positive integer up to ${MAX_BATCH_BYTES} (256 KiB), not ${maxBytes}`,
    );
  const batchInput =
    batcher.BatchInput === undefined ? undefined : await evaluate(batcher.BatchInput, input, context);
  const wrap = (items: unknown[]): Batch['input'] =>
    batchInput === undefined ? { Items: items } : { BatchInput: batchInput, Items: items };
  const byteLimit = maxBytes ?? MAX_BATCH_BYTES;
  const itemLimit = maxItems ?? Number.POSITIVE_INFINITY;
  // `{"BatchInput":...,"Items":[a,b]}` is the empty batch's JSON, the items', and a comma between two.
  const empty = bytesOf(wrap([]));
  const batches: Batch[] = [];
  let items: number[] = [];
  let bytes = empty;
  for (let index = 0; index < selected.length; index++) {
    const size = bytesOf(selected[index]);
    if (empty + size > byteLimit)
      throw namedError(
        'States.DataLimitExceeded',
        `Item ${index} makes a batch of ${empty + size} bytes, over MaxInputBytesPerBatch (${byteLimit})`,
      );
    if (items.length > 0 && (items.length >= itemLimit || bytes + 1 + size > byteLimit)) {
      batches.push({ input: wrap(items.map((i) => selected[i])), items });
      items = [];
      bytes = empty;
    }
    bytes += (items.length > 0 ? 1 : 0) + size;
    items.push(index);
  }
  if (items.length > 0) batches.push({ input: wrap(items.map((i) => selected[i])), items });
  return batches;
};

/**
 * What the Map Run answers: its output, or a States.ExceedToleratedFailureThreshold. With an
 * ItemBatcher, each child runs a batch of items: ToleratedFailurePercentage counts items (a failed
 * child fails every item of its batch), and the ResultWriter records one entry per child.
 */
export const runDistributedMap = async (
  state: DistributedMapState,
  input: unknown,
  ctx: MapRunContext,
): Promise<unknown> => {
  const { world } = ctx;
  const context = ctx.context ?? {};
  let items: unknown[];
  if (state.ItemReader) {
    const { bucket, key } = s3Location(await evaluate(state.ItemReader.Parameters ?? {}, input, context));
    const object = world.getObject(bucket, key);
    if (!object)
      throw namedError('States.ItemReaderFailed', `The specified key does not exist: s3://${bucket}/${key}`);
    items = JSON.parse(new TextDecoder().decode(object.body)) as unknown[];
    if (!Array.isArray(items))
      throw namedError('States.ItemReaderFailed', `s3://${bucket}/${key} is not a JSON array`);
    const max = state.ItemReader.ReaderConfig?.MaxItems;
    if (max) items = items.slice(0, max);
  } else {
    items = (await jsonPathValue(state.ItemsPath ?? '$', input, context)) as unknown[];
  }
  const concurrency = Math.max(
    1,
    Number(await numberOf(state.MaxConcurrency ?? 0, state.MaxConcurrencyPath, input, context)) || 10_000,
  );
  const tolerated = Number(
    await numberOf(
      state.ToleratedFailurePercentage ?? 0,
      state.ToleratedFailurePercentagePath,
      input,
      context,
    ),
  );
  const select = (index: number) =>
    state.ItemSelector
      ? evaluate(state.ItemSelector, input, {
          ...context,
          Map: { Item: { Index: index, Value: items[index] } },
        })
      : Promise.resolve(items[index]);
  // With an ItemBatcher the ItemSelector shapes each item before the items are batched.
  const batches = state.ItemBatcher
    ? await batchesOf(
        state.ItemBatcher,
        await Promise.all(items.map((_, index) => select(index))),
        input,
        context,
      )
    : undefined;
  const count = batches?.length ?? items.length;

  const id = createHash('sha256')
    .update(`${ctx.stateMachineArn}:${ctx.executionName}:${ctx.stateName}`)
    .digest('hex');
  const runId = `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`;
  const machineName = ctx.stateMachineArn.split(':').at(-1);
  const mapRunArn = ctx.stateMachineArn
    .replace(':stateMachine:', ':mapRun:')
    .replace(`:${machineName}`, `:${machineName}/${ctx.stateName}:${runId}`);
  const processor = state.ItemProcessor;

  // The items a child runs: one, or its batch's.
  const itemsOf = (index: number) => batches?.[index]?.items.length ?? 1;
  const inputs: unknown[] = new Array(count);
  let failed = 0;
  let exceeded = false;
  const { ran, started } = await runOnSlots<ChildRun>(
    world,
    count,
    concurrency,
    (index, start, running) => {
      // Stopped from outside (the execution holding the Map was aborted): no item starts after that.
      const stopAt = world.stopAt;
      if (stopAt !== undefined && start >= stopAt) return undefined;
      const name = `${runId.slice(0, 8)}-${String(index).padStart(6, '0')}`;
      const body = (childInput: unknown) => {
        inputs[index] = childInput;
        ctx.onConcurrency?.(running());
        return () => ctx.runChild(processor, childInput, name);
      };
      if (batches) return body(batches[index]?.input);
      return state.ItemSelector ? select(index).then(body) : body(items[index]);
    },
    (index, run) => {
      if (run.status !== 'SUCCEEDED') failed += itemsOf(index);
      if ((failed * 100) / items.length > tolerated) exceeded = true;
      return exceeded;
    },
  );
  // Children never started leave holes: the Map Run ends when its last started child does, and no
  // earlier than the stop that aborted one (its children end with the execution that holds it).
  world.now = ran.reduce((end, r) => Math.max(end, r?.stop ?? end), started);
  const stopAt = world.stopAt;
  if (stopAt !== undefined && ran.some((r) => r?.result.status === 'ABORTED'))
    world.now = Math.max(world.now, stopAt);

  const entry = (r: Ran<ChildRun>, index: number) => ({
    ExecutionArn: r.result.executionArn,
    Input: JSON.stringify(inputs[index]),
    InputDetails: { Included: true },
    Name: r.result.executionArn.split(':').at(-1),
    Output: r.result.status === 'SUCCEEDED' ? JSON.stringify(r.result.output ?? null) : null,
    OutputDetails: { Included: true },
    StartDate: new Date(r.start).toISOString(),
    StateMachineArn: ctx.stateMachineArn,
    Status: r.result.status,
    StopDate: new Date(r.stop).toISOString(),
    ...(r.result.error ? { Error: r.result.error.Error, Cause: r.result.error.Cause } : {}),
  });
  let output: unknown = Array.from(ran, (r) => (r?.result.status === 'SUCCEEDED' ? r.result.output : null));
  if (state.ResultWriter) {
    const { bucket, prefix } = s3Location(
      await evaluate(state.ResultWriter.Parameters ?? {}, input, context),
    );
    const base = `${prefix ? `${prefix}/` : ''}${runId}`;
    const done = Array.from(ran, (r, index) => (r ? { r, index } : undefined)).filter(
      (d): d is { r: Ran<ChildRun>; index: number } => d !== undefined,
    );
    const files = {
      SUCCEEDED: done
        .filter(({ r }) => r.result.status === 'SUCCEEDED')
        .map(({ r, index }) => entry(r, index)),
      FAILED: done.filter(({ r }) => r.result.status !== 'SUCCEEDED').map(({ r, index }) => entry(r, index)),
      PENDING: Array.from({ length: count }, (_, index) => index).flatMap((index) =>
        ran[index]
          ? []
          : [{ Input: JSON.stringify(batches ? batches[index]?.input : items[index]), Status: 'PENDING' }],
      ),
    };
    const resultFiles: Record<string, { Key: string; Size: number }[]> = {};
    for (const [status, list] of Object.entries(files)) {
      const key = `${base}/${status}_0.json`;
      const body = JSON.stringify(list);
      world.putObject(bucket, key, body);
      resultFiles[status] = list.length > 0 ? [{ Key: key, Size: body.length }] : [];
    }
    const manifestKey = `${base}/manifest.json`;
    world.putObject(
      bucket,
      manifestKey,
      JSON.stringify({ DestinationBucket: bucket, MapRunArn: mapRunArn, ResultFiles: resultFiles }),
    );
    output = { MapRunArn: mapRunArn, ResultWriterDetails: { Bucket: bucket, Key: manifestKey } };
  }
  if (exceeded) {
    throw namedError(
      'States.ExceedToleratedFailureThreshold',
      batches
        ? `The specified tolerated failure threshold was exceeded: ${failed} of ${items.length} items failed, in ${ranOnly(ran).filter((r) => r.result.status !== 'SUCCEEDED').length} of ${count} child executions (${tolerated}% tolerated)`
        : `The specified tolerated failure threshold was exceeded: ${failed} of ${items.length} child executions failed (${tolerated}% tolerated)`,
    );
  }
  return output;
};

/** The children that ran, without the holes of those never started. */
const ranOnly = <R>(ran: (Ran<R> | undefined)[]): Ran<R>[] => ran.filter((r): r is Ran<R> => r !== undefined);

/** How one iteration of an inline Map ended. */
export interface Iteration {
  status: 'SUCCEEDED' | 'FAILED';
  output?: unknown;
  /** Why it failed: the error its execution failed with, as the Map fails with it. */
  error?: Error;
}

export interface InlineMapContext {
  world: World;
  /** The execution's context object ($$), which ItemSelector may read. */
  context: Record<string, unknown>;
  /** Runs the Map's iterator on one item's input, within the execution: iteration `index`. */
  runIteration: (iterator: AslDefinition, input: unknown, index: number) => Promise<Iteration>;
}

/** The engine's default when MaxConcurrency is 0 or absent (AWS runs up to 40 inline iterations at once). */
const INLINE_CONCURRENCY = 40;

/**
 * An inline Map: each item (ItemsPath, ItemSelector or Parameters applied) runs the iterator in
 * this execution, on a clock of its own from the Map's start, at most MaxConcurrency at once
 * (placed as runOnSlots does); the Map ends when its last iteration does, with their outputs in
 * item order. An iteration that fails fails the Map with its error, at the time it failed (the
 * first in simulated time, then by index); no iteration starts after a failure is known, and
 * those already running finish (what they do is not undone).
 */
export const runInlineMap = async (
  state: MapState,
  input: unknown,
  ctx: InlineMapContext,
): Promise<unknown> => {
  const { world, context } = ctx;
  const items = await jsonPathValue(state.ItemsPath ?? '$', input, context);
  if (!Array.isArray(items))
    throw namedError(
      'States.Runtime',
      'Input of Map state must be an array or ItemsPath property must point to an array',
    );
  const concurrency =
    Number(await numberOf(state.MaxConcurrency, state.MaxConcurrencyPath, input, context)) ||
    INLINE_CONCURRENCY;
  const iterator = iteratorOf(state);
  const template = state.ItemSelector ?? state.Parameters;
  let failed = false;
  const { ran, started } = await runOnSlots<Iteration>(
    world,
    items.length,
    concurrency,
    async (index) => {
      const value = items[index];
      const itemInput =
        template === undefined
          ? value
          : await evaluate(template, input, { ...context, Map: { Item: { Index: index, Value: value } } });
      return () => ctx.runIteration(iterator, itemInput, index);
    },
    (_, iteration) => {
      if (iteration.status !== 'SUCCEEDED') failed = true;
      return failed;
    },
  );
  const failures = ranOnly(ran).filter((r) => r.result.status !== 'SUCCEEDED');
  if (failed) {
    const first = failures.reduce((a, b) => (b.stop < a.stop ? b : a));
    world.now = first.stop;
    throw first.result.error ?? namedError('States.Runtime', 'A Map iteration failed');
  }
  world.now = ran.reduce((end, r) => Math.max(end, r?.stop ?? end), started);
  return ran.map((r) => r?.result.output);
};
