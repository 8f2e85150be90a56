import { MAX_INPUT_DEPTH } from '@tradai/lambda-kit';
import { StateMachine } from 'aws-local-stepfunctions';
import { type EcsBehaviour, withWorld } from './aws';
import type { BotBehaviour } from './bots';
import {
  isDistributedMap,
  isInlineMap,
  jsonPathValue,
  runDistributedMap,
  runInlineMap,
  withMapsAsTasks,
} from './distributed-map';
import { applyLocalEnvironment, deliverStatusChange } from './handlers';
import {
  type AslDefinition,
  type AslState,
  allStates,
  LOCAL,
  LOCAL_SUBSTITUTIONS,
  type MachineName,
  resolvedAsl,
  stateMachine,
} from './machines';
import { type Provision, provisionForRequest } from './request-world';
import {
  type CaseDefinition,
  caseInput,
  type EndOutsideAsl,
  type ExecutionStatus,
  type MockConfigFile,
  readCases,
  readMockConfig,
  responseFor,
} from './scenarios';
import { seedWorld } from './seed';
import { answerTask, namedError, type TaskContext } from './tasks';
import { seedTestedRun } from './tested-runs';
import { executionDeadline, taskOverrun } from './time-limits';
import type { World } from './world';

/** What aws-local-stepfunctions passes to and expects from a local task handler. */
type JSONValue = null | boolean | number | string | JSONValue[] | { [key: string]: JSONValue };

export interface StateEvent {
  state: string;
  type: string;
  event: 'entered' | 'exited' | 'failed' | 'retried' | 'caught';
  error?: string;
  /** Real milliseconds since the execution started. */
  at: number;
  /** Simulated world clock when the event happened. */
  worldTime: number;
  /** Simulated time the state's task took, all attempts (set when the state ends). */
  simulatedMs?: number;
  /** The state's input (entered) or output (exited), as the engine passed it. */
  data?: unknown;
}

/** An execution a state of the run started (startExecution.sync): its machine, path and end. */
export interface NestedRun {
  machine: MachineName;
  name: string;
  status: ExecutionStatus;
  error?: { Error: string; Cause: string };
  /**
   * Every state event of the execution. A sweep starts thousands: only the first NESTED_WITH_DATA
   * and the latest of each machine keep each state's input and output (`data`, what the report
   * shows); the others keep their path and times without it.
   */
  events: StateEvent[];
}

/** How many nested executions keep their states' data in any case (NestedRun.events). */
const NESTED_WITH_DATA = 10;

/** The end of an execution as EventBridge reports it ("Step Functions Execution Status Change"). */
export interface StatusChangeDetail {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate: number;
  error: string | null;
  cause: string | null;
  input: string;
  redriveCount: number;
}

export interface WorkflowRun {
  machine: MachineName;
  /** The case it ran, if it ran one (without, the world was provisioned for the input). */
  caseName?: string;
  /** What the world was given for the input (a run without a case). */
  provisioned: Provision[];
  status: ExecutionStatus;
  /** How the top-level execution ended, as the status-change event says it. */
  end: StatusChangeDetail;
  output?: unknown;
  error?: { Error: string; Cause: string };
  /** Every state entered, in order. */
  states: string[];
  events: StateEvent[];
  /** The executions its states started, in order (a backtest's data sync). */
  nested: NestedRun[];
  /** Step Functions bills state transitions: one per state entered, one per retry. */
  transitions: number;
  world: World;
  runId?: string;
  record?: Record<string, unknown>;
  realMs: number;
  simulatedMs: number;
}

export interface RunOptions {
  machine: MachineName;
  /**
   * A case of `<machine>.cases.json`: its input, world and faults. Without one, `input` runs on a
   * world provisioned for it (request-world.ts), with no faults.
   */
  caseName?: string;
  /** Overrides the case's input; the input of a run without a case. */
  input?: unknown;
  /** Starts from this world instead of the seeded one. */
  world?: World;
  /** Called for each state event as it happens (the simulator's live trace). */
  onEvent?: (event: StateEvent) => void;
  /**
   * Interleaves executions in one world: the first time this execution reaches the Task state
   * `state`, it waits for `until` (e.g. another execution's whole run) before the task runs.
   */
  holdAt?: { state: string; until: () => Promise<unknown> };
}

