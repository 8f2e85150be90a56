import { randomUUID } from 'node:crypto';
import { createLimiter } from '@tradai/lambda-kit';
import type { FunctionDeclaration } from '@tradai/stack';
import { FUNCTIONS } from '@tradai/stack';
import type { Context } from 'aws-lambda';
import { currentWorld } from './aws';
import { FUNCTION_MODULES } from './functions.generated';
import { LOCAL, LOCAL_STACK } from './machines';

type Handler = (event: never, context: Context) => Promise<unknown>;

/** What a function is deployed as (name, ARN, memory, timeout), from the stack, once per function. */
interface Deployed {
  functionName: string;
  functionArn: string;
  memoryMb: number;
  timeoutMs: number;
}
const deployments = new Map<string, Deployed>();
const deployed = (fn: FunctionDeclaration): Deployed => {
  let found = deployments.get(fn.key);
  if (!found) {
    found = {
      functionName: LOCAL_STACK.functionName(fn),
      functionArn: LOCAL_STACK.functionArn(fn),
      memoryMb: LOCAL_STACK.memoryMbOf(fn),
      timeoutMs: LOCAL_STACK.timeoutSecondsOf(fn) * 1000,
    };
    deployments.set(fn.key, found);
  }
  return found;
};

/** The Lambda runtime's context of one invocation of `fn`, as deployed (memory and timeout from the stack). */
const lambdaContext = (fn: FunctionDeclaration): Context => {
  const { functionName, functionArn, memoryMb, timeoutMs } = deployed(fn);
  const deadline = performance.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${functionName}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - performance.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
};

/** Every function of the stack, by the ARN it has in the local account. */
const FUNCTION_BY_ARN = new Map(FUNCTIONS.map((fn) => [LOCAL_STACK.functionArn(fn), fn]));
const FUNCTION_BY_NAME = new Map(FUNCTIONS.map((fn) => [LOCAL_STACK.functionName(fn), fn]));

/** The function's real handler, loaded the first time it runs. */
const handlers = new Map<string, Handler>();
const handlerOf = async (fn: FunctionDeclaration): Promise<Handler> => {
  const loaded = handlers.get(fn.key);
  if (loaded) return loaded;
  const load = FUNCTION_MODULES[fn.key as keyof typeof FUNCTION_MODULES];
  if (!load) throw new Error(`${fn.key} is not in functions.generated.ts: run npm run generate`);
  const handler = (await load()).handler as Handler;
  handlers.set(fn.key, handler);
  return handler;
};

/**
 * Lambda bills each invocation by the millisecond, at the function's memory. Locally the AWS calls
 * answer at once, so each invocation is billed its measured time plus AWS_CALL_ALLOWANCE_MS, a
 * round figure for the calls it makes on AWS (docs/decisions/0036).
 */
const AWS_CALL_ALLOWANCE_MS = 50;
/**
 * One invocation at a time per function, as in one Lambda execution environment: a handler's
 * module-level state (its Powertools metrics buffer, its SDK clients) is never shared by two
 * invocations at once. (AWS runs concurrent invocations in separate environments.)
 */
const environments = new Map<string, ReturnType<typeof createLimiter>>();
const inItsEnvironment = <T>(fn: FunctionDeclaration, invoke: () => Promise<T>): Promise<T> => {
  let environment = environments.get(fn.key);
  if (!environment) {
    environment = createLimiter(1);
    environments.set(fn.key, environment);
  }
  return environment(invoke);
};

const billed = <T>(fn: FunctionDeclaration, invoke: () => Promise<T>): Promise<T> =>
  inItsEnvironment(fn, async () => {
    const started = performance.now();
    try {
      return await invoke();
    } finally {
      currentWorld().usage.push({
        kind: 'lambda:invoke',
        function: fn.package,
        memoryMb: deployed(fn).memoryMb,
        billedMs: Math.ceil(performance.now() - started) + AWS_CALL_ALLOWANCE_MS,
      });
    }
  });

/**
 * What runs in a local Lambda: every function's environment as the stack deploys it to the local
 * stage (one variable, one value: the stack never gives two functions different values of one name),
 * plus what only a local run sets: a region, dummy credentials, silent logs, no metrics.
 */
const stackEnvironment = (): Record<string, string> => {
  const merged: Record<string, string> = {};
  for (const fn of FUNCTIONS) {
    for (const [name, value] of Object.entries(LOCAL_STACK.environmentOf(fn))) {
      if (name in merged && merged[name] !== value) {
        throw new Error(`${name} is ${merged[name]} for one function and ${value} for ${fn.key}`);
      }
      merged[name] = value;
    }
  }
  return merged;
};

/**
 * The stage's sweep caps, which serverless.yml takes from the deploying shell
 * (`${env:TRADAI_MAX_SWEEP_VARIANTS, '1000'}`): a local run takes them from its own environment the
 * same way, so a sweep larger than the default stage allows (npm run bench's 10,000 variants) runs
 * where a stage deployed with the same variables would run it. Unset, the stack's defaults stand.
 */
const SWEEP_CAPS_FROM_THE_SHELL = {
  MAX_SWEEP_VARIANTS: 'TRADAI_MAX_SWEEP_VARIANTS',
  MAX_SWEEP_CONCURRENCY: 'TRADAI_MAX_SWEEP_CONCURRENCY',
  SWEEP_WAVE_SECONDS: 'TRADAI_SWEEP_WAVE_SECONDS',
  FARGATE_SPOT_VCPU_QUOTA: 'TRADAI_FARGATE_SPOT_VCPU_QUOTA',
  MAX_SWEEP_USD: 'TRADAI_MAX_SWEEP_USD',
} as const;
const sweepCapsFromTheShell = (): Record<string, string> =>
  Object.fromEntries(
    Object.entries(SWEEP_CAPS_FROM_THE_SHELL).flatMap(([name, shell]) => {
      const value = process.env[shell];
      return value === undefined || value === '' ? [] : [[name, value]];
    }),
  );

