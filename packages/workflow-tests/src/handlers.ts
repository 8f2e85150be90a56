import { handler as checkServiceRollout } from '@tradai/check-service-rollout';
import { handler as cleanupResources } from '@tradai/cleanup-resources';
import { handler as dataCollectionProxy } from '@tradai/data-collection-proxy';
import { fakeContext } from '@tradai/lambda-kit/testing';
import { handler as notifyCompletion } from '@tradai/notify-completion';
import { handler as pinTaskDefinition } from '@tradai/pin-task-definition';
import { handler as prepareConfig } from '@tradai/prepare-config';
import { handler as reconcileRun } from '@tradai/reconcile-run';
import { handler as transformResults } from '@tradai/transform-results';
import { handler as validateBacktestRequest } from '@tradai/validate-backtest-request';
import { handler as validateDataQuality } from '@tradai/validate-data-quality';
import { handler as validateDataRequest } from '@tradai/validate-data-request';
import { handler as validateDeployment } from '@tradai/validate-deployment';
import { handler as validateStrategy } from '@tradai/validate-strategy';
import { LOCAL, LOCAL_SUBSTITUTIONS } from './machines';

type Handler = (event: never, context: ReturnType<typeof fakeContext>) => Promise<unknown>;

/** The deployed function behind each Lambda ARN the machines call, by its local ARN. */
const HANDLERS: Record<string, { name: string; handler: Handler }> = Object.fromEntries(
  (
    [
      ['ValidateBacktestRequestArn', 'validate-backtest-request', validateBacktestRequest],
      ['ValidateStrategyArn', 'validate-strategy', validateStrategy],
      ['DataCollectionProxyArn', 'data-collection-proxy', dataCollectionProxy],
      ['PrepareConfigArn', 'prepare-config', prepareConfig],
      ['PinTaskDefinitionArn', 'pin-task-definition', pinTaskDefinition],
      ['TransformResultsArn', 'transform-results', transformResults],
      ['CleanupResourcesArn', 'cleanup-resources', cleanupResources],
      ['NotifyCompletionArn', 'notify-completion', notifyCompletion],
      ['ValidateDataRequestArn', 'validate-data-request', validateDataRequest],
      ['ValidateDataQualityArn', 'validate-data-quality', validateDataQuality],
      ['ValidateDeploymentArn', 'validate-deployment', validateDeployment],
      ['CheckServiceRolloutArn', 'check-service-rollout', checkServiceRollout],
    ] as const
  ).map(([placeholder, name, handler]) => [
    LOCAL_SUBSTITUTIONS[placeholder],
    { name, handler: handler as Handler },
  ]),
);

/** The packages of the functions the local engine runs, in process. */
export const LOCAL_FUNCTION_PACKAGES: readonly string[] = Object.values(HANDLERS).map(({ name }) => name);

export const LOCAL_BUCKETS = {
  strategies: `tradai-${LOCAL.stage}-strategies`,
  datasets: `tradai-${LOCAL.stage}-market-data`,
  runs: `tradai-${LOCAL.stage}-backtest-runs`,
} as const;

export const NOTIFICATION_TOPIC_ARN = `arn:aws:sns:${LOCAL.region}:${LOCAL.accountId}:tradai-${LOCAL.stage}-workflow-notifications`;
export const BACKTEST_TASK_TEMPLATE = `tradai-${LOCAL.stage}-backtest-template`;
export const TRADING_TASK_TEMPLATE = `tradai-${LOCAL.stage}-trading-template`;

