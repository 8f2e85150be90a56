import {
  ECS_LAUNCH_FAILURES,
  freqtradeLoadsParameterFile,
  resultZipMembers,
  type StrategyParameters,
  TIMEFRAME_SECONDS,
  type Timeframe,
} from '@tradai/lambda-kit';
import { StatesTimeoutError } from 'aws-local-stepfunctions';
import { strToU8, zipSync } from 'fflate';
import { answerDynamoDbTask } from './dynamodb-tasks';
import { describeExecution, describeStoppedTask } from './ecs-shapes';
import { type ResultMetrics, simulatedFreqtradeResult } from './freqtrade';
import { invokeLocalFunction, isLocalFunction, LOCAL_BUCKETS } from './handlers';
import { type AslState, type MachineName, machineOfArn } from './machines';
import { FREQTRADE_RESULT_FIXTURE, readFixture, writeManifests } from './seed';
import type { World } from './world';

/** How the simulated strategy container behaves in one scenario (cases file, `world.container`). */
export interface ContainerBehaviour {
  /** Simulated run time; above the state's TimeoutSeconds the task times out (States.Timeout). */
  duration_minutes?: number;
  exit_code?: number;
  /** Spot reclaims the capacity mid-run: the FARGATE_SPOT task stops with SpotInterruption. */
  interrupted_on_spot?: boolean;
  /** ...and the container, given SIGTERM, exits 0: the task ends without error, StopCode SpotInterruption. */
  interrupted_on_spot_exits_zero?: boolean;
  /**
   * RunTask cannot start the task, as AWS fails `ecs:runTask.sync`: ECS.AmazonECSException with
   * AWS's documented reason in the cause (lambda-kit ECS_LAUNCH_FAILURES, with sources).
   * spot_capacity: no Fargate Spot capacity (on-demand starts); vcpu_quota: the account's Fargate
   * vCPU quota (every capacity); throttled: RunTask's rate limit, for the first `times` calls;
   * unrecognised: a reason none of those.
   */
  run_task_fails?: { as: 'spot_capacity' | 'vcpu_quota' | 'throttled' | 'unrecognised'; times?: number };
  /** false: the container exits 0 but writes no result file. */
  writes_result?: boolean;
  /** false: the v9.2 container exits 0 without recording RUNNING and COMPLETED. */
  records_status?: boolean;
  /** Runs (by run id) whose container exits 1: a sweep's failing variants. */
  failing_runs?: string[];
  /** true: the result is simulated from each run's config (a sweep's variants differ), not the fixture. */
  simulated_results?: boolean;
}

/** How the simulated data-collection task behaves (cases file, `world.data_collection`). */
export interface DataCollectionBehaviour {
  duration_minutes?: number;
  exit_code?: number;
  /** Share of the expected candles the task reports missing (gaps). */
  missing_ratio?: number;
  duplicate_candles?: number;
  /** Candles with high below open or close. */
  ohlc_violations?: number;
  /** Symbols the task writes no manifest for. */
  skip_symbols?: string[];
}

/** How a deploy's rollout goes (cases file, `world.rollout`). */
export interface RolloutBehaviour {
  /** Checks that still see the rollout in progress before it ends. */
  checks_in_progress?: number;
  /**
   * How it ends: COMPLETED; FAILED (ECS's circuit breaker, no rollback); ROLLED_BACK_BY_ECS (the
   * circuit breaker puts the previous task definition back); SUPERSEDED (a newer revision replaces
   * ours mid-rollout); or STUCK (never ends).
   */
  outcome?: 'COMPLETED' | 'FAILED' | 'ROLLED_BACK_BY_ECS' | 'SUPERSEDED' | 'STUCK';
}

export interface ChildExecution {
  status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  output?: unknown;
  error?: { Error: string; Cause: string };
  executionArn: string;
}

