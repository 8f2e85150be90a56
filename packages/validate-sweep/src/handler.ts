import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  awsClientConfig,
  bucketNameSchema,
  check,
  createWorkflowHandler,
  describeIssues,
  type ExpandedSweep,
  expandSweep,
  httpStatusOf,
  isSweepRerun,
  readEnvironment,
  type SweepStage,
  s3Uri,
  sweepLimitsEnvironment,
  sweepLimitsOf,
  sweepRerunSchema,
  sweepStage,
  toWorkflowError,
  ValidationError,
  variantIndexOf,
  variantRunId,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';

const s3 = new S3Client(awsClientConfig);

/** The execution input, wrapped by the machine so that any input reaches the schema. */
export const validateSweepInput = z.strictObject({
  request: z.unknown(),
  /** The execution's name, for the logs. */
  execution_name: z.optional(z.string()),
});

export const environment = z.object({
  RUNS_BUCKET: bucketNameSchema,
  ...sweepLimitsEnvironment,
});

/** What the rest of the sweep machine reads: the stage to run, and the sweep's settings. */
export type ValidatedSweep = Omit<ExpandedSweep, 'variants'> & {
  variant_count: number;
  /** The stage this execution runs first: the variants, or a re-run of the failed ones. */
  stage: SweepStage;
  /** For a re-run: the attempt the sweep's record must be at (the one before this). */
  previous_attempt: number;
  strategy_name: string;
  strategy_version: string;
  experiment_name: string;
};

/** The key of a sweep's items: `sweeps/<sweep_id>/items.json` (the id is a strict pattern). */
export const sweepItemsKey = (sweepId: string) => `sweeps/${sweepId}/items.json`;
/** The sweep's settings as its first execution validated them: what a re-run of it reads. */
const sweepSettingsKey = (sweepId: string) => `sweeps/${sweepId}/sweep.json`;

const put = (Bucket: string, Key: string, body: unknown) =>
  s3
    .send(new PutObjectCommand({ Bucket, Key, Body: JSON.stringify(body), ContentType: 'application/json' }))
    .catch((error: unknown) => {
      throw toWorkflowError(error, `Writing s3://${Bucket}/${Key}`);
    });

/** JSON at the key, or undefined when the key does not exist. */
const readJson = async (Bucket: string, Key: string): Promise<unknown> => {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket, Key }));
    return JSON.parse((await object.Body?.transformToString()) ?? 'null');
  } catch (error) {
    if (httpStatusOf(error) === 404 || (error instanceof Error && error.name === 'NoSuchKey'))
      return undefined;
    throw toWorkflowError(error, `Reading s3://${Bucket}/${Key}`);
  }
};

const rerunError = (field: string, message: string) =>
  new ValidationError(`Invalid sweep re-run: ${field}: ${message}`, [{ field, message }]);

/** The leaderboard's record of what did not finish: failed run ids and never-run indices. */
const leaderboardSchema = z.looseObject({
  attempt: z.optional(z.number()),
  failures: z.array(z.looseObject({ run_id: z.string() })),
  not_run: z.optional(z.array(z.number())),
});

/**
 * A re-run of a sweep's failures: the variants whose latest attempt failed, or that never started,
 * with run ids `<sweep_id>-<index>r<attempt>`, as the stage `rerun-<attempt>`. The attempt must
 * follow the leaderboard's last one, so two re-runs cannot race for the same variants.
 */
