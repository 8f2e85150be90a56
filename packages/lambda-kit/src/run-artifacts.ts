import * as z from 'zod/mini';
import { bucketNameSchema, runIdSchema } from './contracts';
import { ValidationError } from './errors';
import { type S3Prefix, s3Prefix, s3PrefixSchema } from './s3-keys';

/**
 * Where one backtest run keeps its files in the runs bucket (docs/contracts/backtest-results.md):
 *
 *   <runs prefix>/<run_id>/config.json   the merged freqtrade config the container reads (kept)
 *   <runs prefix>/<run_id>/parameters.json  the strategy parameter file, when the run sets any (kept)
 *   <runs prefix>/<run_id>/results/      freqtrade's result files the container writes (kept)
 *   <runs prefix>/<run_id>/tmp/          scratch space; cleanup-resources deletes it after the run
 */
export interface RunArtifacts {
  root: S3Prefix;
  configKey: string;
  /** The strategy parameter file freqtrade reads (./freqtrade.ts), written only for a run that sets parameters. */
  parametersKey: string;
  results: S3Prefix;
  tmp: S3Prefix;
}

/** The environment of every function that touches run files: spread into its environment schema. */
export const runsEnvironment = {
  RUNS_BUCKET: bucketNameSchema,
  RUNS_PREFIX: z._default(s3PrefixSchema, s3Prefix('runs')),
};

export const runArtifacts = (runsPrefix: S3Prefix, runId: string): RunArtifacts => {
  if (!runIdSchema.safeParse(runId).success) {
    throw new ValidationError(`Invalid run_id ${JSON.stringify(runId)}`, [
      { field: 'run_id', message: 'must be 1-64 characters of A-Z a-z 0-9 _ -' },
    ]);
  }
  const root = runsPrefix.child(runId);
  return {
    root,
    configKey: root.key('config.json'),
    parametersKey: root.key('parameters.json'),
    results: root.child('results'),
    tmp: root.child('tmp'),
  };
};

/** The workflows this repo deploys; also the `workflow` attribute of notifications. */
export const WORKFLOWS = [
  'backtest',
  'backtest-simplified',
  'data-sync',
  'deploy',
  'backtest-sweep',
] as const;
export type Workflow = (typeof WORKFLOWS)[number];
export const workflowSchema = z.enum(WORKFLOWS, {
  error: (issue) => (issue.input === undefined ? 'is required' : `must be one of ${WORKFLOWS.join(', ')}`),
});

/** A run's status as the workflow-state table records it (docs/contracts/workflow-state.md). */
export const RUN_STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const;

/** The error object a Step Functions Catch puts at its ResultPath. */
export const workflowErrorSchema = z.object({
  Error: z.string().check(z.minLength(1), z.maxLength(256)),
  Cause: z.optional(z.nullable(z.string())),
});
export type WorkflowError = z.output<typeof workflowErrorSchema>;

/** `s3://bucket/key` split into its parts, or a ValidationError naming `field`. */
export const parseS3Uri = (uri: string, field: string): { bucket: string; key: string } => {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(uri);
  if (!match) {
    throw new ValidationError(`Invalid input: ${field}: must be an s3://bucket/key URI`, [
      { field, message: 'must be an s3://bucket/key URI' },
    ]);
  }
  return { bucket: match[1] as string, key: match[2] as string };
};

/** A Step Functions execution name as the workflows use them (run ids, request ids, `<run_id>-data-sync`). */
export const executionNameSchema = z.string().check(
  z.regex(/^[A-Za-z0-9_-]{1,80}$/, {
    error: 'must be an execution name of 1-80 characters of A-Z a-z 0-9 _ -',
  }),
);

/**
 * The input of a workflow's first state: its raw execution input, wrapped by the machine so that any
 * JSON value reaches the request schema, and `$$.Execution.Name`, the id of what it starts.
 */
export const wrappedExecutionInputSchema = z.strictObject({
  request: z.unknown(),
  execution_name: executionNameSchema,
});