/** The environment serverless.yml gives the functions, with local names. */
export const LOCAL_ENVIRONMENT: Record<string, string> = {
  AWS_REGION: LOCAL.region,
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  STRATEGY_BUCKET: LOCAL_BUCKETS.strategies,
  STRATEGY_CONFIG_PREFIX: 'strategies',
  STRATEGY_REPOSITORY_PREFIX: 'tradai/strategies',
  DATASET_BUCKET: LOCAL_BUCKETS.datasets,
  DATASET_PREFIX: 'datasets',
  DEFAULT_EXCHANGE: 'binance',
  FRESHNESS_GRACE_SECONDS: '3600',
  RUNS_BUCKET: LOCAL_BUCKETS.runs,
  RUNS_PREFIX: 'runs',
  BACKTEST_TASK_TEMPLATE,
  STRATEGY_TASK_FAMILY_PREFIX: `tradai-${LOCAL.stage}-strategy-`,
  STRATEGY_CONTAINER_NAME: 'strategy',
  NOTIFICATION_TOPIC_NAME: `tradai-${LOCAL.stage}-workflow-notifications`,
  STAGE: LOCAL.stage,
  WORKFLOW_STATE_TABLE: `tradai-${LOCAL.stage}-workflow-state`,
  ALLOWED_ENVIRONMENTS: 'dry-run,live',
  ECS_CLUSTER: `tradai-${LOCAL.stage}`,
  TRADING_TASK_TEMPLATE,
  TRADING_TASK_FAMILY_PREFIX: `tradai-${LOCAL.stage}-trading-`,
  NOTICE_CLAIMS_TABLE: `tradai-${LOCAL.stage}-execution-metric-events`,
  NOTIFY_FUNCTION_NAME: `tradai-${LOCAL.stage}-notify-completion`,
  STATE_MACHINE_PREFIX: `tradai-${LOCAL.stage}-`,
  DEPLOY_LEASES_TABLE: `tradai-${LOCAL.stage}-deploy-leases`,
  // The stack's own defaults (serverless.yml custom, packages/stack/src/declaration.ts).
  DEPLOY_LEASE_SECONDS: '6300',
  ROLLOUT_TASK_START_SECONDS: '180',
  ROLLOUT_DEREGISTRATION_DELAY_SECONDS: '300',
  SUPPORTED_EXCHANGES: 'binance,bybit,okx',
  MAX_GAP_RATIO: '0.005',
  MAX_DUPLICATE_RATIO: '0',
  MAX_OHLC_VIOLATIONS: '0',
};

export const applyLocalEnvironment = () => Object.assign(process.env, LOCAL_ENVIRONMENT);

/**
 * Runs the real handler behind `functionArn`. A handler's error comes back as Lambda reports it to
 * Step Functions: `Error` is the error's name, `Cause` the JSON of errorType, errorMessage and trace.
 */
export const invokeLocalFunction = async (functionArn: string, payload: unknown): Promise<unknown> => {
  const target = HANDLERS[functionArn];
  if (!target) throw new Error(`No local handler for ${functionArn}`);
  try {
    return await target.handler(payload as never, fakeContext(`tradai-${LOCAL.stage}-${target.name}`));
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

export const isLocalFunction = (resource: string): boolean => resource in HANDLERS;

/** Lambda's Invoke by function name (`tradai-local-notify-completion`), for functions that call others. */
export const invokeLocalFunctionByName = async (functionName: string, payload: unknown): Promise<unknown> => {
  const entry = Object.values(HANDLERS).find(({ name }) => `tradai-${LOCAL.stage}-${name}` === functionName);
  if (!entry) throw new Error(`No local function ${functionName}`);
  return entry.handler(payload as never, fakeContext(functionName));
};

/**
 * EventBridge's "Step Functions Execution Status Change" for an execution that ended: the
 * reconciler's rule matches FAILED, TIMED_OUT and ABORTED (serverless.yml).
 */
export const deliverStatusChange = async (detail: Record<string, unknown>): Promise<unknown> => {
  if (!['FAILED', 'TIMED_OUT', 'ABORTED'].includes(String(detail.status))) return undefined;
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
  return reconcileRun(event as never, fakeContext(`tradai-${LOCAL.stage}-reconcile-run`));
};