export interface TaskContext {
  world: World;
  container: ContainerBehaviour;
  dataCollection: DataCollectionBehaviour;
  rollout: RolloutBehaviour;
  /** Runs another machine's real ASL in the same world (`states:startExecution.sync:2`). */
  runChild: (machine: MachineName, input: unknown, executionName: string) => Promise<ChildExecution>;
}

/**
 * An error as Step Functions names it (`States.TaskFailed`, `DynamoDB.ConditionalCheckFailedException`).
 * `States.Timeout` is the engine's own timeout error, which `States.TaskFailed` never matches, as on
 * AWS; a plain error of that name would be caught by a `States.TaskFailed` catcher.
 */
export const namedError = (name: string, cause: string): Error =>
  name === 'States.Timeout'
    ? Object.assign(new StatesTimeoutError(), { message: cause })
    : Object.assign(new Error(cause), { name });

const DEFAULT_CONTAINER: Required<
  Omit<ContainerBehaviour, 'run_task_fails' | 'failing_runs' | 'simulated_results'>
> &
  Pick<ContainerBehaviour, 'run_task_fails' | 'failing_runs' | 'simulated_results'> = {
  duration_minutes: 42,
  exit_code: 0,
  interrupted_on_spot: false,
  interrupted_on_spot_exits_zero: false,
  writes_result: true,
  records_status: true,
};

type Params = Record<string, unknown>;
const env = (params: Params): Record<string, string> => {
  const overrides = (
    params.Overrides as { ContainerOverrides?: { Environment?: { Name: string; Value: string }[] }[] }
  )?.ContainerOverrides?.[0];
  return Object.fromEntries((overrides?.Environment ?? []).map(({ Name, Value }) => [Name, Value]));
};
const s3Parts = (uri: string) => {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!match) throw namedError('States.TaskFailed', `container: ${uri} is not an s3:// URI`);
  return { bucket: match[1] as string, key: match[2] as string };
};

/** RunTask: the task definition must exist; the task gets an ARN and is recorded in the world. */
const launch = (params: Params, world: World, capacity: string) => {
  const definition = world.findTaskDefinition(String(params.TaskDefinition));
  if (!definition) {
    throw namedError(
      'ECS.InvalidParameterException',
      `TaskDefinition not found: ${String(params.TaskDefinition)}`,
    );
  }
  const { region, accountId, stage } = world.settings;
  const taskArn = `arn:aws:ecs:${region}:${accountId}:task/tradai-${stage}/${world.changes.length.toString(16).padStart(32, '0')}`;
  world.changes.push({
    kind: 'ecs:run',
    taskArn,
    taskDefinition: definition.arn,
    capacityProvider: capacity,
    cpu: Number(definition.definition.cpu ?? 0),
    memory: Number(definition.definition.memory ?? 0),
  });
  return { definition, vars: env(params), taskArn };
};

/** JSON from the world's object at `where`, or undefined when it is absent or not JSON. */
const readJson = (world: World, where: { bucket: string; key: string }): unknown => {
  const object = world.getObject(where.bucket, where.key);
  if (!object) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(object.body));
  } catch {
    return undefined;
  }
};

/** freqtrade's `--timerange` (`20180110-20180130`, or unix seconds) as ISO instants; undefined if neither. */
const timerangeBounds = (timerange: unknown): [string, string] | undefined => {
  const match = /^(\d{8}|\d{10})-(\d{8}|\d{10})$/.exec(String(timerange ?? ''));
  if (!match) return undefined;
  const instant = (part: string) =>
    new Date(
      part.length === 8
        ? Date.UTC(Number(part.slice(0, 4)), Number(part.slice(4, 6)) - 1, Number(part.slice(6, 8)))
        : Number(part) * 1000,
    ).toISOString();
  return [instant(match[1] as string), instant(match[2] as string)];
};

/** The config with its exchange credentials redacted, as freqtrade stores it (`sanitize_config`). */
const redacted = (config: Record<string, unknown>) => {
  const exchange = { ...((config.exchange as Record<string, unknown> | undefined) ?? {}) };
  for (const secret of ['key', 'secret', 'password', 'uid'])
    if (secret in exchange) exchange[secret] = 'REDACTED';
  return { ...config, exchange };
};