export const TABLE = LOCAL_SUBSTITUTIONS.WorkflowStateTable as string;
const LEASES_TABLE = LOCAL_SUBSTITUTIONS.DeployLeasesTable as string;
export const DLQ_URL = LOCAL_SUBSTITUTIONS.DeadLetterQueueUrl as string;

/** What an execution of a definition needs of it besides the engine, worked out once per definition. */
interface Prepared {
  /** The engine of the definition, every Map a Task of a local resource (withMapsAsTasks). */
  engine: () => StateMachine;
  /**
   * The states the world answers, Parallel branches and inline Maps' iterations included, by the
   * name they have in the event log: every Task, and every Map (distributed-map.ts).
   */
  answered: [string, AslState][];
  /** Its states with a Retry: the engine waits no real time between attempts. */
  retried: string[];
  /** The Map states, which the engine sees as Tasks: their events say Map. */
  maps: Set<string>;
  /** The Wait states, which the engine sees as Tasks too (distributed-map.ts LOCAL_WAIT). */
  waits: Set<string>;
}
const prepared = new WeakMap<AslDefinition, Prepared>();
const prepare = (definition: AslDefinition, machine?: MachineName): Prepared => {
  let found = prepared.get(definition);
  if (!found) {
    const states = allStates(definition);
    let engine: StateMachine | undefined;
    found = {
      // A machine's engine is validated (once, stateMachine); an ItemProcessor or a Map's iterator
      // is validated with the machine that holds it.
      engine: () => {
        engine ??= machine
          ? stateMachine(machine, withMapsAsTasks)
          : new StateMachine(withMapsAsTasks(definition) as never, {
              validationOptions: { noValidate: true },
            });
        return engine;
      },
      answered: states.filter(([, state]) => ['Task', 'Map', 'Wait'].includes(state.Type)),
      retried: states.filter(([, state]) => state.Retry).map(([name]) => name),
      maps: new Set(states.filter(([, state]) => state.Type === 'Map').map(([name]) => name)),
      waits: new Set(states.filter(([, state]) => state.Type === 'Wait').map(([name]) => name)),
    };
    prepared.set(definition, found);
  }
  return found;
};

/**
 * Each machine's ASL, resolved for the local account once a process, as its engine is
 * (stateMachine): a sweep runs it for every variant.
 */
const definitions = new Map<MachineName, AslDefinition>();
const definitionOf = (machine: MachineName): AslDefinition => {
  let definition = definitions.get(machine);
  if (!definition) {
    definition = resolvedAsl(machine);
    definitions.set(machine, definition);
  }
  return definition;
};

const KINDS: Record<string, StateEvent['event'] | undefined> = {
  StateEntered: 'entered',
  StateExited: 'exited',
  StateFailed: 'failed',
  StateRetried: 'retried',
  StateCaught: 'caught',
};
type EngineEvent = {
  type: string;
  timestamp: number;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  Error?: unknown;
};

/**
 * The engine's events of one execution (or one iteration of an inline Map) as StateEvents: when
 * each state was last entered, on the world's clock, gives a visit's simulated time, retries
 * included. Map states, which the engine runs as Tasks, say Map.
 */
const eventRecorder = (t0: number, maps: Set<string>, waits: Set<string> = new Set()) => {
  const enteredAt = new Map<string, number>();
  return (event: EngineEvent): StateEvent | undefined => {
    const kind = KINDS[event.type];
    if (!kind || !event.state) return undefined;
    const { name } = event.state;
    if (kind === 'entered') enteredAt.set(name, event.timestamp);
    return {
      state: name,
      type: maps.has(name) ? 'Map' : waits.has(name) ? 'Wait' : event.state.type,
      event: kind,
      at: performance.now() - t0,
      // The engine stamps each event with Date.now(), which is the world's clock inside a run (aws.ts).
      worldTime: event.timestamp,
      ...(kind === 'entered' || kind === 'retried'
        ? {}
        : { simulatedMs: event.timestamp - (enteredAt.get(name) ?? event.timestamp) }),
      ...('Error' in event ? { error: String(event.Error) } : {}),
      ...(kind === 'entered' ? { data: event.state.input } : {}),
      ...(kind === 'exited' ? { data: event.state.output } : {}),
    };
  };
};

