import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  awsClientConfig,
  createWorkflowHandler,
  FAILURE_CLASS_METRIC,
  type FailedStatus,
  failureClassOf,
  isAwsErrorNamed,
  METRICS_NAMESPACE,
  readEnvironment,
  type StatusChange,
  statusChangeEventSchema,
  tableNameSchema,
  toWorkflowError,
  workflowOfMachine,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';

const dynamodb = new DynamoDBClient(awsClientConfig);

/** The spec's execution metrics: `WorkflowType` is their only dimension, so alarms can name it. */
export const executionMetrics = new Metrics({
  namespace: METRICS_NAMESPACE,
  serviceName: 'execution-metrics',
});
executionMetrics.clearDefaultDimensions();

/** EventBridge's "Step Functions Execution Status Change" event (the kit's schema). */
export const executionMetricsInput = statusChangeEventSchema;

export interface LifecycleMetric {
  name: string;
  unit: 'Count' | 'Seconds';
  value: number;
}

/**
 * The metrics one status change emits, all with the one dimension `WorkflowType`. A failed end
 * counts as `ExecutionFailed` and, by its class, as `BusinessFailure`, `InfrastructureFailure` or
 * `ExecutionAborted`: only infrastructure failures page (docs/decisions/0023).
 */
export const lifecycleMetrics = (detail: StatusChange): LifecycleMetric[] => {
  if (detail.status === 'RUNNING') return [{ name: 'ExecutionStarted', unit: 'Count', value: 1 }];
  // A redrive was asked for: counted, never classified as a failure (its end comes later).
  if (detail.status === 'PENDING_REDRIVE') return [{ name: 'ExecutionRedriven', unit: 'Count', value: 1 }];
  const metrics: LifecycleMetric[] =
    detail.status === 'SUCCEEDED'
      ? [{ name: 'ExecutionSucceeded', unit: 'Count', value: 1 }]
      : [
          { name: 'ExecutionFailed', unit: 'Count', value: 1 },
          {
            name: FAILURE_CLASS_METRIC[failureClassOf(detail.status as FailedStatus, detail.error)],
            unit: 'Count',
            value: 1,
          },
        ];
  if (detail.stopDate) {
    metrics.push({
      name: 'ExecutionDuration',
      unit: 'Seconds',
      value: Math.round((detail.stopDate - detail.startDate) / 1000),
    });
  }
  return metrics;
};

/** One end of one run of an execution: a redriven execution ends again, and counts again. */
const statusEventKey = (detail: StatusChange): string =>
  `${detail.executionArn}#${detail.status}#${detail.redriveCount ?? 0}`;

export const environment = z.object({
  METRIC_EVENTS_TABLE: tableNameSchema,
  STATE_MACHINE_PREFIX: z
    .string()
    .check(z.regex(/^[A-Za-z0-9_-]{1,60}$/, { error: 'must be a state machine name prefix' })),
  /** How long a (execution, status) pair is remembered: longer than EventBridge retries events (24 h). */
  DEDUPLICATION_DAYS: z._default(z.coerce.number().check(z.int(), z.minimum(2), z.maximum(30)), 7),
});

/** Both backtest machines count as `backtest`; a machine that is not ours -> undefined. */
export const workflowTypeOf = (stateMachineArn: string, prefix: string): string | undefined => {
  const workflow = workflowOfMachine(stateMachineArn, prefix);
  return workflow === 'backtest-simplified' ? 'backtest' : workflow;
};

export interface EmittedMetrics {
  emitted: boolean;
  reason?: string;
}

/**
 * Turns one execution status change into the spec's lifecycle metrics, once: EventBridge may deliver
 * an event twice, so each (execution, status) pair is first claimed with a conditional put; a pair
 * already claimed emits nothing (docs/decisions/0021).
 */
export const { handler } = createWorkflowHandler({
  service: 'execution-metrics',
  input: executionMetricsInput,
  handle: async ({ detail }, tools): Promise<EmittedMetrics> => {
    const env = readEnvironment(environment);
    const workflowType = workflowTypeOf(detail.stateMachineArn, env.STATE_MACHINE_PREFIX);
    if (!workflowType) return { emitted: false, reason: `not a TradAI machine: ${detail.stateMachineArn}` };

    const key = statusEventKey(detail);
    try {
      await dynamodb.send(
        new PutItemCommand({
          TableName: env.METRIC_EVENTS_TABLE,
          Item: {
            event_key: { S: key },
            expires_at: { N: String(Math.floor(Date.now() / 1000) + env.DEDUPLICATION_DAYS * 86_400) },
          },
          ConditionExpression: 'attribute_not_exists(event_key)',
        }),
      );
    } catch (error) {
      if (isAwsErrorNamed(error, 'ConditionalCheckFailedException')) {
        tools.logger.info('Duplicate status event ignored', { key });
        return { emitted: false, reason: 'duplicate' };
      }
      throw toWorkflowError(error, 'Claiming the status event');
    }

    executionMetrics.addDimension('WorkflowType', workflowType);
    executionMetrics.addMetadata('execution_arn', detail.executionArn);
    if (!['RUNNING', 'SUCCEEDED', 'PENDING_REDRIVE'].includes(detail.status)) {
      executionMetrics.addMetadata('execution_status', detail.status);
      executionMetrics.addMetadata('error_name', detail.error ?? '');
    }
    for (const metric of lifecycleMetrics(detail)) {
      executionMetrics.addMetric(metric.name, MetricUnit[metric.unit], metric.value);
    }
    executionMetrics.publishStoredMetrics();
    tools.metrics.addMetric('StatusEventsProcessed', MetricUnit.Count, 1);
    return { emitted: true };
  },
});