/** freqtrade's file stamp (`dtappendix`): `2026-01-05_09-42-00`. */
const resultStamp = (ms: number) =>
  new Date(ms).toISOString().slice(0, 19).replace('T', '_').replaceAll(':', '-');

/** The strategy parameter file the run gave freqtrade: its bytes, as freqtrade stores them, and its params. */
interface ParameterFile {
  bytes: Uint8Array;
  params: StrategyParameters;
}

/**
 * freqtrade's result files, under the run's results/ prefix: the real fixture, or, for a strategy
 * the world simulates, a run the case asks to simulate, or any run with a parameter file (the
 * fixture ran StrategyTestV3's own parameters), a result simulated from the run's config and
 * parameters (freqtrade.ts). With a parameter file, freqtrade 2025's layout: one zip holding the
 * result, the config and the parameter file it loaded (resultZipMembers); without, today's JSON.
 * `.last_result.json` names the file either way. freqtrade 2025 also stores the strategy's source
 * in the zip and the metadata beside it (`.meta.json`); the contract names neither, so the result
 * keeps its metadata, as today's JSON does, and the zip has no source.
 */
const writeResult = (
  world: World,
  results: { bucket: string; key: string },
  config: Record<string, unknown>,
  options: { simulate: boolean; parameterFile: ParameterFile | undefined; metrics: ResultMetrics },
) => {
  const stem = `backtest-result-${resultStamp(world.now)}`;
  const strategy = typeof config.strategy === 'string' ? config.strategy : undefined;
  const range = timerangeBounds(config.timerange);
  const timeframe = String(config.timeframe);
  const simulate =
    strategy !== undefined &&
    range !== undefined &&
    timeframe in TIMEFRAME_SECONDS &&
    (options.simulate || world.simulatedStrategies.has(strategy) || options.parameterFile !== undefined);
  const pointTo = (name: string) =>
    world.putObject(
      results.bucket,
      `${results.key}.last_result.json`,
      JSON.stringify({ latest_backtest: name }),
    );
  if (!simulate) {
    world.putObject(results.bucket, `${results.key}${stem}.json`, readFixture(FREQTRADE_RESULT_FIXTURE));
    pointTo(`${stem}.json`);
    return;
  }
  const pairs = (config.exchange as { pair_whitelist?: string[] } | undefined)?.pair_whitelist ?? [];
  // The result is a pure function of the run: the world keeps how to make it, not a sweep's
  // thousands of result files (world.ts, Remade).
  const ranAt = world.now;
  const parameterFile = options.parameterFile;
  const simulated = () =>
    simulatedFreqtradeResult(
      {
        strategy,
        symbols: pairs,
        timeframe: timeframe as Timeframe,
        start: range[0],
        end: range[1],
        config,
        ...(parameterFile ? { parameters: parameterFile.params, release: 2025 as const } : {}),
        ranAt,
      },
      options.metrics,
    );
  if (!parameterFile) {
    world.putRemadeObject(results.bucket, `${results.key}${stem}.json`, {
      bytes: JSON.stringify(simulated()),
      again: () => JSON.stringify(simulated()),
    });
    pointTo(`${stem}.json`);
    return;
  }
  const zip = `${stem}.zip`;
  const members = resultZipMembers(zip);
  const zipped = () =>
    zipSync(
      {
        [members.result]: strToU8(JSON.stringify(simulated())),
        [members.config]: strToU8(JSON.stringify(redacted(config), null, 4)),
        // Exactly the file freqtrade loaded: transform-results compares it with the run's.
        [members.parameters(strategy)]: parameterFile.bytes,
      },
      { mtime: ranAt },
    );
  world.putRemadeObject(results.bucket, `${results.key}${zip}`, { bytes: zipped(), again: zipped });
  pointTo(zip);
};