export const caseDefinition = (machine: MachineName, caseName: string): CaseDefinition => {
  const cases = readCases(machine).cases;
  const definition = cases[caseName];
  if (!definition) {
    throw new Error(`Unknown case ${caseName} for ${machine}; cases: ${Object.keys(cases).join(', ')}`);
  }
  return definition;
};

interface ExecuteOptions {
  machine: MachineName;
  /** Set for a child execution of a Distributed Map of `machine`: its ItemProcessor and Map state. */
  processor?: { definition: AslDefinition; mapState: string };
  input: unknown;
  executionName: string;
  ctx: TaskContext;
  /** State name -> MockName, from the case's MockConfigFile entry (none for a nested execution). */
  testCase: Record<string, string>;
  mockedResponses: MockConfigFile['MockedResponses'];
  onEvent?: ((event: StateEvent) => void) | undefined;
  endOutsideAsl?: EndOutsideAsl | undefined;
  holdAt?: RunOptions['holdAt'];
  /** A redrive: the execution resumes at `startAt` with that state's input ($$.Execution.Input stays). */
  redrive?: { startAt: string; stateInput: unknown; count: number };
}

interface Executed {
  status: ExecutionStatus;
  output?: unknown;
  error?: { Error: string; Cause: string };
  events: StateEvent[];
  executionArn: string;
  realMs: number;
  end: StatusChangeDetail;
}

/**
 * AWS takes any input up to 256 KB, however deep; aws-local-stepfunctions recurses over it and
 * overflows its stack past a few thousand levels. Below the kit's depth limit (plus two) nothing is
 * cut, so every handler gives the verdict it would give the whole input: a value cut here is one
 * the first state refuses for its depth anyway.
 */
const withinEngineDepth = (input: unknown, depth = MAX_INPUT_DEPTH + 2): unknown => {
  if (typeof input !== 'object' || input === null) return input;
  if (depth === 0) return Array.isArray(input) ? [] : {};
  if (Array.isArray(input)) return input.map((item) => withinEngineDepth(item, depth - 1));
  return Object.fromEntries(
    Object.entries(input).map(([key, value]) => [key, withinEngineDepth(value, depth - 1)]),
  );
};

/** The execution input as the event carries it: AWS has the caller's text; a value too deep to print has none. */
const inputText = (input: unknown): string => {
  try {
    return JSON.stringify(input) ?? 'null';
  } catch {
    return 'null';
  }
};

/** How an execution ended outside its ASL reads in its status-change event. */
const OUTSIDE_ENDS = {
  ABORTED: { status: 'ABORTED', error: undefined },
  TIMED_OUT: {
    status: 'TIMED_OUT',
    error: { Error: 'States.Timeout', Cause: 'The execution ran past the state machine TimeoutSeconds' },
  },
  CRASHED: {
    status: 'FAILED',
    error: {
      Error: 'States.Runtime',
      Cause: 'An error occurred while executing the state (simulated crash)',
    },
  },
} as const;