export const LOCAL_ENVIRONMENT: Record<string, string> = {
  ...stackEnvironment(),
  ...sweepCapsFromTheShell(),
  AWS_REGION: LOCAL.region,
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
};

const env = (name: string): string => {
  const value = LOCAL_ENVIRONMENT[name];
  if (value === undefined) throw new Error(`The stack declares no ${name}`);
  return value;
};

export const LOCAL_BUCKETS = {
  strategies: env('STRATEGY_BUCKET'),
  datasets: env('DATASET_BUCKET'),
  runs: env('RUNS_BUCKET'),
} as const;

export const NOTIFICATION_TOPIC_ARN = `arn:aws:sns:${LOCAL.region}:${LOCAL.accountId}:${env('NOTIFICATION_TOPIC_NAME')}`;

/**
 * Puts the local environment into process.env. Every handler reads its environment at each
 * invocation (lambda-kit's readEnvironment walks process.env), and Node's process.env reads each
 * variable from the C environment on every access: a sweep's ten thousand invocations spent more
 * than a second on that. Nothing changes the environment under a running Lambda, so process.env
 * becomes a plain object with the same variables and values, read at the speed of any object.
 */
export const applyLocalEnvironment = () => {
  if (Object.getPrototypeOf(process.env) !== Object.prototype) process.env = { ...process.env };
  Object.assign(process.env, LOCAL_ENVIRONMENT);
};

/**
 * Runs the real handler behind `functionArn`. A handler's error comes back as Lambda reports it to
 * Step Functions: `Error` is the error's name, `Cause` the JSON of errorType, errorMessage and trace.
 */
export const invokeLocalFunction = async (functionArn: string, payload: unknown): Promise<unknown> => {
  const fn = FUNCTION_BY_ARN.get(functionArn);
  if (!fn) throw new Error(`No local function ${functionArn}`);
  const handler = await handlerOf(fn);
  try {
    return await billed(fn, () => handler(payload as never, lambdaContext(fn)));
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    // Lambda's Node.js runtime reports the stack as `trace`, one line per entry: part of AWS's size.
    const trace = error instanceof Error ? (error.stack ?? '').split('\n') : [];
    throw Object.assign(new Error(JSON.stringify({ errorType: name, errorMessage: message, trace })), {
      name,
    });
  }
};

export const isLocalFunction = (resource: string): boolean => FUNCTION_BY_ARN.has(resource);

/** Lambda's Invoke by function name (`tradai-local-notify-completion`), for functions that call others. */
export const invokeLocalFunctionByName = async (functionName: string, payload: unknown): Promise<unknown> => {
  const fn = FUNCTION_BY_NAME.get(functionName);
  if (!fn) throw new Error(`No local function ${functionName}`);
  const handler = await handlerOf(fn);
  return billed(fn, () => handler(payload as never, lambdaContext(fn)));
};

/** Whether an EventBridge pattern (lists of values, nested objects) matches an event. */
const matches = (pattern: unknown, value: unknown): boolean => {
  if (Array.isArray(pattern)) return pattern.includes(value);
  if (pattern && typeof pattern === 'object') {
    return Object.entries(pattern).every(([key, inner]) =>
      matches(inner, (value as Record<string, unknown> | undefined)?.[key]),
    );
  }
  return pattern === value;
};

/** Every function with an EventBridge rule, with the rule's patterns resolved for the local account. */
let RULES: { fn: FunctionDeclaration; patterns: unknown[] }[] | undefined;
const rules = () => {
  RULES ??= FUNCTIONS.map((fn) => ({
    fn,
    patterns: (fn.events ?? []).flatMap((declared) => {
      const pattern = (declared as { eventBridge?: { pattern?: unknown } }).eventBridge?.pattern;
      return pattern === undefined ? [] : [LOCAL_STACK.resolve(pattern)];
    }),
  })).filter(({ patterns }) => patterns.length > 0);
  return RULES;
};

/** The functions an EventBridge rule of the stack sends `event` to, as the stack declares them. */
const targetsOf = (event: Record<string, unknown>): FunctionDeclaration[] =>
  rules()
    .filter(({ patterns }) => patterns.some((pattern) => matches(pattern, event)))
    .map(({ fn }) => fn);

/**
 * EventBridge's "Step Functions Execution Status Change" for an execution that ended, delivered to
 * every function whose rule matches it (the reconciler's matches FAILED, TIMED_OUT and ABORTED).
 */
export const deliverStatusChange = async (detail: Record<string, unknown>): Promise<unknown[]> => {
  const event = {
    version: '0',
    id: `local-${String(detail.executionArn)}-${String(detail.status)}`,
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: LOCAL.accountId,
    region: LOCAL.region,
    time: new Date(Number(detail.stopDate)).toISOString(),
    resources: [detail.executionArn],
    detail,
  };
  const answers: unknown[] = [];
  for (const fn of targetsOf(event)) {
    const handler = await handlerOf(fn);
    answers.push(await billed(fn, () => handler(event as never, lambdaContext(fn))));
  }
  return answers;
};