/**
 * The parameter file at PARAMS_S3_PATH, as freqtrade loads it when it starts (lambda-kit's
 * freqtradeLoadsParameterFile): 'refused' when freqtrade would not load it for the class ("Invalid
 * parameter file provided."), or when it is not there to download.
 */
const loadParameterFile = (world: World, uri: string, strategy: unknown): ParameterFile | 'refused' => {
  const where = s3Parts(uri);
  const object = world.getObject(where.bucket, where.key);
  const file = readJson(world, where);
  if (!object || typeof strategy !== 'string' || !freqtradeLoadsParameterFile(file, strategy))
    return 'refused';
  return { bytes: object.body, params: (file as { params: StrategyParameters }).params };
};

/**
 * The strategy container, simulated against the world: it needs the task definition and the
 * config PrepareConfig wrote, loads the run's parameter file if it has one (failing as freqtrade
 * does on one it would not load), runs for the scenario's duration, then writes freqtrade's
 * result (writeResult) and some scratch files under the run's prefix. In the simplified workflow
 * it also records its own status, as the v9.2 container does.
 */
/** RunTask calls of each world so far (a throttled RunTask fails its first `times`). */
const launchAttempts = new WeakMap<World, number>();

const runStrategyContainer = (state: AslState, params: Params, ctx: TaskContext, metrics: ResultMetrics) => {
  const behaviour = { ...DEFAULT_CONTAINER, ...ctx.container };
  const { world } = ctx;
  const capacity =
    (params.CapacityProviderStrategy as { CapacityProvider: string }[] | undefined)?.[0]?.CapacityProvider ??
    'FARGATE';
  const launchFailure = behaviour.run_task_fails;
  if (launchFailure) {
    const attempt = (launchAttempts.get(world) ?? 0) + 1;
    launchAttempts.set(world, attempt);
    const applies =
      launchFailure.as === 'spot_capacity'
        ? capacity === 'FARGATE_SPOT'
        : launchFailure.as !== 'throttled' || attempt <= (launchFailure.times ?? 1);
    if (applies) {
      const reason =
        launchFailure.as === 'unrecognised'
          ? "The specified platform does not satisfy the task definition's required capabilities"
          : (ECS_LAUNCH_FAILURES.find(
              (f) => f.kind === (launchFailure.as === 'vcpu_quota' ? 'quota' : launchFailure.as),
            )?.reason as string);
      // As the Step Functions ECS integration reports an exception of the RunTask call: the
      // SDK's message, with the service and status (AWS Java SDK AmazonServiceException format).
      throw namedError(
        'ECS.AmazonECSException',
        `${reason} (Service: AmazonECS; Status Code: 400; Error Code: ${launchFailure.as === 'throttled' ? 'ThrottlingException' : 'InvalidParameterException'}; Request ID: 00000000-0000-0000-0000-000000000000; Proxy: null)`,
      );
    }
  }

  const { definition, vars, taskArn } = launch(params, world, capacity);

  const image = definition.definition.containerDefinitions.find((c) => c.name === 'strategy')?.image ?? '';
  const startedAt = world.now;
  const timeoutSeconds = Number(state.TimeoutSeconds ?? 99_999_999);
  const task = (stopCode: string, exitCode: number | null, minutes: number, reason: string) =>
    describeStoppedTask({
      taskArn,
      definition,
      params,
      capacity,
      container: 'strategy',
      image,
      startedAt,
      stoppedAt: startedAt + minutes * 60_000,
      stopCode,
      stoppedReason: reason,
      exitCode,
      region: world.settings.region,
    });

  if (behaviour.interrupted_on_spot_exits_zero && capacity === 'FARGATE_SPOT') {
    world.now += 7 * 60_000;
    return task('SpotInterruption', 0, 7, 'Your Spot Task was interrupted.');
  }
  if (behaviour.interrupted_on_spot && capacity === 'FARGATE_SPOT') {
    world.now += 7 * 60_000;
    throw namedError(
      'States.TaskFailed',
      JSON.stringify(task('SpotInterruption', 143, 7, 'Your Spot Task was interrupted.')),
    );
  }
  if (behaviour.duration_minutes * 60 > timeoutSeconds) {
    world.now += timeoutSeconds * 1000;
    throw namedError('States.Timeout', `RunBacktest did not finish within ${timeoutSeconds} s`);
  }
  if (!/@sha256:[0-9a-f]{64}$/.test(image)) {
    throw namedError(
      'States.TaskFailed',
      JSON.stringify(task('TaskFailedToStart', null, 0, `image ${image} is not pinned by digest`)),
    );
  }
  const config = vars.CONFIG_S3_PATH ? s3Parts(vars.CONFIG_S3_PATH) : undefined;
  if (!config || !world.getObject(config.bucket, config.key)) {
    world.now += 60_000;
    throw namedError(
      'States.TaskFailed',
      JSON.stringify(task('EssentialContainerExited', 2, 1, `config ${vars.CONFIG_S3_PATH} not found`)),
    );
  }

  const results = s3Parts(vars.RESULTS_S3_PATH ?? '');
  const runRoot = results.key.replace(/results\/$/, '');
  const runConfig = readJson(world, config) as Record<string, unknown> | undefined;
  // freqtrade loads the strategy with its parameter file first (freqtrade/strategy/hyper.py
  // load_params_from_file): a file for another class, or none at all, ends it with exit code 2.
  const parameterFile = vars.PARAMS_S3_PATH
    ? loadParameterFile(world, vars.PARAMS_S3_PATH, runConfig?.strategy)
    : undefined;
  if (parameterFile === 'refused') {
    world.now += 60_000;
    world.putObject(
      results.bucket,
      `${runRoot}tmp/freqtrade.log`,
      `${new Date(world.now).toISOString()} - freqtrade - ERROR - Invalid parameter file provided.\n`,
    );
    throw namedError(
      'States.TaskFailed',
      JSON.stringify(task('EssentialContainerExited', 2, 1, 'Essential container in task exited')),
    );
  }

  world.now += behaviour.duration_minutes * 60_000;
  world.putObject(results.bucket, `${runRoot}tmp/freqtrade.log`, 'freqtrade backtesting ... done\n');
  world.putObject(results.bucket, `${runRoot}tmp/user_data/data/cache.feather`, new Uint8Array(2048));
  const exitCode = behaviour.failing_runs?.includes(vars.TRADAI_RUN_ID ?? '') ? 1 : behaviour.exit_code;
  if (exitCode !== 0) {
    throw namedError(
      'States.TaskFailed',
      JSON.stringify(
        task(
          'EssentialContainerExited',
          exitCode,
          behaviour.duration_minutes,
          'Essential container in task exited',
        ),
      ),
    );
  }
  if (behaviour.writes_result) {
    writeResult(world, results, runConfig ?? {}, {
      simulate: behaviour.simulated_results === true,
      parameterFile,
      metrics,
    });
  }
  if (vars.DYNAMODB_TABLE && vars.TRADAI_RUN_ID && behaviour.records_status) {
    // The v9.2 container records RUNNING and COMPLETED on the run its execution claimed
    // (docs/contracts/workflow-state.md); it cannot know about failures it does not survive.
    const key = { run_id: { S: vars.TRADAI_RUN_ID } };
    const values = (status: string) => ({
      ':status': { S: status },
      ':pending': { S: 'PENDING' },
      ':running': { S: 'RUNNING' },
      ':now': { S: new Date(world.now).toISOString() },
      ':arn': { S: vars.TRADAI_EXECUTION_ARN ?? '' },
      ':results': { S: vars.RESULTS_S3_PATH ?? '' },
    });
    world.updateItem(vars.DYNAMODB_TABLE, key, {
      UpdateExpression: 'SET #status = :status, execution_arn = :arn, started_at = :now, updated_at = :now',
      ConditionExpression:
        'attribute_not_exists(#status) OR #status = :pending OR (#status = :running AND execution_arn = :arn)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: values('RUNNING'),
    });
    world.updateItem(vars.DYNAMODB_TABLE, key, {
      UpdateExpression:
        'SET #status = :status, results_uri = :results, completed_at = :now, updated_at = :now',
      ConditionExpression: '#status = :running AND execution_arn = :arn',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: values('COMPLETED'),
    });
  }
  return task(
    'EssentialContainerExited',
    0,
    behaviour.duration_minutes,
    'Essential container in task exited',
  );
};

