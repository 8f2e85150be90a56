import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  awsClientConfig,
  createWorkflowHandler,
  DEPLOY_ENVIRONMENTS,
  type DeployEnvironment,
  DeploymentRefusedError,
  type DeployRequest,
  deployRequestSchema,
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

export const environment = z.object({
  STAGE: z.string().check(z.regex(/^[a-z0-9-]{1,20}$/, { error: 'must be a stage name such as dev' })),
  WORKFLOW_STATE_TABLE: tableNameSchema,
  /** Comma-separated environments this stage may deploy to (e.g. only `dry-run` in dev). */
  ALLOWED_ENVIRONMENTS: z._default(
    z.pipe(
      z.string(),
      z.transform((value) => value.split(',').map((name) => name.trim())),
    ),
    [...DEPLOY_ENVIRONMENTS],
  ),
  /**
   * How long a deploy's lease on its service lasts (docs/decisions/0031): longer than the deploy
   * machine's TimeoutSeconds (3600), so a lease never expires under a deploy that is still running.
   */
  DEPLOY_LEASE_SECONDS: z._default(
    z.coerce.number().check(z.int(), z.minimum(5_460), z.maximum(86_400)),
    6_300,
  ),
});

/** The deploy's lease on its service, timed by this function's clock (AcquireServiceLease compares these). */
export interface ServiceLease {
  /** Now, ISO 8601: a lease that expired before this may be taken over. */
  now: string;
  expires_at: string;
  /** The same instant in epoch seconds, as a string: the table's TTL attribute (housekeeping only). */
  expires_at_epoch: string;
}

export interface ValidatedDeployment {
  deployment_id: string;
  request_id: string;
  strategy_name: string;
  strategy_version: string;
  environment: DeployEnvironment;
  /** The backtest a live deployment rests on; empty for a dry-run without one. */
  backtest_run_id: string;
  service_name: string;
  lease: ServiceLease;
}

const leaseFrom = (now: number, seconds: number): ServiceLease => ({
  now: new Date(now).toISOString(),
  expires_at: new Date(now + seconds * 1000).toISOString(),
  expires_at_epoch: String(Math.floor(now / 1000) + seconds),
});

/** The COMPLETED backtest of exactly this version, or the reason there is none. */
const checkBacktest = async (table: string, request: DeployRequest & { backtest_run_id: string }) => {
  const { Item } = await dynamodb
    .send(
      new GetItemCommand({
        TableName: table,
        Key: { run_id: { S: request.backtest_run_id } },
        ConsistentRead: true,
      }),
    )
    .catch((error: unknown) => {
      throw toWorkflowError(error, `Reading backtest ${request.backtest_run_id}`);
    });
  const what = `${request.strategy_name} ${request.strategy_version}`;
  if (!Item) return `backtest run ${request.backtest_run_id} does not exist`;
  const found = `${Item.strategy_name?.S} ${Item.strategy_version?.S}`;
  if (found !== what) return `backtest run ${request.backtest_run_id} tested ${found}, not ${what}`;
  if (Item.status?.S !== 'COMPLETED')
    return `backtest run ${request.backtest_run_id} is ${Item.status?.S ?? 'without status'}, not COMPLETED`;
  return undefined;
};

/**
 * First state of the deploy workflow: the request is well-formed, the stage may deploy to its
 * environment, and a live deployment rests on a COMPLETED backtest of that exact version.
 */
export const { handler } = createWorkflowHandler({
  service: 'validate-deployment',
  input: validateDeploymentInput,
  handle: async (input, tools): Promise<ValidatedDeployment> => {
    const env = readEnvironment(environment);
    const request = parseOrThrow(deployRequestSchema, input.request, 'deploy request');
    if (!env.ALLOWED_ENVIRONMENTS.includes(request.environment)) {
      const message = `must be one of ${env.ALLOWED_ENVIRONMENTS.join(', ')} on stage ${env.STAGE}`;
      throw new ValidationError(`Invalid deploy request: environment: ${message}`, [
        { field: 'environment', message },
      ]);
    }
    if (request.environment === 'live') {
      const refusal = await checkBacktest(
        env.WORKFLOW_STATE_TABLE,
        request as DeployRequest & { backtest_run_id: string },
      );
      if (refusal) {
        tools.metrics.addMetric('DeploymentsRefused', MetricUnit.Count, 1);
        throw new DeploymentRefusedError(
          `A live deployment needs a COMPLETED backtest of this version: ${refusal}`,
        );
      }
    }
    tools.metrics.addMetric('DeploymentsAccepted', MetricUnit.Count, 1);
    const validated: ValidatedDeployment = {
      deployment_id: input.execution_name,
      request_id: request.request_id,
      strategy_name: request.strategy_name,
      strategy_version: request.strategy_version,
      environment: request.environment,
      backtest_run_id: request.backtest_run_id ?? '',
      service_name: tradingServiceName(env.STAGE, request.environment, request.strategy_name),
      lease: leaseFrom(Date.now(), env.DEPLOY_LEASE_SECONDS),
    };
    tools.logger.info('Deployment accepted', { ...validated });
    return validated;
  },
});
