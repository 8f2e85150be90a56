import * as z from 'zod/mini';
import { WORKFLOWS, type Workflow } from './run-artifacts';

/**
 * An execution's statuses in its EventBridge status-change event (Step Functions developer guide,
 * "Step Functions events"): PENDING_REDRIVE is sent when a redrive is asked for, before RUNNING.
 */
const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'] as const;

/**
 * EventBridge's "Step Functions Execution Status Change" event: what execution-metrics and the
 * reconciler read. Every field named here is AWS's, never the request's.
 */
export const statusChangeEventSchema = z.looseObject({
  'detail-type': z.literal('Step Functions Execution Status Change'),
  source: z.literal('aws.states'),
  detail: z.looseObject({
    executionArn: z.string().check(
      z.regex(/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^\s]{1,200}$/, {
        error: 'must be an execution ARN',
      }),
    ),
    stateMachineArn: z.string().check(
      z.regex(/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/, {
        error: 'must be a state machine ARN',
      }),
    ),
    /** The execution name: the run id (backtests), request id or nested-sync name. */
    name: z.optional(z.string().check(z.maxLength(80))),
    status: z.enum(STATUSES, { error: `must be one of ${STATUSES.join(', ')}` }),
    startDate: z.number().check(z.int(), z.positive()),
    stopDate: z.optional(z.nullable(z.number().check(z.int(), z.positive()))),
    /** The error name a FAILED execution ended with (the Fail state's Error); null otherwise. */
    error: z.optional(z.nullable(z.string().check(z.maxLength(256)))),
    cause: z.optional(z.nullable(z.string())),
    /** The execution input as a JSON string (user text: read only through a schema). */
    input: z.optional(z.nullable(z.string())),
    /** 0 for the first run, n after the n-th redrive: each redrive ends again. */
    redriveCount: z.optional(z.nullable(z.number().check(z.int(), z.nonnegative()))),
  }),
});

export type StatusChange = z.output<typeof statusChangeEventSchema>['detail'];

/** `tradai-dev-backtest-simplified` -> `backtest-simplified`; a machine that is not ours -> undefined. */
export const workflowOfMachine = (stateMachineArn: string, prefix: string): Workflow | undefined => {
  const name = stateMachineArn.split(':').at(-1) ?? '';
  if (!name.startsWith(prefix)) return undefined;
  const workflow = name.slice(prefix.length);
  return WORKFLOWS.find((w) => w === workflow);
};

/** The name a Fail state cannot set and no Catch can match: the execution crashed outside the ASL. */
export const UNCATCHABLE_ERRORS: readonly string[] = ['States.Runtime', 'States.DataLimitExceeded'];