/** The nested data-sync workflow: its real ASL, in the same world (`startExecution.sync:2`). */
const runNestedExecution = async (params: Params, ctx: TaskContext) => {
  const arn = String(params.StateMachineArn);
  const machine = machineOfArn(arn);
  if (!machine) throw new Error(`No local state machine ${arn}`);
  const name = String(params.Name);
  ctx.world.changes.push({ kind: 'states:start', stateMachineArn: arn, name, input: params.Input });
  const startDate = ctx.world.now;
  const child = await ctx.runChild(machine, params.Input, name);
  const described = describeExecution({
    executionArn: child.executionArn,
    stateMachineArn: arn,
    name,
    status: child.status,
    input: params.Input,
    startDate,
    stopDate: ctx.world.now,
    error: child.error,
    // .sync:2 parses the child's output; a failed child has none.
    output: child.status === 'SUCCEEDED' ? child.output : undefined,
  });
  if (child.status !== 'SUCCEEDED') throw namedError('States.TaskFailed', JSON.stringify(described));
  return described;
};

/**
 * The data-collection task, simulated against the world: it runs for the scenario's duration, then
 * writes one manifest per symbol covering the requested range, with the scenario's defects.
 */
const runDataCollection = (state: AslState, params: Params, ctx: TaskContext) => {
  const behaviour = {
    duration_minutes: 12,
    exit_code: 0,
    missing_ratio: 0,
    duplicate_candles: 0,
    ohlc_violations: 0,
    skip_symbols: [],
    ...ctx.dataCollection,
  };
  const { world } = ctx;
  const { definition, vars, taskArn } = launch(params, world, 'FARGATE');
  const startedAt = world.now;
  const timeoutSeconds = Number(state.TimeoutSeconds ?? 99_999_999);
  if (behaviour.duration_minutes * 60 > timeoutSeconds) {
    world.now += timeoutSeconds * 1000;
    throw namedError('States.Timeout', `FetchAndStoreData did not finish within ${timeoutSeconds} s`);
  }
  world.now += behaviour.duration_minutes * 60_000;
  const image =
    definition.definition.containerDefinitions.find((c) => c.name === 'data-collection')?.image ?? '';
  const task = (exitCode: number) =>
    describeStoppedTask({
      taskArn,
      definition,
      params,
      capacity: 'FARGATE',
      container: 'data-collection',
      image,
      startedAt,
      stoppedAt: world.now,
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      exitCode,
      region: world.settings.region,
    });
  if (behaviour.exit_code !== 0) {
    throw namedError('States.TaskFailed', JSON.stringify(task(behaviour.exit_code)));
  }
  const symbols = JSON.parse(vars.SYMBOLS ?? '[]') as string[];
  const timeframe = vars.TIMEFRAME as Timeframe;
  const day = (value: string) =>
    new Date(Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value)).toISOString();
  const coverage = { start: day(vars.START_DATE ?? ''), end: day(vars.END_DATE ?? '') };
  const written = symbols.filter((symbol) => !behaviour.skip_symbols.includes(symbol));
  writeManifests(world, written, timeframe, coverage, true, {
    last_updated: new Date(world.now).toISOString(),
    missingRatio: behaviour.missing_ratio,
    duplicates: behaviour.duplicate_candles,
    ohlcViolations: behaviour.ohlc_violations,
  });
  return task(0);
};