const rerun = async (request: unknown, bucket: string): Promise<ValidatedSweep> => {
  const parsed = check(sweepRerunSchema, request);
  if (!parsed.ok) {
    throw new ValidationError(`Invalid sweep re-run: ${describeIssues(parsed.issues)}`, parsed.issues);
  }
  const { sweep_id: sweepId, attempt } = parsed.data.rerun_failed;
  const [settings, board] = await Promise.all([
    readJson(bucket, sweepSettingsKey(sweepId)),
    readJson(bucket, `sweeps/${sweepId}/leaderboard.json`),
  ]);
  if (settings === undefined || board === undefined) {
    throw rerunError(
      'rerun_failed.sweep_id',
      `sweep ${sweepId} has no settings and leaderboard to re-run from`,
    );
  }
  const leaderboard = leaderboardSchema.parse(board);
  const last = leaderboard.attempt ?? 0;
  if (attempt !== last + 1) {
    throw rerunError(
      'rerun_failed.attempt',
      `the sweep's last attempt is ${last}: this one must be ${last + 1}`,
    );
  }
  const indices = new Set([
    ...leaderboard.failures.flatMap((f) => {
      const index = variantIndexOf(sweepId, f.run_id);
      return index === undefined ? [] : [index];
    }),
    ...(leaderboard.not_run ?? []),
  ]);
  if (indices.size === 0) {
    throw rerunError('rerun_failed.sweep_id', `sweep ${sweepId} has no failed or unrun variant to re-run`);
  }
  const variants = z
    .array(z.looseObject({ run_id: z.string() }))
    .parse(await readJson(bucket, sweepItemsKey(sweepId)));
  const items = [...indices]
    .sort((a, b) => a - b)
    .flatMap((index) => {
      const variant = variants[index];
      return variant ? [{ ...variant, run_id: variantRunId(sweepId, index, { rerun: attempt }) }] : [];
    });
  const validated = settings as ValidatedSweep;
  const stage = sweepStage(bucket, sweepId, 'rerun', attempt, validated.tolerated_failure_percentage);
  await put(bucket, stage.items.key, items);
  return { ...validated, stage, previous_attempt: last };
};

/**
 * First state of the backtest-sweep machine: validates the sweep, expands it into backtest
 * requests (each a whole, valid one, run id `<sweep_id>-<index>`), and writes them where the
 * Distributed Map's ItemReader reads them, with the sweep's settings beside them. A sweep over the
 * stage's cap is refused by its count. A `rerun_failed` request runs the failures of a sweep that
 * ran before, from those settings.
 */
export const { handler } = createWorkflowHandler({
  service: 'validate-sweep',
  input: validateSweepInput,
  handle: async (input, tools): Promise<ValidatedSweep> => {
    const env = readEnvironment(environment);
    if (isSweepRerun(input.request)) {
      const validated = await rerun(input.request, env.RUNS_BUCKET);
      tools.logger.info('Sweep re-run accepted', { sweep_id: validated.sweep_id, stage: validated.stage });
      return validated;
    }
    const sweep = expandSweep(input.request, sweepLimitsOf(env));
    const { variants, ...settings } = sweep;
    const first = variants[0] as ExpandedSweep['variants'][number];
    const validated: ValidatedSweep = {
      ...settings,
      variant_count: variants.length,
      // The Map Run fails past the sweep's tolerance of failed batches (whole batches fail only on
      // infrastructure errors); the variants' own failures are counted by aggregate-sweep.
      stage: sweepStage(env.RUNS_BUCKET, sweep.sweep_id, 'in_sample', 0, sweep.tolerated_failure_percentage),
      previous_attempt: 0,
      strategy_name: first.strategy_name,
      strategy_version: first.strategy_version,
      experiment_name: first.experiment_name,
    };
    // The items first: settings without their items would let a re-run start from nothing.
    await put(env.RUNS_BUCKET, validated.stage.items.key, variants);
    await put(env.RUNS_BUCKET, sweepSettingsKey(sweep.sweep_id), validated);
    tools.metrics.addMetric('SweepVariants', MetricUnit.Count, variants.length);
    tools.logger.info('Sweep accepted', {
      sweep_id: sweep.sweep_id,
      variants: variants.length,
      items: s3Uri(env.RUNS_BUCKET, validated.stage.items.key),
    });
    return validated;
  },
});
