import { createHash } from 'node:crypto';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  awsClientConfig,
  type BacktestRequest,
  backtestRequestSchema,
  canonicalJson,
  check,
  createLimiter,
  createWorkflowHandler,
  type HandlerTools,
  isAwsErrorNamed,
  type NamedStart,
  readEnvironment,
  startNamedExecution,
  sweepExecutionInput,
  sweepExecutionNameOf,
  sweepLimitsEnvironment,
  sweepLimitsOf,
  tableNameSchema,
  toWorkflowError,
  ValidationError,
} from '@tradai/lambda-kit';
import type { SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';

const sfn = new SFNClient(awsClientConfig);
const dynamodb = new DynamoDBClient(awsClientConfig);
const sqs = new SQSClient(awsClientConfig);
const processor = new BatchProcessor(EventType.SQS);

/** An SQS event as Lambda delivers it (only what the trigger reads is checked). */
export const backtestTriggerInput = z.looseObject({
  Records: z.array(z.looseObject({ messageId: z.string(), body: z.string() })),
});

const name = (what: string) =>
  z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,80}$/, { error: `must be a ${what} name` }));
export const environment = z.object({
  WORKFLOW_STATE_TABLE: tableNameSchema,
  BACKTEST_STATE_MACHINE_NAME: name('state machine'),
  BACKTEST_SIMPLIFIED_STATE_MACHINE_NAME: name('state machine'),
  /** A message whose `workflow` is "backtest-sweep" starts this machine (docs/decisions/0037). */
  BACKTEST_SWEEP_STATE_MACHINE_NAME: name('state machine'),
  ...sweepLimitsEnvironment,
  DEFAULT_BACKTEST_WORKFLOW: z._default(z.enum(['backtest', 'backtest-simplified']), 'backtest'),
  REQUEST_DLQ_NAME: name('SQS queue'),
  START_CONCURRENCY: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(10)), 10),
  /** The request queue's maxReceiveCount: the last receive compensates instead of throwing. */
  MAX_RECEIVES: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(1_000)), 5),
});
type Environment = z.output<typeof environment>;

/** StartExecution calls in flight at once, across the records of one batch. */
let limit: ReturnType<typeof createLimiter> | undefined;

const arnParts = (invokedFunctionArn: string) => {
  const [, partition, , region, account] = invokedFunctionArn.split(':');
  return { partition, region, account };
};

/**
 * The request DLQ's URL, asked of SQS once per container (GetQueueUrl), not built from the region:
 * the SDK sends SendMessage to the URL's host, so a URL built as `sqs.<region>.amazonaws.com` is
 * wrong in another partition and bypasses a configured endpoint (moto showed it: issue 14).
 */
let dlqUrl: Promise<string> | undefined;
const requestDlqUrl = (env: Environment) => {
  dlqUrl ??= sqs
    .send(new GetQueueUrlCommand({ QueueName: env.REQUEST_DLQ_NAME }))
    .then(({ QueueUrl }) => {
      if (!QueueUrl) throw new Error(`SQS gave no URL for ${env.REQUEST_DLQ_NAME}`);
      return QueueUrl;
    })
    .catch((error: unknown) => {
      dlqUrl = undefined;
      throw toWorkflowError(error, `Finding the request DLQ ${env.REQUEST_DLQ_NAME}`);
    });
  return dlqUrl;
};

/** Why a message left the queue for the DLQ without becoming a run (the `reason` attribute). */
type ParkReason = 'malformed' | 'conflict' | 'start-failed';

/** A message that will not become a run: parked in the DLQ now, with why, and not retried. */
const park = async (
  record: SQSRecord,
  reason: ParkReason,
  details: Record<string, string>,
  env: Environment,
  tools: HandlerTools,
) => {
  const queueUrl = await requestDlqUrl(env);
  const attributes = { reason, source_message_id: record.messageId, ...details };
  await sqs
    .send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: record.body,
        MessageAttributes: Object.fromEntries(
          Object.entries(attributes).map(([name, value]) => [
            name,
            { DataType: 'String', StringValue: value.slice(0, 4_096) },
          ]),
        ),
      }),
    )
    .catch((error: unknown) => {
      throw toWorkflowError(error, `Parking a ${reason} message in the DLQ`);
    });
  tools.logger.warn('Backtest request parked in the DLQ', {
    message_id: record.messageId,
    reason,
    ...details,
  });
  tools.metrics.addMetric('BacktestRequestsParked', MetricUnit.Count, 1);
  tools.metrics.addMetadata('park_reason', reason);
};