/** One execution of `machine`'s real ASL against the context's world; nested ones reuse it. */
const execute = async (options: ExecuteOptions): Promise<Executed> => {
  const { machine, input, executionName, ctx, testCase, mockedResponses, endOutsideAsl, holdAt } = options;
  const { world } = ctx;
  // A Distributed Map's ItemProcessor runs as child executions of the machine that holds the Map.
  const original = options.processor?.definition ?? definitionOf(machine);
  const definition = options.redrive ? { ...original, StartAt: options.redrive.startAt } : original;
  const { engine, answered, retried, maps, waits } = prepare(
    definition,
    options.processor || options.redrive ? undefined : machine,
  );
  const delayedStop = endOutsideAsl?.after_minutes !== undefined;
  if (delayedStop && endOutsideAsl?.as !== 'ABORTED')
    throw new Error(`end_outside_asl.after_minutes is for an ABORTED end, not ${endOutsideAsl?.as}`);
  const endAt = endOutsideAsl ? definition.States[endOutsideAsl.at] : undefined;
  if (endOutsideAsl && endAt?.Type !== 'Task' && !(delayedStop && endAt && isDistributedMap(endAt))) {
    throw new Error(
      `end_outside_asl.at must name a Task state of ${machine} (or, with after_minutes, a Distributed Map), not ${endOutsideAsl.at}`,
    );
  }
  let endedOutside: EndOutsideAsl['as'] | undefined;
  let abortExecution = () => {};
  const stateMachineArn = `arn:aws:states:${LOCAL.region}:${LOCAL.accountId}:stateMachine:tradai-${LOCAL.stage}-${machine}`;
  const executionArn = options.processor
    ? `arn:aws:states:${LOCAL.region}:${LOCAL.accountId}:execution:tradai-${LOCAL.stage}-${machine}/${options.processor.mapState}:${executionName}`
    : `arn:aws:states:${LOCAL.region}:${LOCAL.accountId}:execution:tradai-${LOCAL.stage}-${machine}:${executionName}`;
  const startedAt = new Date(world.now).toISOString();
  /** The context object ($$) of the execution, its inline Maps' iterations included. */
  const context = {
    Execution: {
      Id: executionArn,
      Name: executionName,
      Input: input,
      StartTime: startedAt,
      RoleArn: 'local',
    },
    StateMachine: { Id: stateMachineArn, Name: `tradai-${LOCAL.stage}-${machine}` },
    // Read when a state evaluates its Parameters, which is when it is entered: the world's clock
    // only moves inside tasks, so $$.State.EnteredTime advances state by state as on AWS.
    State: {
      get EnteredTime() {
        return new Date(world.now).toISOString();
      },
      Name: '',
      RetryCount: 0,
    },
  };
  const t0 = performance.now();
  /** Each inline Map's iterations' events, by the Map's name, until the Map's own end is recorded. */
  const iterationEvents = new Map<string, StateEvent[]>();

  const invocations = new Map<string, number>();
  const taskResourceLocalHandlers: Record<string, (input: JSONValue) => Promise<JSONValue>> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  const overrides = { taskResourceLocalHandlers, retryIntervalOverrides };
  /** One iteration of an inline Map: its iterator run in this execution, its events recorded. */
  const runIteration = async (iterator: AslDefinition, itemInput: unknown, seen: StateEvent[]) => {
    const iteration = prepare(iterator)
      .engine()
      .run(itemInput as never, { noThrowOnAbort: true, overrides, context: context as never });
    const record = eventRecorder(t0, prepare(iterator).maps);
    const drained = (async () => {
      for await (const event of iteration.eventLogs) {
        const recorded = record(event as EngineEvent);
        if (recorded) seen.push(recorded);
      }
    })();
    try {
      const output = await iteration.result;
      await drained;
      return { status: 'SUCCEEDED' as const, output };
    } catch (failure) {
      await drained;
      return {
        status: 'FAILED' as const,
        error: ((failure as Error).cause as Error | undefined) ?? (failure as Error),
      };
    }
  };
  for (const [name, state] of answered) {
    /** The task as the world answers it (or the case's mock says). */
    const answer = async (params: JSONValue): Promise<JSONValue> => {
      const invocation = invocations.get(name) ?? 0;
      invocations.set(name, invocation + 1);
      if (holdAt?.state === name && invocation === 0) await holdAt.until();
      const mockName = testCase[name];
      if (mockName && !mockedResponses[mockName])
        throw new Error(`Mock ${mockName} is not in MockedResponses`);
      const response = mockName ? responseFor(mockedResponses[mockName], invocation) : undefined;
      if (response?.Throw) throw namedError(response.Throw.Error, response.Throw.Cause ?? '');
      if (response && 'Return' in response) return response.Return as JSONValue;
      const mapInput = (params as { input: unknown } | null)?.input;
      if (state.Type === 'Wait') {
        // Step Functions waits Seconds (or SecondsPath) and passes the input on: the world's clock does.
        const waited = state as AslState & { Seconds?: number; SecondsPath?: string };
        const seconds = waited.Seconds ?? Number(await jsonPathValue(String(waited.SecondsPath), mapInput));
        world.now += Math.max(0, seconds) * 1000;
        return mapInput as JSONValue;
      }
      if (isDistributedMap(state)) {
        if (definition.States[name] !== state)
          throw new Error(`${name}: a Distributed Map must be a top-level state of ${machine}`);
        return (await runDistributedMap(state, mapInput, {
          world,
          stateMachineArn,
          executionName,
          stateName: name,
          context,
          // What the Map Run keeps of a child: how it ended, not its events.
          runChild: async (processor, childInput, childName) => {
            const child = await execute({
              machine,
              processor: { definition: processor, mapState: name },
              input: childInput,
              executionName: childName,
              ctx,
              testCase: {},
              mockedResponses: {},
            });
            return {
              status: child.status,
              executionArn: child.executionArn,
              ...(child.output === undefined ? {} : { output: child.output }),
              ...(child.error ? { error: child.error } : {}),
            };
          },
        })) as JSONValue;
      }
      if (isInlineMap(state)) {
        const iterations: StateEvent[][] = [];
        try {
          return (await runInlineMap(state, mapInput, {
            world,
            context,
            runIteration: (iterator, itemInput, index) => {
              iterations[index] = [];
              return runIteration(iterator, itemInput, iterations[index]);
            },
          })) as JSONValue;
        } finally {
          // Recorded before the Map's end, iteration by iteration (the engine interleaves them).
          iterationEvents.set(name, [...(iterationEvents.get(name) ?? []), ...iterations.flat()]);
        }
      }
      return (await answerTask(state, params, ctx)) as JSONValue;
    };
    taskResourceLocalHandlers[name] = async (params: JSONValue): Promise<JSONValue> => {
      // AWS ends the execution here: nothing after this state runs, no Catch sees it. The first
      // state may start before run() has returned its handle: abort on the next turn, then settle
      // the task so the engine clears its timers; an aborted execution runs no further state.
      const endHere = (as: EndOutsideAsl['as']) => {
        endedOutside = as;
        return new Promise<JSONValue>((_, reject) =>
          setImmediate(() => {
            abortExecution();
            reject(namedError('Local.ExecutionEnded', 'The execution ended outside its ASL'));
          }),
        );
      };
      /**
       * Stopped from outside by now (world.stopAt): the execution ends ABORTED at the time the stop
       * came, not when this state would have ended. A container that ran on past it is not cut
       * short in the world; the execution's end is.
       */
      const stopped = () => {
        const stopAt = world.stopAt;
        if (stopAt === undefined || world.now < stopAt || endedOutside) return false;
        world.now = stopAt;
        return true;
      };
      if (stopped()) return endHere('ABORTED');
      if (endOutsideAsl?.at === name && !endedOutside) {
        if (endOutsideAsl.after_minutes !== undefined) {
          world.stopAt ??= world.now + endOutsideAsl.after_minutes * 60_000;
        } else {
          if (endOutsideAsl.as === 'TIMED_OUT')
            world.now = Date.parse(startedAt) + (definition.TimeoutSeconds ?? 0) * 1000;
          return endHere(endOutsideAsl.as);
        }
      }
      // Past the machine's TimeoutSeconds, AWS ends the execution TIMED_OUT: no further state runs.
      const deadline = executionDeadline(definition, Date.parse(startedAt));
      const timedOut = () => {
        if (deadline === undefined || world.now <= deadline || endedOutside) return false;
        world.now = deadline;
        return true;
      };
      if (timedOut()) return endHere('TIMED_OUT');
      const taskStart = world.now;
      let result: JSONValue;
      try {
        result = await answer(params);
      } catch (error) {
        if (stopped()) return endHere('ABORTED');
        // A task past its TimeoutSeconds or HeartbeatSeconds timed out before it could fail.
        const overrun = taskOverrun(state, name, taskStart, world);
        if (timedOut()) return endHere('TIMED_OUT');
        throw overrun ?? error;
      }
      if (stopped()) return endHere('ABORTED');
      const overrun = taskOverrun(state, name, taskStart, world);
      if (timedOut()) return endHere('TIMED_OUT');
      if (overrun) throw overrun;
      return result;
    };
  }
  for (const name of retried) retryIntervalOverrides[name] = 0;

  const execution = engine().run((options.redrive ? options.redrive.stateInput : input) as never, {
    noThrowOnAbort: true,
    overrides,
    context: context as never,
  });

  abortExecution = () => execution.abort();
  const events: StateEvent[] = [];
  const keep = (recorded: StateEvent) => {
    events.push(recorded);
    options.onEvent?.(recorded);
  };
  const record = eventRecorder(t0, maps, waits);
  const collect = (async () => {
    for await (const event of execution.eventLogs) {
      const recorded = record(event as EngineEvent);
      if (!recorded) continue;
      const iterated = recorded.event === 'entered' ? undefined : iterationEvents.get(recorded.state);
      if (iterated) {
        iterationEvents.delete(recorded.state);
        for (const nested of iterated) keep(nested);
      }
      keep(recorded);
    }
  })();

  let outcome: Omit<Executed, 'events' | 'executionArn' | 'realMs' | 'end'>;
  try {
    const output = await execution.result;
    outcome = endedOutside
      ? { status: OUTSIDE_ENDS[endedOutside].status, error: OUTSIDE_ENDS[endedOutside].error }
      : { status: 'SUCCEEDED', output };
  } catch (failure) {
    const source = ((failure as Error).cause as Error | undefined) ?? (failure as Error);
    outcome = { status: 'FAILED', error: { Error: source.name, Cause: source.message } };
  }
  const end: StatusChangeDetail = {
    executionArn,
    stateMachineArn,
    name: executionName,
    status: outcome.status,
    startDate: Date.parse(startedAt),
    stopDate: world.now,
    error: outcome.error?.Error ?? null,
    cause: outcome.error?.Cause ?? null,
    input: inputText(input),
    redriveCount: options.redrive?.count ?? 0,
  };
  // EventBridge delivers the end to the reconciler (serverless.yml), in the same world.
  if (!options.processor) await deliverStatusChange(end as unknown as Record<string, unknown>);
  const executed: Executed = { ...outcome, events, executionArn, realMs: 0, end };
  // The engine ends its event log with the execution; one that fails to must not hang the caller.
  let stalled: NodeJS.Timeout | undefined;
  const gaveUp = await Promise.race([
    collect.then(() => false),
    new Promise<boolean>((resolve) => {
      stalled = setTimeout(() => resolve(true), 2_000);
    }),
  ]);
  clearTimeout(stalled);
  if (gaveUp) throw new Error(`The local engine stopped reporting events of ${machine}/${executionName}`);
  // Step Functions bills a transition per state entered and per retry, nested executions included.
  world.usage.push({
    kind: 'states:execution',
    stateMachine: stateMachineArn,
    name: executionName,
    transitions: events.filter((e) => e.event === 'entered' || e.event === 'retried').length,
  });
  executed.realMs = performance.now() - t0;
  return executed;
};

