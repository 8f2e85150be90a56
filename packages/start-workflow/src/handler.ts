import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SFNClient } from '@aws-sdk/client-sfn';
import {
  awsClientConfig,
  canonicalJson,
  check,
  createWorkflowHandler,
  dataSyncApiRequestSchema,
  deployRequestSchema,
  type FieldIssue,
  type NamedStart,
  readEnvironment,
  type Schema,
  startNamedExecution,
  sweepExecutionInput,
  sweepExecutionNameOf,
  sweepLimitsEnvironment,
  sweepLimitsOf,
  ValidationError,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';

const sfn = new SFNClient(awsClientConfig);

/** The API Gateway (REST, proxy integration) event: only what routing and the body need. */
export const startWorkflowInput = z.looseObject({
  resource: z.string(),
  httpMethod: z.string(),
  body: z.nullable(z.optional(z.string())),
  /** The IAM identity API Gateway authenticated (`authorizer: aws_iam`): who asked. */
  requestContext: z.optional(
    z.looseObject({
      identity: z.optional(z.looseObject({ userArn: z.nullable(z.optional(z.string())) })),
    }),
  ),
});

const machineName = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_-]{1,80}$/, { error: 'must be a state machine name' }));
export const environment = z.object({
  DATA_SYNC_STATE_MACHINE_NAME: machineName,
  DEPLOY_STATE_MACHINE_NAME: machineName,
  BACKTEST_SWEEP_STATE_MACHINE_NAME: machineName,
  /** The stage's sweep limits, as validate-sweep reads them: a sweep over them is a 400, not an execution. */
  ...sweepLimitsEnvironment,
});
type Environment = z.output<typeof environment>;

type Checked =
  | { ok: true; data: Record<string, unknown>; name?: string }
  | { ok: false; issues: FieldIssue[] };

/** A request checked against its route's contract; `id` names the execution (a client's retry key). */
interface Route {
  machine: 'DATA_SYNC_STATE_MACHINE_NAME' | 'DEPLOY_STATE_MACHINE_NAME' | 'BACKTEST_SWEEP_STATE_MACHINE_NAME';
  id: 'request_id' | 'sweep_id';
  check: (body: unknown, env: Environment) => Checked;
  /** The execution's input: the request's JSON with sorted keys, unless the route says otherwise. */
  input?: (request: Record<string, unknown>, caller: string | undefined) => string;
}
const bySchema =
  (schema: Schema) =>
  (body: unknown): Checked => {
    const parsed = check(schema, body);
    return parsed.ok ? { ok: true, data: parsed.data as Record<string, unknown> } : parsed;
  };

/**
 * A sweep is checked as the machine's first state will check it: every variant, and the caps. A
 * re-run of a sweep's failures (`rerun_failed`) is named `<sweep_id>-rerun-<attempt>`.
 */
const checkSweep = (body: unknown, env: Environment): Checked => {
  try {
    const name = sweepExecutionNameOf(body, sweepLimitsOf(env));
    return { ok: true, data: body as Record<string, unknown>, name };
  } catch (error) {
    if (error instanceof ValidationError) return { ok: false, issues: [...error.issues] };
    throw error;
  }
};

const ROUTES: Record<string, Route> = {
  '/workflows/data-sync': {
    machine: 'DATA_SYNC_STATE_MACHINE_NAME',
    id: 'request_id',
    check: bySchema(dataSyncApiRequestSchema),
  },
  '/workflows/deploy': {
    machine: 'DEPLOY_STATE_MACHINE_NAME',
    id: 'request_id',
    check: bySchema(deployRequestSchema),
    // Who asked goes with the request (the deploy record names them); a body cannot set it, the
    // request schema refuses the field.
    input: (request, caller) => canonicalJson(caller ? { ...request, requested_by: caller } : request),
  },
  '/workflows/backtest-sweep': {
    machine: 'BACKTEST_SWEEP_STATE_MACHINE_NAME',
    id: 'sweep_id',
    check: checkSweep,
    // As the backtest queue starts it: a sweep sent to both is one execution.
    input: sweepExecutionInput,
  },
};

export interface ApiResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const respond = (statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResponse => ({
  statusCode,
  headers: { 'Content-Type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
const invalid = (issues: FieldIssue[]) =>
  respond(400, {
    error: 'ValidationError',
    message: 'The request body is invalid; nothing was started',
    issues,
  });

/** The state machine's ARN, in the function's own account and region. */
const machineArn = (invokedFunctionArn: string, name: string) => {
  const [, partition, , region, account] = invokedFunctionArn.split(':');
  return `arn:${partition}:states:${region}:${account}:stateMachine:${name}`;
};

/**
 * POST /workflows/data-sync, /workflows/deploy and /workflows/backtest-sweep (IAM-authenticated).
 * The body is validated before anything starts (400 with every field's error); the execution is
 * named after the request's `request_id` (a sweep's `sweep_id`), so a client's retry returns the
 * same execution instead of a second one.
 */
export const { handler } = createWorkflowHandler({
  service: 'start-workflow',
  input: startWorkflowInput,
  handle: async (event, tools): Promise<ApiResponse> => {
    const env = readEnvironment(environment);
    const route = ROUTES[event.resource];
    if (!route || event.httpMethod !== 'POST') {
      return respond(404, {
        error: 'NotFound',
        message: `No workflow at ${event.httpMethod} ${event.resource}`,
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(event.body ?? '');
    } catch {
      return invalid([{ field: '(body)', message: 'must be a JSON object' }]);
    }
    const parsed = route.check(body, env);
    if (!parsed.ok) return invalid(parsed.issues);
    const request = parsed.data;
    // The execution's name: the request's id, or the name its check gave (a sweep's re-run).
    const id = parsed.name ?? String(request[route.id]);

    const stateMachineArn = machineArn(tools.context.invokedFunctionArn, env[route.machine]);
    const caller = event.requestContext?.identity?.userArn ?? undefined;
    const input = route.input ? route.input(request, caller) : canonicalJson(request);
    let start: NamedStart;
    try {
      start = await startNamedExecution(sfn, { stateMachineArn, name: id, input });
    } catch (error) {
      if ((error as Error).name !== 'TransientAwsError') throw error;
      return respond(
        503,
        { error: 'ServiceUnavailable', message: `Step Functions is busy; retry with the same ${route.id}` },
        { 'Retry-After': '5' },
      );
    }
    if (start.started) {
      tools.metrics.addMetric('WorkflowsStarted', MetricUnit.Count, 1);
      return respond(202, { execution_arn: start.executionArn, [route.id]: id, started: true });
    }
    // The name is taken: the same request again is answered with its execution; another is a conflict.
    if (start.sameInput) {
      return respond(200, {
        execution_arn: start.executionArn,
        [route.id]: id,
        started: false,
        status: start.status,
      });
    }
    return respond(409, {
      error: 'Conflict',
      message: `${route.id} ${id} already started an execution with a different body`,
      execution_arn: start.executionArn,
    });
  },
});
