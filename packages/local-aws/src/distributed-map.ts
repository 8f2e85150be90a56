/*
 * The Distributed Map, which aws-local-stepfunctions 3.0 does not run (it knows an inline Map, and
 * no ItemReader, ResultWriter, tolerated failures or child executions). Before the engine sees a
 * definition, each Distributed Map becomes a Task of a resource only this package answers; that
 * answer is AWS's Map Run: items read from S3, each run as a child execution of the ItemProcessor
 * (its own clock, at most MaxConcurrency at once), failures counted against the tolerance, and
 * the children's results written to S3 as ResultWriter writes them (docs/decisions/0037).
 */
import { createHash } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import type { AslDefinition, AslState } from './machines';
import { namedError } from './tasks';
import { onOwnClock, type World } from './world';

export const LOCAL_DISTRIBUTED_MAP = 'arn:aws:states:::local:distributedMap';

interface MapState extends AslState {
  ItemProcessor: AslDefinition & { ProcessorConfig?: { Mode?: string } };
  ItemReader?: {
    Resource: string;
    ReaderConfig?: { InputType?: string; MaxItems?: number };
    Parameters?: unknown;
  };
  ItemsPath?: string;
  ItemSelector?: unknown;
  MaxConcurrency?: number;
  MaxConcurrencyPath?: string;
  ToleratedFailurePercentage?: number;
  ToleratedFailurePercentagePath?: string;
  ResultWriter?: { Resource: string; Parameters?: unknown };
}

export const isDistributedMap = (state: AslState): state is MapState =>
  state.Type === 'Map' &&
  (state.ItemProcessor as MapState['ItemProcessor'] | undefined)?.ProcessorConfig?.Mode === 'DISTRIBUTED';

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

/** The definition the engine runs: every Distributed Map a Task of LOCAL_DISTRIBUTED_MAP. */
export const withDistributedMapsAsTasks = (definition: AslDefinition): AslDefinition => ({
  ...definition,
  States: Object.fromEntries(
    Object.entries(definition.States).map(([name, state]) => [
      name,
      isDistributedMap(state)
        ? {
            Type: 'Task',
            Resource: LOCAL_DISTRIBUTED_MAP,
            Parameters: { 'input.$': '$' },
            ...Object.fromEntries(KEPT.filter((key) => key in state).map((key) => [key, state[key]])),
          }
        : state,
    ]),
  ),
});

/** A Parameters template evaluated as the engine would (a one-state Pass machine does it). */
const evaluate = async (template: unknown, input: unknown, context: Record<string, unknown> = {}) =>
  new StateMachine(
    {
      StartAt: 'Evaluate',
      States: { Evaluate: { Type: 'Pass', Parameters: { value: template }, End: true } },
    } as never,
    { validationOptions: { noValidate: true } },
  )
    .run(input as never, { context: context as never })
    .result.then((out) => (out as { value: unknown }).value);

const path = async (jsonPath: string, input: unknown) =>
  evaluate({ 'at.$': jsonPath }, input).then((v) => (v as { at: unknown }).at);

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
  /** Runs the ItemProcessor on one item, as a child execution named `name`. */
  runChild: (processor: AslDefinition, input: unknown, name: string) => Promise<ChildRun>;
  /** How many children run (in simulated time) as each one starts, for whoever watches. */
  onConcurrency?: (running: number) => void;
}

const s3Location = (value: unknown) => {
  const { Bucket, Key, Prefix } = (value ?? {}) as { Bucket?: unknown; Key?: unknown; Prefix?: unknown };
  return { bucket: String(Bucket ?? ''), key: String(Key ?? ''), prefix: String(Prefix ?? '') };
};

