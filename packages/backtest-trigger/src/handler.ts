import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  awsClientConfig,
  type BacktestRequest,
  backtestRequestSchema,
  check,
  createLimiter,
  createWorkflowHandler,
  type FieldIssue,
  type HandlerTools,
  readEnvironment,
  toWorkflowError,
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
const environment = z.object({
  WORKFLOW_STATE_TABLE: name('DynamoDB table'),
  BACKTEST_STATE_MACHINE_NAME: name('state machine'),
  BACKTEST_SIMPLIFIED_STATE_MACHINE_NAME: name('state machine'),
  DEFAULT_BACKTEST_WORKFLOW: z._default(z.enum(['backtest', 'backtest-simplified']), 'backtest'),
  REQUEST_DLQ_NAME: name('SQS queue'),
  START_CONCURRENCY: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(10)), 10),
});
type Environment = z.output<typeof environment>;

/** StartExecution calls in flight at once, across the records of one batch. */
let limit: ReturnType<typeof createLimiter> | undefined;

const arnParts = (invokedFunctionArn: string) => {
  const [, partition, , region, account] = invokedFunctionArn.split(':');
  return { partition, region, account };
};

/** A message that can never become a run: parked in the DLQ now, with its errors, not retried. */
const park = async (record: SQSRecord, issues: FieldIssue[], env: Environment, tools: HandlerTools) => {
  const { region, account } = arnParts(tools.context.invokedFunctionArn);
  const queueUrl = `https://sqs.${region}.amazonaws.com/${account}/${env.REQUEST_DLQ_NAME}`;
  await sqs
    .send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: record.body,
        MessageAttributes: {
          validation_errors: { DataType: 'String', StringValue: JSON.stringify(issues).slice(0, 4_096) },
          source_message_id: { DataType: 'String', StringValue: record.messageId },
        },
      }),
    )
    .catch((error: unknown) => {
      throw toWorkflowError(error, 'Parking a malformed message in the DLQ');
    });
  tools.logger.warn('Malformed backtest request parked in the DLQ', { message_id: record.messageId, issues });
  tools.metrics.addMetric('MalformedBacktestRequests', MetricUnit.Count, 1);
};

/** PENDING, unless the run already has a record (a redelivery must not reset a running run). */
const recordPending = async (
  request: BacktestRequest,
  workflow: string,
  record: SQSRecord,
  env: Environment,
) => {
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
          message_id: { S: record.messageId },
          requested_at: { S: new Date().toISOString() },
        },
        ConditionExpression: 'attribute_not_exists(run_id)',
      }),
    );
    return true;
  } catch (error) {
    if (
      error instanceof ConditionalCheckFailedException ||
      (error as Error).name === 'ConditionalCheckFailedException'
    ) {
      return false;
    }
    throw toWorkflowError(error, `Recording run ${request.run_id} as PENDING`);
  }
};

/** One message: validate, record PENDING, start the execution named after the run. */
const startRun = async (record: SQSRecord, env: Environment, tools: HandlerTools) => {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    return park(record, [{ field: '(body)', message: 'must be a JSON object' }], env, tools);
  }
  const parsed = check(backtestRequestSchema, body);
  if (!parsed.ok) return park(record, parsed.issues, env, tools);
  const { workflow: requested, ...request } = parsed.data;
  const workflow = requested ?? env.DEFAULT_BACKTEST_WORKFLOW;

  const created = await recordPending(request, workflow, record, env);
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
    if (error instanceof ExecutionAlreadyExists || (error as Error).name === 'ExecutionAlreadyExists') {
      // A duplicate delivery of a run that already started: done, nothing to retry.
      tools.logger.info('Backtest already started', { run_id: request.run_id, record_created: created });
      return;
    }
    throw toWorkflowError(error, `Starting backtest ${request.run_id}`);
  }
};

/**
 * The SQS backtest trigger: each message becomes one execution named after its run id. Failed
 * records are reported (ReportBatchItemFailures) and retried by SQS, the rest of the batch is not;
 * a malformed message is parked in the DLQ at once instead of being retried until it gets there.
 */
export const { handler, logger, metrics } = createWorkflowHandler({
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
