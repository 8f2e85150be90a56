import { MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  awsClientConfig,
  check,
  createWorkflowHandler,
  deployRequestSchema,
  isAwsErrorNamed,
  readEnvironment,
  runIdSchema,
  type StatusChange,
  statusChangeEventSchema,
  sweepIdSchema,
  TransientAwsError,
  tableNameSchema,
  toWorkflowError,
  tradingServiceName,
  UNCATCHABLE_ERRORS,
  type Workflow,
  workflowOfMachine,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';

const dynamodb = new DynamoDBClient(awsClientConfig);
const lambda = new LambdaClient(awsClientConfig);

/** The EventBridge rule sends FAILED, TIMED_OUT and ABORTED status changes of the stack's machines. */
export const reconcileRunInput = statusChangeEventSchema;

const name = (what: string) =>
  z.string().check(z.regex(/^[A-Za-z0-9_.-]{3,255}$/, { error: `must be a ${what} name` }));
export const environment = z.object({
  WORKFLOW_STATE_TABLE: tableNameSchema,
  /** Claims `notice#<execution>#<redrive>` so that a repeated event notifies once. */
  NOTICE_CLAIMS_TABLE: tableNameSchema,
  NOTIFY_FUNCTION_NAME: name('Lambda function'),
  STATE_MACHINE_PREFIX: z
    .string()
    .check(z.regex(/^[A-Za-z0-9_-]{1,60}$/, { error: 'must be a state machine name prefix' })),
  NOTICE_CLAIM_DAYS: z._default(z.coerce.number().check(z.int(), z.minimum(2), z.maximum(30)), 7),
  /** A deploy's lease on its service (docs/decisions/0031), released when the deploy ends outside its ASL. */
  DEPLOY_LEASES_TABLE: tableNameSchema,
  STAGE: z.string().check(z.regex(/^[a-z0-9-]{1,20}$/, { error: 'must be a stage name such as dev' })),
});
type Environment = z.output<typeof environment>;

/** What became of the workflow-state record. */
export type RecordOutcome =
  | 'reconciled' // this event gave it its terminal status
  | 'owned-terminal' // this execution had already ended it (its own failure tail ran)
  | 'not-ours' // another execution owns it, or it is terminal from before
  | 'no-record' // no record under this execution's run id
  | 'not-recorded'; // a machine without workflow-state records

/** What became of a deploy's lease on its service. */
export type LeaseOutcome =
  | 'released' // this execution held it; it is free for the next deploy
  | 'not-held' // another execution holds it, or nobody does (the machine released it)
  | 'no-service'; // the input names no deployable service: the deploy never took a lease

export interface Reconciled {
  workflow: Workflow | null;
  record: RecordOutcome;
  notified: boolean;
  lease?: LeaseOutcome;
  reason?: string;
}

type FailedEnd = StatusChange & { status: 'FAILED' | 'TIMED_OUT' | 'ABORTED' };

/** The error a person is told about: the execution's own, or what AWS did to it. */
const errorOf = (detail: FailedEnd) => ({
  Error: detail.error ?? (detail.status === 'ABORTED' ? 'ExecutionAborted' : 'States.Timeout'),
  Cause:
    detail.cause ??
    (detail.status === 'ABORTED'
      ? 'The execution was stopped (StopExecution) before it could record or report its end'
      : 'The execution ran past its TimeoutSeconds before it could record or report its end'),
});

/**
 * The run ids this execution may own: its name (the triggers' and the API's rule), its input's
 * run_id, and, for a sweep's re-run of failures (`<sweep_id>-rerun-<n>`), the sweep's record, which
 * its RecordRerunRunning claimed (docs/decisions/0045). Each is held to the owning execution's ARN.
 */
const candidateRunIds = (detail: StatusChange): string[] => {
  let input: { run_id?: unknown; rerun_failed?: { sweep_id?: unknown } } = {};
  try {
    input = (JSON.parse(detail.input ?? '{}') ?? {}) as typeof input;
  } catch {
    input = {};
  }
  return [...new Set([detail.name, input.run_id, input.rerun_failed?.sweep_id])].filter(
    (id): id is string => check(runIdSchema, id).ok,
  );
};

/**
 * Gives the run its terminal status, only when this execution owns the record, or the record is
 * still the trigger's PENDING under this execution's name. Terminal statuses are never changed.
 */
const recordEnd = async (detail: FailedEnd, env: Environment): Promise<RecordOutcome> => {
  const error = errorOf(detail);
  let outcome: RecordOutcome = 'no-record';
  for (const runId of candidateRunIds(detail)) {
    try {
      await dynamodb.send(
        new UpdateItemCommand({
          TableName: env.WORKFLOW_STATE_TABLE,
          Key: { run_id: { S: runId } },
          UpdateExpression:
            'SET #status = :terminal, execution_arn = :arn, error_name = :error_name, error_info = :error_info, completed_at = :now, updated_at = :now, reconciled_at = :now',
          ConditionExpression:
            '(#status = :running AND execution_arn = :arn) OR (#status = :pending AND run_id = :name AND (attribute_not_exists(execution_arn) OR execution_arn = :arn))',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':terminal': { S: detail.status },
            ':running': { S: 'RUNNING' },
            ':pending': { S: 'PENDING' },
            ':arn': { S: detail.executionArn },
            ':name': { S: detail.name ?? '' },
            ':error_name': { S: error.Error },
            ':error_info': { S: JSON.stringify(error).slice(0, 32_768) },
            ':now': { S: new Date(detail.stopDate ?? Date.now()).toISOString() },
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'reconciled';
    } catch (failure) {
      if (!isAwsErrorNamed(failure, 'ConditionalCheckFailedException')) {
        throw toWorkflowError(failure, `Recording the end of run ${runId}`);
      }
      const old = (failure as { Item?: Record<string, { S?: string }> }).Item;
      if (old && old.execution_arn?.S === detail.executionArn) return 'owned-terminal';
      if (old) outcome = 'not-ours';
    }
  }
  return outcome;
};

/**
 * Releases the deploy's lease on its service, only if this execution holds it: an aborted or
 * timed-out deploy never reaches its own release, and the next deploy would wait out the expiry.
 */
const releaseLease = async (detail: StatusChange, env: Environment): Promise<LeaseOutcome> => {
  let input: unknown;
  try {
    input = JSON.parse(detail.input ?? '');
  } catch {
    return 'no-service';
  }
  const request = check(deployRequestSchema, input);
  if (!request.ok) return 'no-service';
  const service = tradingServiceName(env.STAGE, request.data.environment, request.data.strategy_name);
  try {
    await dynamodb.send(
      new DeleteItemCommand({
        TableName: env.DEPLOY_LEASES_TABLE,
        Key: { service_name: { S: service } },
        ConditionExpression: 'execution_arn = :arn',
        ExpressionAttributeValues: { ':arn': { S: detail.executionArn } },
      }),
    );
    return 'released';
  } catch (error) {
    if (isAwsErrorNamed(error, 'ConditionalCheckFailedException')) return 'not-held';
    throw toWorkflowError(error, `Releasing the deploy lease on ${service}`);
  }
};

/**
 * Did the machine tell anyone? Its failure tail notifies just before FailRun, so a FAILED end with
 * an error a Fail state sets was told. An abort or a timeout never reaches FailRun, and a crash
 * ends with an error no Catch matches: those were not (a notice may then repeat one the machine
 * sent just before the end; one too many beats none).
 */
const machineNotified = (detail: FailedEnd, record: RecordOutcome): boolean =>
  record !== 'reconciled' &&
  detail.status === 'FAILED' &&
  !UNCATCHABLE_ERRORS.includes(detail.error ?? 'States.Runtime');

/** Claims the notice for this end of this execution; false when it was claimed already. */
const claimNotice = async (key: string, env: Environment): Promise<boolean> => {
  try {
    await dynamodb.send(
      new PutItemCommand({
        TableName: env.NOTICE_CLAIMS_TABLE,
        Item: {
          event_key: { S: key },
          expires_at: { N: String(Math.floor(Date.now() / 1000) + env.NOTICE_CLAIM_DAYS * 86_400) },
        },
        ConditionExpression: 'attribute_not_exists(event_key)',
      }),
    );
    return true;
  } catch (error) {
    if (isAwsErrorNamed(error, 'ConditionalCheckFailedException')) return false;
    throw toWorkflowError(error, 'Claiming the notice');
  }
};

/** The workflows that keep a workflow-state record: both backtest machines, and a sweep's own. */
const RECORDED: readonly Workflow[] = ['backtest', 'backtest-simplified', 'backtest-sweep'];

/**
 * The sweep a backtest execution ran for, from its input's `sweep_id` (a structured field the sweep
 * machine sets on each variant). A sweep's own execution is none: it notifies for itself.
 */
const sweepOfVariant = (workflow: Workflow, detail: StatusChange): string | undefined => {
  if (workflow !== 'backtest' && workflow !== 'backtest-simplified') return undefined;
  let sweepId: unknown;
  try {
    sweepId = (JSON.parse(detail.input ?? '{}') as { sweep_id?: unknown }).sweep_id;
  } catch {
    return undefined;
  }
  return check(sweepIdSchema, sweepId).ok ? (sweepId as string) : undefined;
};

/**
 * notify-completion tells people, in the one format every workflow uses. A sweep's variant carries
 * its `sweep_id`, so notify-completion leaves it to the sweep: an aborted sweep of 50 running
 * variants sends one notice, not 51.
 */
const notify = async (workflow: Workflow, runId: string | undefined, detail: FailedEnd, env: Environment) => {
  const sweepId = sweepOfVariant(workflow, detail);
  const payload = {
    workflow,
    status: detail.status,
    ...(runId && RECORDED.includes(workflow) ? { run_id: runId } : {}),
    ...(sweepId ? { sweep_id: sweepId } : {}),
    execution_arn: detail.executionArn,
    error: errorOf(detail),
  };
  const response = await lambda
    .send(
      new InvokeCommand({
        FunctionName: env.NOTIFY_FUNCTION_NAME,
        Payload: new TextEncoder().encode(JSON.stringify(payload)),
      }),
    )
    .catch((error: unknown) => {
      throw toWorkflowError(error, 'Invoking notify-completion');
    });
  if (response.FunctionError) {
    const answer = new TextDecoder().decode(response.Payload ?? new Uint8Array());
    throw new TransientAwsError(
      `notify-completion failed (${response.FunctionError}): ${answer.slice(0, 500)}`,
    );
  }
};

/**
 * The status change of an execution that ended FAILED, TIMED_OUT or ABORTED. Executions that end
 * outside their Catch (an operator's abort, the machine's TimeoutSeconds, a crash before the first
 * Catch) would leave their record RUNNING or PENDING and nobody told: this closes the record and
 * notifies, once, however often the event comes (docs/decisions/0025).
 */
export const { handler } = createWorkflowHandler({
  service: 'reconcile-run',
  input: reconcileRunInput,
  handle: async ({ detail }, tools): Promise<Reconciled> => {
    const env = readEnvironment(environment);
    tools.metrics.addMetric('RunEndsSeen', MetricUnit.Count, 1);
    const workflow = workflowOfMachine(detail.stateMachineArn, env.STATE_MACHINE_PREFIX);
    if (!workflow)
      return { workflow: null, record: 'not-recorded', notified: false, reason: 'not our machine' };
    // PENDING_REDRIVE: a redrive was asked for; the execution's own end will come after it.
    if (detail.status === 'RUNNING' || detail.status === 'SUCCEEDED' || detail.status === 'PENDING_REDRIVE') {
      return {
        workflow,
        record: 'not-recorded',
        notified: false,
        reason: `nothing to reconcile: ${detail.status}`,
      };
    }
    const ended = detail as FailedEnd;
    const record = RECORDED.includes(workflow) ? await recordEnd(ended, env) : 'not-recorded';
    if (record === 'reconciled') tools.metrics.addMetric('RunsReconciled', MetricUnit.Count, 1);
    const lease = workflow === 'deploy' ? { lease: await releaseLease(ended, env) } : {};
    if (lease.lease === 'released') tools.metrics.addMetric('DeployLeasesReleased', MetricUnit.Count, 1);
    if (machineNotified(ended, record))
      return { workflow, record, ...lease, notified: false, reason: 'the machine notified' };

    const claim = `notice#${detail.executionArn}#${detail.redriveCount ?? 0}`;
    if (!(await claimNotice(claim, env))) {
      return { workflow, record, ...lease, notified: false, reason: 'already notified' };
    }
    try {
      await notify(workflow, candidateRunIds(detail)[0], ended, env);
    } catch (error) {
      // Give the claim back, so EventBridge's retry of this event can notify.
      await dynamodb
        .send(new DeleteItemCommand({ TableName: env.NOTICE_CLAIMS_TABLE, Key: { event_key: { S: claim } } }))
        .catch(() => undefined);
      throw error;
    }
    tools.metrics.addMetric('RunEndsNotified', MetricUnit.Count, 1);
    tools.logger.warn('Run ended outside its workflow: recorded and notified', {
      execution_arn: detail.executionArn,
      status: detail.status,
      record,
    });
    return { workflow, record, ...lease, notified: true };
  },
});
