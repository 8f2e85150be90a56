import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { type AttributeValue, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  awsClientConfig,
  callerArnSchema,
  createWorkflowHandler,
  DEFAULT_DRY_RUN_WALLET,
  type DeployEnvironment,
  DeploymentRefusedError,
  type DeployRequest,
  deployRequestSchema,
  type ExchangeCredentials,
  type OpenTradePolicy,
  parseOrThrow,
  readEnvironment,
  tableNameSchema,
  toWorkflowError,
  tradingServiceName,
  ValidationError,
  wrappedExecutionInputSchema,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';

const dynamodb = new DynamoDBClient(awsClientConfig);

export const validateDeploymentInput = wrappedExecutionInputSchema;

const roleNameSchema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9+=,.@_-]{1,64}$/, { error: 'must be an IAM role name' }));

export const environment = z.object({
  STAGE: z.string().check(z.regex(/^[a-z0-9-]{1,20}$/, { error: 'must be a stage name such as dev' })),
  WORKFLOW_STATE_TABLE: tableNameSchema,
  /**
   * Comma-separated environments this stage may deploy to. Live is opt-in per stage
   * (serverless.yml `custom.deployEnvironments`: dry-run only unless the stage lists live).
   */
  ALLOWED_ENVIRONMENTS: z._default(
    z.pipe(
      z.string(),
      z.transform((value) => value.split(',').map((name) => name.trim())),
    ),
    ['dry-run'],
  ),
  /**
   * How long a deploy's lease on its service lasts (docs/decisions/0031): longer than the deploy
   * machine's TimeoutSeconds (7,200 since its open-trade checks, 0046), so a lease never expires
   * under a deploy that is still running.
   */
  DEPLOY_LEASE_SECONDS: z._default(
    z.coerce.number().check(z.int(), z.minimum(7_260), z.maximum(86_400)),
    8_100,
  ),
  /** The stage's quality gates for a live bot: the tested run's trades and drawdown. */
  LIVE_MIN_TRADES: z._default(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(100_000)), 30),
  LIVE_MAX_DRAWDOWN_PCT: z._default(z.coerce.number().check(z.minimum(0), z.maximum(100)), 30),
  /** When set, only this IAM role (the API's caller, assumed) may deploy live. */
  LIVE_DEPLOYER_ROLE: z.optional(z.union([z.literal(''), roleNameSchema])),
});

/** The deploy's lease on its service, timed by this function's clock (AcquireServiceLease compares these). */
export interface ServiceLease {
  /** Now, ISO 8601: a lease that expired before this may be taken over. */
  now: string;
  expires_at: string;
  /** The same instant in epoch seconds, as a string: the table's TTL attribute (housekeeping only). */
  expires_at_epoch: string;
  /**
   * The fencing token: written with the lease, compared before every call that changes the service
   * (RecheckLease). A redrive keeps this output, so it keeps the token; a deploy that took the
   * lease over in between wrote its own.
   */
  token: string;
}

/** What a live bot rests on: the run that tested it, as its record says (all "" for none). */
export interface TestedRun {
  run_id: string;
  /** The image digest the run ran (`<repository>@sha256:...`). */
  image_uri: string;
  strategy_hash: string;
  config_path: string;
  params_path: string;
  /** How it was chosen: a backtest, or a sweep's winner (`<sweep_id>#<variant>`). */
  source: string;
}

export interface ValidatedDeployment {
  deployment_id: string;
  request_id: string;
  strategy_name: string;
  strategy_version: string;
  environment: DeployEnvironment;
  /** The tested run a live deployment rests on; empty for a dry-run without one. */
  backtest_run_id: string;
  tested: TestedRun;
  exchange_credentials: ExchangeCredentials | null;
  open_trades: OpenTradePolicy;
  dry_run_wallet: number;
  /** The IAM identity that asked (API Gateway's), or how the execution was started. */
  requested_by: string;
  service_name: string;
  lease: ServiceLease;
}