/**
 * RedriveExecution of an execution that ended outside its ASL at `end_outside_asl.at`: it resumes
 * at that state with the input the state had, keeping the states that succeeded (AWS's redrive
 * re-runs the unsuccessful state and what follows). Before it, another deploy takes the lease.
 * The events of both runs are kept, in order.
 */
const redriven = async (
  first: Executed,
  options: Omit<ExecuteOptions, 'redrive'>,
  definition: CaseDefinition,
  behaviour: { bot: BotBehaviour; ecs: EcsBehaviour },
): Promise<Executed> => {
  const at = definition.world?.end_outside_asl?.at;
  const entered = first.events.findLast((e) => e.state === at && e.event === 'entered');
  if (!at || !entered)
    throw new Error('world.redrive needs end_outside_asl, and the execution to reach its state');
  const takenBy = definition.world?.redrive?.lease_taken_by as string;
  const { service_name } = entered.data as { service_name: string };
  options.ctx.world.putStringItem(LEASES_TABLE, service_name, {
    execution_arn: takenBy,
    deployment_id: takenBy.split(':').at(-1) as string,
    token: 'another-deploys-token',
    expires_at: new Date(options.ctx.world.now + 6_300_000).toISOString(),
  });
  const second = await withWorld(
    options.ctx.world,
    definition.world?.rollout ?? {},
    () => execute({ ...options, redrive: { startAt: at, stateInput: entered.data, count: 1 } }),
    behaviour,
  );
  return { ...second, events: [...first.events, ...second.events], realMs: first.realMs + second.realMs };
};