/** What the Map Run answers: its output, or a States.ExceedToleratedFailureThreshold. */
export const runDistributedMap = async (
  state: MapState,
  input: unknown,
  ctx: MapRunContext,
): Promise<unknown> => {
  const { world } = ctx;
  let items: unknown[];
  if (state.ItemReader) {
    const { bucket, key } = s3Location(await evaluate(state.ItemReader.Parameters ?? {}, input));
    const object = world.getObject(bucket, key);
    if (!object)
      throw namedError('States.ItemReaderFailed', `The specified key does not exist: s3://${bucket}/${key}`);
    items = JSON.parse(new TextDecoder().decode(object.body)) as unknown[];
    if (!Array.isArray(items))
      throw namedError('States.ItemReaderFailed', `s3://${bucket}/${key} is not a JSON array`);
    const max = state.ItemReader.ReaderConfig?.MaxItems;
    if (max) items = items.slice(0, max);
  } else {
    items = (await path(state.ItemsPath ?? '$', input)) as unknown[];
  }
  const concurrency = Math.max(
    1,
    Number(
      state.MaxConcurrencyPath ? await path(state.MaxConcurrencyPath, input) : (state.MaxConcurrency ?? 0),
    ) || 10_000,
  );
  const tolerated = Number(
    state.ToleratedFailurePercentagePath
      ? await path(state.ToleratedFailurePercentagePath, input)
      : (state.ToleratedFailurePercentage ?? 0),
  );

  const id = createHash('sha256')
    .update(`${ctx.stateMachineArn}:${ctx.executionName}:${ctx.stateName}`)
    .digest('hex');
  const runId = `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`;
  const machineName = ctx.stateMachineArn.split(':').at(-1);
  const mapRunArn = ctx.stateMachineArn
    .replace(':stateMachine:', ':mapRun:')
    .replace(`:${machineName}`, `:${machineName}/${ctx.stateName}:${runId}`);

  // At most `concurrency` children run at once, in simulated time, each on a clock of its own:
  // the next item starts on the slot that frees first, when it frees (greedy, as the Map Run
  // does). An item is placed only once no running child could free a slot earlier; until then the
  // engine waits for the child that started first. Children placed together run together in real
  // time too, so a sweep of a thousand takes seconds, and the schedule never depends on real time.
  const started = world.now;
  const clocks: number[] = Array.from(
    { length: Math.min(concurrency, Math.max(1, items.length)) },
    () => started,
  );
  const running = new Map<number, { start: number; done: Promise<void> }>();
  const results: ({ input: unknown; run: ChildRun; start: number; stop: number } | undefined)[] = new Array(
    items.length,
  );
  let failed = 0;
  let exceeded = false;
  const place = async (): Promise<number> => {
    for (;;) {
      const free = clocks.map((clock, slot) => ({ clock, slot })).filter(({ slot }) => !running.has(slot));
      const earliest = [...running.values()].reduce<{ start: number; done: Promise<void> } | undefined>(
        (first, child) => (!first || child.start < first.start ? child : first),
        undefined,
      );
      const best = free.reduce<{ clock: number; slot: number } | undefined>(
        (min, slot) => (!min || slot.clock < min.clock ? slot : min),
        undefined,
      );
      if (best && (!earliest || best.clock <= earliest.start)) return best.slot;
      await earliest?.done;
    }
  };
  for (let index = 0; index < items.length; index++) {
    const slot = await place();
    if (exceeded) break;
    const start = clocks[slot] as number;
    // Stopped from outside (the execution holding the Map was aborted): no item starts after that.
    const stopAt = world.stopAt;
    if (stopAt !== undefined && start >= stopAt) break;
    const value = items[index];
    const selected = state.ItemSelector
      ? await evaluate(state.ItemSelector, input, { Map: { Item: { Index: index, Value: value } } })
      : value;
    const name = `${runId.slice(0, 8)}-${String(index).padStart(6, '0')}`;
    ctx.onConcurrency?.(running.size + 1);
    const done = onOwnClock(world, start, () => ctx.runChild(state.ItemProcessor, selected, name)).then(
      ([run, stop]) => {
        results[index] = { input: selected, run, start, stop };
        clocks[slot] = stop;
        running.delete(slot);
        if (run.status !== 'SUCCEEDED') failed++;
        if ((failed * 100) / items.length > tolerated) exceeded = true;
      },
    );
    running.set(slot, { start, done });
  }
  await Promise.all([...running.values()].map((child) => child.done));
  // Items never started leave holes: the Map Run ends when its last started child does.
  world.now = results.reduce((end, r) => Math.max(end, r?.stop ?? end), started);

  const entry = (r: NonNullable<(typeof results)[number]>) => ({
    ExecutionArn: r.run.executionArn,
    Input: JSON.stringify(r.input),
    InputDetails: { Included: true },
    Name: r.run.executionArn.split(':').at(-1),
    Output: r.run.status === 'SUCCEEDED' ? JSON.stringify(r.run.output ?? null) : null,
    OutputDetails: { Included: true },
    StartDate: new Date(r.start).toISOString(),
    StateMachineArn: ctx.stateMachineArn,
    Status: r.run.status,
    StopDate: new Date(r.stop).toISOString(),
    ...(r.run.error ? { Error: r.run.error.Error, Cause: r.run.error.Cause } : {}),
  });
  let output: unknown = results.map((r) => (r?.run.status === 'SUCCEEDED' ? r.run.output : null));
  if (state.ResultWriter) {
    const { bucket, prefix } = s3Location(await evaluate(state.ResultWriter.Parameters ?? {}, input));
    const base = `${prefix ? `${prefix}/` : ''}${runId}`;
    const done = results.filter((r): r is NonNullable<typeof r> => r !== undefined);
    const files = {
      SUCCEEDED: done.filter((r) => r.run.status === 'SUCCEEDED').map(entry),
      FAILED: done.filter((r) => r.run.status !== 'SUCCEEDED').map(entry),
      PENDING: items.flatMap((value, index) =>
        results[index] ? [] : [{ Input: JSON.stringify(value), Status: 'PENDING' }],
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
      `The specified tolerated failure threshold was exceeded: ${failed} of ${items.length} child executions failed (${tolerated}% tolerated)`,
    );
  }
  return output;
};