/**
 * The same run asked for twice has the same fingerprint, whatever the key order of its JSON. The
 * machine it runs on is part of it: the same body sent to the backtest and the simplified machine
 * is two runs under one run_id, and the second is refused (issue 27).
 */
const fingerprintOf = (request: BacktestRequest, workflow: string) =>
  createHash('sha256')
    .update(canonicalJson({ ...request, workflow }))
    .digest('hex');

type Claim = { created: true } | { created: false; sameRequest: boolean; status: string };

/**
 * PENDING, with the request's fingerprint, unless the run already has a record: a redelivery must
 * not reset a running run, and another request reusing the run id must not pass for it.
 */
const recordPending = async (
  request: BacktestRequest,
  fingerprint: string,
  workflow: string,
  record: SQSRecord,
  env: Environment,
): Promise<Claim> => {
  try {
    await dynamodb.send(
      new PutItemCommand({
        TableName: env.WORKFLOW_STATE_TABLE,
        Item: {
          run_id: { S: request.run_id },
          status: { S: 'PENDING' },
          workflow: { S: workflow },
          strategy_name: { S: request.strategy_name },
          strategy_version: { S: request.strategy_version },
          experiment_name: { S: request.experiment_name },
          request_hash: { S: fingerprint },
          message_id: { S: record.messageId },
          requested_at: { S: new Date().toISOString() },
        },
        ConditionExpression: 'attribute_not_exists(run_id)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { created: true };
  } catch (error) {
    if (isAwsErrorNamed(error, 'ConditionalCheckFailedException')) {
      const existing = (error as { Item?: Record<string, { S?: string }> }).Item ?? {};
      return {
        created: false,
        sameRequest: existing.request_hash?.S === fingerprint,
        status: existing.status?.S ?? 'unknown',
      };
    }
    throw toWorkflowError(error, `Recording run ${request.run_id} as PENDING`);
  }
};

/**
 * The PENDING record this message wrote, when no execution will ever own it, becomes FAILED: a
 * run must not stay PENDING forever. Only our own untouched PENDING record is changed.
 */
const compensate = async (request: BacktestRequest, fingerprint: string, cause: Error, env: Environment) => {
  const now = new Date().toISOString();
  await dynamodb
    .send(
      new UpdateItemCommand({
        TableName: env.WORKFLOW_STATE_TABLE,
        Key: { run_id: { S: request.run_id } },
        UpdateExpression:
          'SET #status = :failed, error_name = :error_name, error_info = :error_info, completed_at = :now, updated_at = :now',
        ConditionExpression:
          '#status = :pending AND request_hash = :hash AND attribute_not_exists(execution_arn)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':failed': { S: 'FAILED' },
          ':pending': { S: 'PENDING' },
          ':hash': { S: fingerprint },
          ':error_name': { S: 'ExecutionNotStartedError' },
          ':error_info': {
            S: JSON.stringify({
              Error: 'ExecutionNotStartedError',
              Cause: `${cause.name}: ${cause.message}`,
            }),
          },
          ':now': { S: now },
        },
      }),
    )
    .catch((error: unknown) => {
      if (isAwsErrorNamed(error, 'ConditionalCheckFailedException')) return; // an execution got it after all
      throw toWorkflowError(error, `Marking run ${request.run_id} FAILED`);
    });
};

/** Whether a failed start is retried by SQS (a transient failure, with receives left). */
const retriedBySqs = (error: Error, record: SQSRecord, env: Environment) =>
  error.name === 'TransientAwsError' &&
  Number(record.attributes?.ApproximateReceiveCount ?? 1) < env.MAX_RECEIVES;

/**
 * A sweep: checked as the sweep machine's first state will check it (every variant, the caps, the
 * time its waves need), then started as the execution named after its `sweep_id` (a re-run of its
 * failures: `<sweep_id>-rerun-<attempt>`), with the same input the API gives it. The machine writes the sweep's record; nothing is written here.
 */
const startSweep = async (record: SQSRecord, body: unknown, env: Environment, tools: HandlerTools) => {
  let sweepId: string;
  try {
    // A sweep's sweep_id, or `<sweep_id>-rerun-<attempt>` for a re-run of its failures.
    sweepId = sweepExecutionNameOf(body, sweepLimitsOf(env));
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return park(record, 'malformed', { validation_errors: JSON.stringify(error.issues) }, env, tools);
  }
  const { partition, region, account } = arnParts(tools.context.invokedFunctionArn);
  const stateMachineArn = `arn:${partition}:states:${region}:${account}:stateMachine:${env.BACKTEST_SWEEP_STATE_MACHINE_NAME}`;
  const input = sweepExecutionInput(body as Record<string, unknown>);
  limit ??= createLimiter(env.START_CONCURRENCY);
  let start: NamedStart;
  try {
    start = await limit(() => startNamedExecution(sfn, { stateMachineArn, name: sweepId, input }));
  } catch (error) {
    if (retriedBySqs(error as Error, record, env)) throw error;
    const { name, message } = error as Error;
    return park(record, 'start-failed', { error: `${name}: ${message}` }, env, tools);
  }
  if (start.started) {
    tools.metrics.addMetric('SweepsStarted', MetricUnit.Count, 1);
    return;
  }
  // The name is taken: the same sweep again (a redelivery, or the API's start) is done; another is a conflict.
  if (start.sameInput) {
    tools.logger.info('Sweep already started', { sweep_id: sweepId, status: start.status });
    return;
  }
  const conflict = `sweep_id ${sweepId} already started a sweep with a different request (status ${start.status})`;
  return park(record, 'conflict', { conflict, existing_status: start.status }, env, tools);
};

/** A message naming the sweep workflow: a structured field, never a guess from the body's text. */
const isSweepRequest = (body: unknown) =>
  typeof body === 'object' &&
  body !== null &&
  !Array.isArray(body) &&
  (body as { workflow?: unknown }).workflow === 'backtest-sweep';

/** One message: validate, record PENDING, start the execution named after the run. */
const startRun = async (record: SQSRecord, env: Environment, tools: HandlerTools) => {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    const issues = [{ field: '(body)', message: 'must be a JSON object' }];
    return park(record, 'malformed', { validation_errors: JSON.stringify(issues) }, env, tools);
  }
  if (isSweepRequest(body)) return startSweep(record, body, env, tools);
  const parsed = check(backtestRequestSchema, body);
  if (!parsed.ok) {
    return park(record, 'malformed', { validation_errors: JSON.stringify(parsed.issues) }, env, tools);
  }
  const { workflow: requested, ...request } = parsed.data;
  const workflow = requested ?? env.DEFAULT_BACKTEST_WORKFLOW;
  const fingerprint = fingerprintOf(request, workflow);

  const claim = await recordPending(request, fingerprint, workflow, record, env);
  if (!claim.created && !claim.sameRequest) {
    const conflict = `run_id ${request.run_id} already belongs to another request (status ${claim.status})`;
    return park(record, 'conflict', { conflict, existing_status: claim.status }, env, tools);
  }
  const { partition, region, account } = arnParts(tools.context.invokedFunctionArn);
  const machine =
    workflow === 'backtest' ? env.BACKTEST_STATE_MACHINE_NAME : env.BACKTEST_SIMPLIFIED_STATE_MACHINE_NAME;
  const stateMachineArn = `arn:${partition}:states:${region}:${account}:stateMachine:${machine}`;
  limit ??= createLimiter(env.START_CONCURRENCY);
  try {
    await limit(() =>
      sfn.send(
        new StartExecutionCommand({ stateMachineArn, name: request.run_id, input: JSON.stringify(request) }),
      ),
    );
    tools.metrics.addMetric('BacktestsStarted', MetricUnit.Count, 1);
  } catch (error) {
    if (isAwsErrorNamed(error, 'ExecutionAlreadyExists')) {
      // A duplicate delivery of a run that already started: done, nothing to retry.
      tools.logger.info('Backtest already started', {
        run_id: request.run_id,
        record_created: claim.created,
      });
      return;
    }
    const mapped = toWorkflowError(error, `Starting backtest ${request.run_id}`);
    // SQS retries a transient failure, up to the queue's redrive count; after that, or for a
    // refusal no retry can change (denied, no such machine), the run is closed here.
    if (retriedBySqs(mapped, record, env)) throw mapped;
    await compensate(request, fingerprint, mapped, env);
    return park(record, 'start-failed', { error: `${mapped.name}: ${mapped.message}` }, env, tools);
  }
};

/**
 * The SQS backtest trigger: each message becomes one execution named after its run id (a sweep's,
 * after its sweep id, on the sweep machine). Failed
 * records are reported (ReportBatchItemFailures) and retried by SQS, the rest of the batch is not;
 * a malformed message is parked in the DLQ at once instead of being retried until it gets there.
 */
export const { handler } = createWorkflowHandler({
  service: 'backtest-trigger',
  input: backtestTriggerInput,
  handle: async (event, tools) => {
    const env = readEnvironment(environment);
    return processPartialResponse(
      event as never,
      (record: SQSRecord) => startRun(record, env, tools),
      processor,
      { context: tools.context, processInParallel: true },
    );
  },
});
