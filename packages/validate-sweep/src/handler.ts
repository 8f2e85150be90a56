import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  awsClientConfig,
  bucketNameSchema,
  createWorkflowHandler,
  type ExpandedSweep,
  expandSweep,
  readEnvironment,
  s3Uri,
  sweepLimitsEnvironment,
  sweepLimitsOf,
  toWorkflowError,
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

/** What the rest of the sweep machine reads: the items' place, and the sweep's settings. */
export type ValidatedSweep = Omit<ExpandedSweep, 'variants'> & {
  variant_count: number;
  items: { bucket: string; key: string; uri: string };
  results: { bucket: string; prefix: string };
  strategy_name: string;
  strategy_version: string;
  experiment_name: string;
};

/** The key of a sweep's items: `sweeps/<sweep_id>/items.json` (the id is a strict pattern). */
export const sweepItemsKey = (sweepId: string) => `sweeps/${sweepId}/items.json`;

/**
 * First state of the backtest-sweep machine: validates the sweep, expands it into backtest
 * requests (each a whole, valid one, run id `<sweep_id>-<index>`), and writes them where the
 * Distributed Map's ItemReader reads them. A sweep over the stage's cap is refused by its count.
 */
export const { handler } = createWorkflowHandler({
  service: 'validate-sweep',
  input: validateSweepInput,
  handle: async (input, tools): Promise<ValidatedSweep> => {
    const env = readEnvironment(environment);
    const sweep = expandSweep(input.request, sweepLimitsOf(env));
    const key = sweepItemsKey(sweep.sweep_id);
    await s3
      .send(
        new PutObjectCommand({
          Bucket: env.RUNS_BUCKET,
          Key: key,
          Body: JSON.stringify(sweep.variants),
          ContentType: 'application/json',
        }),
      )
      .catch((error: unknown) => {
        throw toWorkflowError(error, 'Writing the sweep items');
      });
    const { variants, ...settings } = sweep;
    const first = variants[0] as ExpandedSweep['variants'][number];
    tools.metrics.addMetric('SweepVariants', MetricUnit.Count, variants.length);
    tools.logger.info('Sweep accepted', { sweep_id: sweep.sweep_id, variants: variants.length });
    return {
      ...settings,
      variant_count: variants.length,
      items: { bucket: env.RUNS_BUCKET, key, uri: s3Uri(env.RUNS_BUCKET, key) },
      results: { bucket: env.RUNS_BUCKET, prefix: `sweeps/${sweep.sweep_id}/results` },
      strategy_name: first.strategy_name,
      strategy_version: first.strategy_version,
      experiment_name: first.experiment_name,
    };
  },
});