const containerName = (params: Params) =>
  (params.Overrides as { ContainerOverrides?: { Name?: string }[] } | undefined)?.ContainerOverrides?.[0]
    ?.Name;

/** The default answer of a Task state: the real handler, or the world acting as the AWS service. */
export const answerTask = async (state: AslState, params: unknown, ctx: TaskContext): Promise<unknown> => {
  const p = params as Params;
  if (state.Resource !== undefined && isLocalFunction(state.Resource))
    return invokeLocalFunction(state.Resource, params);
  switch (state.Resource) {
    case 'arn:aws:states:::dynamodb:updateItem':
    case 'arn:aws:states:::dynamodb:putItem':
    case 'arn:aws:states:::dynamodb:getItem':
    case 'arn:aws:states:::dynamodb:deleteItem':
      return answerDynamoDbTask(ctx.world, state.Resource, p);
    case 'arn:aws:states:::sqs:sendMessage':
      ctx.world.send({ queueUrl: String(p.QueueUrl), body: p.MessageBody });
      return { MessageId: `local-${ctx.world.queued.length}`, MD5OfMessageBody: '0'.repeat(32) };
    case 'arn:aws:states:::ecs:runTask.sync': {
      const { world } = ctx;
      // transform-results' metric code, which simulated results are computed with, is loaded as the
      // engine loads a handler: the first time it is needed, and before the task starts, so the
      // task itself runs without yielding to its siblings.
      const metrics =
        containerName(p) === 'data-collection' ? undefined : await import('@tradai/transform-results');
      const [before, startedAt] = [world.changes.length, world.now];
      try {
        return metrics === undefined
          ? runDataCollection(state, p, ctx)
          : runStrategyContainer(state, p, ctx, metrics);
      } finally {
        // However the task ended, it ran (and is billed) from RunTask until now.
        for (const change of world.changes.slice(before))
          if (change.kind === 'ecs:run') change.seconds = (world.now - startedAt) / 1000;
      }
    }
    case 'arn:aws:states:::states:startExecution.sync:2':
      return runNestedExecution(p, ctx);
    case 'arn:aws:states:::aws-sdk:ecs:describeServices': {
      // The SDK integration answers in the API's own (PascalCase) shape.
      const names = (p.Services as string[] | undefined) ?? [];
      const found = names.flatMap((name) => {
        const service = ctx.world.services.get(name);
        return service
          ? [
              {
                ServiceName: service.name,
                TaskDefinition: service.taskDefinition,
                DesiredCount: service.desiredCount,
              },
            ]
          : [];
      });
      const failures = names
        .filter((name) => !ctx.world.services.has(name))
        .map((name) => ({ Arn: name, Reason: 'MISSING' }));
      return { Services: found, Failures: failures };
    }
    case 'arn:aws:states:::aws-sdk:ecs:updateService': {
      const configuration = p.DeploymentConfiguration as
        | { MaximumPercent?: number; MinimumHealthyPercent?: number }
        | undefined;
      const service = ctx.world.updateService(String(p.Service), String(p.TaskDefinition), {
        force: p.ForceNewDeployment === true,
        ...(typeof p.DesiredCount === 'number' ? { desiredCount: p.DesiredCount } : {}),
        deploymentConfiguration: {
          ...(configuration?.MaximumPercent === undefined
            ? {}
            : { maximumPercent: configuration.MaximumPercent }),
          ...(configuration?.MinimumHealthyPercent === undefined
            ? {}
            : { minimumHealthyPercent: configuration.MinimumHealthyPercent }),
        },
      });
      if (!service)
        throw namedError('Ecs.ServiceNotFoundException', `Service not found: ${String(p.Service)}`);
      return { Service: { ServiceName: service.name, TaskDefinition: service.taskDefinition } };
    }
    default:
      throw new Error(`The local world cannot answer resource ${state.Resource}`);
  }
};

export { LOCAL_BUCKETS };