const leaseFrom = (now: number, seconds: number): ServiceLease => ({
  now: new Date(now).toISOString(),
  expires_at: new Date(now + seconds * 1000).toISOString(),
  expires_at_epoch: String(Math.floor(now / 1000) + seconds),
  token: randomUUID(),
});

const NO_TESTED_RUN: TestedRun = {
  run_id: '',
  image_uri: '',
  strategy_hash: '',
  config_path: '',
  params_path: '',
  source: '',
};

type Item = Record<string, AttributeValue>;

const readRecord = async (table: string, runId: string): Promise<Item | undefined> => {
  const { Item } = await dynamodb
    .send(new GetItemCommand({ TableName: table, Key: { run_id: { S: runId } }, ConsistentRead: true }))
    .catch((error: unknown) => {
      throw toWorkflowError(error, `Reading run ${runId}`);
    });
  return Item;
};

const resultOf = (item: Item): Record<string, unknown> => {
  try {
    const parsed = JSON.parse(item.result?.S ?? 'null') as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};

const refuse = (reason: string): never => {
  throw new DeploymentRefusedError(`This deployment is refused: ${reason}`);
};

/**
 * The COMPLETED run of exactly this version that the bot rests on: the backtest named, or the
 * sweep winner promoted (after its out-of-sample check, for live). Refused otherwise, by reason.
 */
const testedRun = async (
  table: string,
  request: DeployRequest,
): Promise<{ runId: string; item: Item; source: string }> => {
  let runId = request.backtest_run_id as string;
  let source = `backtest ${runId}`;
  if (request.promote) {
    const { sweep_id, variant } = request.promote;
    const sweep = await readRecord(table, sweep_id);
    if (sweep?.workflow?.S !== 'backtest-sweep') refuse(`sweep ${sweep_id} does not exist`);
    if (sweep?.status?.S !== 'COMPLETED')
      refuse(`sweep ${sweep_id} is ${sweep?.status?.S ?? 'without status'}, not COMPLETED`);
    const winner = resultOf(sweep as Item).winner as
      | { run_id?: string; index?: number; basis?: string }
      | null
      | undefined;
    if (!winner?.run_id) refuse(`sweep ${sweep_id} has no winner`);
    if (winner?.index !== variant)
      refuse(`variant ${variant} is not the winner of sweep ${sweep_id} (variant ${winner?.index} is)`);
    if (request.environment === 'live' && winner?.basis !== 'held out of sample')
      refuse(
        `the winner of sweep ${sweep_id} was ranked in sample only: a live bot needs a winner that held out of sample (set out_of_sample on the sweep)`,
      );
    runId = winner?.run_id as string;
    source = `sweep ${sweep_id} variant ${variant}`;
  }
  const item = await readRecord(table, runId);
  if (!item) return refuse(`${source}: run ${runId} does not exist`);
  const what = `${request.strategy_name} ${request.strategy_version}`;
  const found = `${item.strategy_name?.S} ${item.strategy_version?.S}`;
  if (found !== what) refuse(`${source}: run ${runId} tested ${found}, not ${what}`);
  if (item.status?.S !== 'COMPLETED')
    refuse(`${source}: run ${runId} is ${item.status?.S ?? 'without status'}, not COMPLETED`);
  if (!item.image_uri?.S || !item.strategy_hash?.S || !item.config_path?.S)
    refuse(
      `${source}: run ${runId} did not record the image digest and strategy hash it tested (it predates them); backtest this version again`,
    );
  return { runId, item, source };
};

/** The stage's quality gates, on the tested run's own figures. */
const gateIssues = (result: Record<string, unknown>, env: z.output<typeof environment>): string[] => {
  const trades = typeof result.total_trades === 'number' ? result.total_trades : 0;
  const drawdown = typeof result.max_drawdown === 'number' ? result.max_drawdown : null;
  const issues: string[] = [];
  if (trades < env.LIVE_MIN_TRADES)
    issues.push(`${trades} trades, below this stage's minimum of ${env.LIVE_MIN_TRADES}`);
  if (drawdown === null) issues.push('no max drawdown recorded');
  else if (drawdown > env.LIVE_MAX_DRAWDOWN_PCT)
    issues.push(
      `a max drawdown of ${drawdown} %, above this stage's limit of ${env.LIVE_MAX_DRAWDOWN_PCT} %`,
    );
  return issues;
};

/** The caller's role name from an assumed-role ARN (`arn:aws:sts::<account>:assumed-role/<role>/<session>`). */
const assumedRoleOf = (arn: string) => /:assumed-role\/([^/]+)\//.exec(arn)?.[1];

/**
 * First state of the deploy workflow: the request is well-formed, the stage may deploy to its
 * environment, and a live deployment rests on a COMPLETED, recorded test of that exact version
 * that passes the stage's quality gates. The image digest and strategy hash are compared once
 * the image is resolved (render-bot-config).
 */
export const { handler } = createWorkflowHandler({
  service: 'validate-deployment',
  input: validateDeploymentInput,
  handle: async (input, tools): Promise<ValidatedDeployment> => {
    const env = readEnvironment(environment);
    const raw = input.request;
    const { requested_by: caller, ...body } =
      typeof raw === 'object' && raw !== null && !Array.isArray(raw)
        ? (raw as Record<string, unknown>)
        : { requested_by: undefined };
    const request = parseOrThrow(
      deployRequestSchema,
      typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? body : raw,
      'deploy request',
    );
    const requestedBy =
      caller === undefined
        ? 'StartExecution (not through the API)'
        : parseOrThrow(callerArnSchema, caller, 'requested_by');
    if (!env.ALLOWED_ENVIRONMENTS.includes(request.environment)) {
      const message = `must be one of ${env.ALLOWED_ENVIRONMENTS.join(', ')} on stage ${env.STAGE} (live is opt-in per stage: custom.deployEnvironments)`;
      throw new ValidationError(`Invalid deploy request: environment: ${message}`, [
        { field: 'environment', message },
      ]);
    }
    let tested = NO_TESTED_RUN;
    try {
      if (request.environment === 'live' && env.LIVE_DEPLOYER_ROLE) {
        if (assumedRoleOf(requestedBy) !== env.LIVE_DEPLOYER_ROLE)
          refuse(
            `live deploys on stage ${env.STAGE} are for role ${env.LIVE_DEPLOYER_ROLE}; ${requestedBy} asked`,
          );
      }
      if (request.backtest_run_id !== undefined || request.promote !== undefined) {
        const { runId, item, source } = await testedRun(env.WORKFLOW_STATE_TABLE, request);
        if (request.environment === 'live') {
          const issues = gateIssues(resultOf(item), env);
          if (issues.length > 0) refuse(`${source} fails this stage's quality gates: ${issues.join('; ')}`);
        }
        tested = {
          run_id: runId,
          image_uri: item.image_uri?.S ?? '',
          strategy_hash: item.strategy_hash?.S ?? '',
          config_path: item.config_path?.S ?? '',
          params_path: item.params_path?.S ?? '',
          source,
        };
      }
    } catch (error) {
      if ((error as Error).name === 'DeploymentRefusedError')
        tools.metrics.addMetric('DeploymentsRefused', MetricUnit.Count, 1);
      throw error;
    }
    tools.metrics.addMetric('DeploymentsAccepted', MetricUnit.Count, 1);
    const validated: ValidatedDeployment = {
      deployment_id: input.execution_name,
      request_id: request.request_id,
      strategy_name: request.strategy_name,
      strategy_version: request.strategy_version,
      environment: request.environment,
      backtest_run_id: tested.run_id,
      tested,
      exchange_credentials: request.exchange_credentials ?? null,
      open_trades: request.open_trades,
      dry_run_wallet: request.dry_run_wallet ?? DEFAULT_DRY_RUN_WALLET,
      requested_by: requestedBy,
      service_name: tradingServiceName(env.STAGE, request.environment, request.strategy_name),
      lease: leaseFrom(Date.now(), env.DEPLOY_LEASE_SECONDS),
    };
    tools.logger.info('Deployment accepted', { ...validated });
    return validated;
  },
});