/**
 * Executes the real ASL of `machine` for one case: Lambda tasks run the real handlers against the
 * world, service integrations are answered by the world (a nested execution runs the child's real
 * ASL in the same world), and the case's MockConfigFile entries inject faults or canned answers
 * where it says so. Retries do not sleep.
 */
export const runWorkflow = async (options: RunOptions): Promise<WorkflowRun> => {
  const { machine, caseName } = options;
  const definition = caseName === undefined ? undefined : caseDefinition(machine, caseName);
  const mocks = readMockConfig(machine);
  const testCase = caseName === undefined ? {} : mocks.StateMachines[machine]?.TestCases[caseName];
  if (!testCase) throw new Error(`${machine}.mock.json has no test case ${caseName}`);
  if (!definition && options.input === undefined) throw new Error('A run without a case needs an input');

  applyLocalEnvironment();
  const world = options.world ?? seedWorld();
  for (const [runId, record] of Object.entries(definition?.world?.records ?? {}))
    world.putRecord(TABLE, runId, record);
  for (const service of definition?.world?.missing_services ?? []) world.services.delete(service);
  for (const [runId, seed] of Object.entries(definition?.world?.tested_runs ?? {}))
    seedTestedRun(world, TABLE, runId, seed);
  for (const [image, digest] of Object.entries(definition?.world?.images ?? {})) {
    const at = image.lastIndexOf(':');
    world.putImage(image.slice(0, at), image.slice(at + 1), digest);
  }
  for (const [key, item] of Object.entries(definition?.world?.leases ?? {}))
    world.putStringItem(LEASES_TABLE, key, item);

  const input = withinEngineDepth(options.input ?? caseInput(machine, definition as CaseDefinition));
  const provisioned = definition ? [] : provisionForRequest(world, machine, input);
  // A run's record is keyed by its run id; a sweep's, by its sweep id.
  const ids =
    typeof input === 'object' && input !== null ? (input as { run_id?: unknown; sweep_id?: unknown }) : {};
  const runId = [ids.run_id, ids.sweep_id].find((id): id is string => typeof id === 'string');
  // Execution names are run ids or request ids (the triggers' rule); without a valid one, the case name.
  const requestId =
    typeof input === 'object' && input !== null ? (input as { request_id?: unknown }).request_id : undefined;
  const executionName =
    [runId, requestId].find(
      (id): id is string => typeof id === 'string' && /^[A-Za-z0-9_-]{1,80}$/.test(id),
    ) ??
    caseName ??
    'local-run';
  const nested: NestedRun[] = [];
  /** The latest nested execution of each machine, which keeps its data until a later one ends. */
  const latest = new Map<MachineName, { run: NestedRun; index: number }>();
  const ctx: TaskContext = {
    world,
    container: definition?.world?.container ?? {},
    dataCollection: definition?.world?.data_collection ?? {},
    rollout: definition?.world?.rollout ?? {},
    runChild: async (child, childInput, name) => {
      const executed = await execute({
        machine: child,
        input: childInput,
        executionName: name,
        ctx,
        testCase: {},
        mockedResponses: {},
      });
      const run: NestedRun = {
        machine: child,
        name,
        status: executed.status,
        ...(executed.error ? { error: executed.error } : {}),
        events: executed.events,
      };
      const previous = latest.get(child);
      if (previous && previous.index >= NESTED_WITH_DATA)
        previous.run.events = previous.run.events.map(({ data: _, ...event }) => event);
      latest.set(child, { run, index: nested.length });
      nested.push(run);
      return executed;
    },
  };

  const simulatedStart = world.now;
  const behaviour = { bot: definition?.world?.bot ?? {}, ecs: definition?.world?.ecs ?? {} };
  const first = await withWorld(
    world,
    definition?.world?.rollout ?? {},
    () =>
      execute({
        machine,
        input,
        executionName,
        ctx,
        testCase,
        mockedResponses: definition ? mocks.MockedResponses : {},
        onEvent: options.onEvent,
        endOutsideAsl: definition?.world?.end_outside_asl,
        holdAt: options.holdAt,
      }),
    behaviour,
  );
  const executed = definition?.world?.redrive
    ? await redriven(
        first,
        { machine, input, executionName, ctx, testCase, mockedResponses: {} },
        definition,
        behaviour,
      )
    : first;

  const states = executed.events.filter((e) => e.event === 'entered').map((e) => e.state);
  const retries = executed.events.filter((e) => e.event === 'retried').length;
  const record = runId ? world.record(TABLE, runId) : undefined;
  return {
    machine,
    ...(caseName === undefined ? {} : { caseName }),
    provisioned,
    status: executed.status,
    end: executed.end,
    ...(executed.status === 'SUCCEEDED' ? { output: executed.output } : {}),
    ...(executed.error ? { error: executed.error } : {}),
    states,
    events: executed.events,
    nested,
    transitions: states.length + retries,
    world,
    ...(runId ? { runId } : {}),
    ...(record ? { record } : {}),
    realMs: executed.realMs,
    simulatedMs: world.now - simulatedStart,
  };
};
