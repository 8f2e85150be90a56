import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  awsClientConfig,
  ConfigurationError,
  createWorkflowHandler,
  executionNameSchema,
  readEnvironment,
  runIdSchema,
  strategyNameSchema,
  strategyVersionSchema,
  sweepIdSchema,
  toWorkflowError,
  workflowErrorSchema,
  workflowSchema,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';
import { bodyOf, type Notification, subjectOf } from './message';

const sns = new SNSClient(awsClientConfig);

const MAX_RESULT_BYTES = 32_768;

export const notifyCompletionInput = z
  .strictObject({
    workflow: workflowSchema,
    /** TIMED_OUT and ABORTED come from the reconciler: the execution ended outside its machine. */
    status: z.enum(['COMPLETED', 'FAILED', 'TIMED_OUT', 'ABORTED'], {
      error: (issue) =>
        issue.input === undefined ? 'is required' : 'must be COMPLETED, FAILED, TIMED_OUT or ABORTED',
    }),
    run_id: z.optional(runIdSchema),
    strategy_name: z.optional(strategyNameSchema),
    strategy_version: z.optional(strategyVersionSchema),
    execution_arn: z.optional(
      z.string().check(
        z.regex(/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^\s:]{1,80}:[^\s:]{1,80}$/, {
          error: 'must be a Step Functions execution ARN',
        }),
      ),
    ),
    result: z.optional(
      z.record(z.string(), z.unknown()).check(
        z.refine((value) => JSON.stringify(value).length <= MAX_RESULT_BYTES, {
          error: `must serialise to at most ${MAX_RESULT_BYTES} bytes`,
        }),
      ),
    ),
    error: z.optional(workflowErrorSchema),
    /** A data sync's id (its execution name) and, for a nested sync, the backtest that asked for it. */
    sync_id: z.optional(executionNameSchema),
    requested_by: z.optional(z.nullable(z.object({ workflow: workflowSchema, run_id: runIdSchema }))),
    /** A backtest that is a variant of a parameter sweep: the sweep notifies once, for all of them. */
    sweep_id: z.optional(z.nullable(sweepIdSchema)),
  })
  .check(
    z.refine((input) => input.status === 'COMPLETED' || input.error !== undefined, {
      path: ['error'],
      error: 'is required unless status is COMPLETED',
    }),
  );

/** The backtest run a notification is about: its own, or the one that asked for this sync. */
const runIdOf = (notification: Notification) => notification.run_id ?? notification.requested_by?.run_id;

export const environment = z.object({
  NOTIFICATION_TOPIC_NAME: z
    .string()
    .check(z.regex(/^[A-Za-z0-9_-]{1,256}$/, { error: 'must be an SNS topic name' })),
});

/**
 * The topic lives in the function's own account and region, which the invoked ARN names; the
 * environment then holds a literal name, so `sls invoke local` never has to look up the stack.
 */
const topicArnFor = (invokedFunctionArn: string, topicName: string): string => {
  const [, partition, , region, account] = invokedFunctionArn.split(':');
  if (!partition || !region || !account) {
    throw new ConfigurationError(`Cannot derive the topic ARN from the function ARN ${invokedFunctionArn}`);
  }
  return `arn:${partition}:sns:${region}:${account}:${topicName}`;
};

/**
 * Tells people how a workflow ended: one SNS message with a readable body and the attributes
 * subscribers filter on (`status`, `workflow`, `strategy`).
 */
export const { handler } = createWorkflowHandler({
  service: 'notify-completion',
  input: notifyCompletionInput,
  handle: async (
    notification: Notification,
    tools,
  ): Promise<{ message_id: string } | { suppressed: string }> => {
    const env = readEnvironment(environment);
    if (notification.sweep_id) {
      tools.metrics.addMetric('NotificationsLeftToTheSweep', MetricUnit.Count, 1);
      tools.logger.info('Notification left to the sweep', {
        run_id: notification.run_id,
        sweep_id: notification.sweep_id,
      });
      return { suppressed: `a variant of sweep ${notification.sweep_id}: the sweep notifies once` };
    }
    const attribute = (value: string) => ({ DataType: 'String', StringValue: value });
    const response = await sns
      .send(
        new PublishCommand({
          TopicArn: topicArnFor(tools.context.invokedFunctionArn, env.NOTIFICATION_TOPIC_NAME),
          Subject: subjectOf(notification),
          Message: bodyOf(notification),
          MessageAttributes: {
            status: attribute(notification.status),
            workflow: attribute(notification.workflow),
            // SNS refuses empty attribute values; filter policies can match on "unknown".
            strategy: attribute(notification.strategy_name ?? 'unknown'),
            ...(runIdOf(notification) ? { run_id: attribute(runIdOf(notification) as string) } : {}),
            ...(notification.sync_id ? { sync_id: attribute(notification.sync_id) } : {}),
          },
        }),
      )
      .catch((error: unknown) => {
        throw toWorkflowError(error, 'Publishing the notification');
      });
    const messageId = response.MessageId ?? '';
    tools.metrics.addMetric(
      notification.status === 'COMPLETED' ? 'CompletionNotifications' : 'FailureNotifications',
      MetricUnit.Count,
      1,
    );
    tools.logger.info('Notification published', {
      workflow: notification.workflow,
      status: notification.status,
      run_id: notification.run_id,
      message_id: messageId,
    });
    return { message_id: messageId };
  },
});
