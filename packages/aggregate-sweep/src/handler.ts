import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  awsClientConfig,
  bucketNameSchema,
  createWorkflowHandler,
  RANK_METRICS,
  type RankMetric,
  s3Uri,
  sweepIdSchema,
  toWorkflowError,
  ValidationError,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';
import { type Failure, type Finished, leaderboardCsv, type Ranked, rank } from './leaderboard';

const s3 = new S3Client(awsClientConfig);

export const aggregateSweepInput = z.strictObject({
  sweep_id: sweepIdSchema,
  rank_by: z.enum(Object.keys(RANK_METRICS) as [RankMetric, ...RankMetric[]]),
  top_n: z.number().check(z.int(), z.gte(1), z.lte(100)),
  variant_count: z.number().check(z.int(), z.gte(1)),
  /** Where the Distributed Map's ResultWriter wrote the children's results. */
  results: z.strictObject({
    bucket: bucketNameSchema,
    prefix: z.string().check(z.regex(/^sweeps\/[A-Za-z0-9][A-Za-z0-9_-]{0,57}\/results$/)),
  }),
});

export const environment = z.object({});

/** One child execution as the ResultWriter records it (Transformation NONE, the default). */
const childSchema = z.looseObject({
  Name: z.optional(z.string()),
  Status: z.string(),
  Input: z.optional(z.string()),
  Output: z.optional(z.nullable(z.string())),
  Error: z.optional(z.nullable(z.string())),
  Cause: z.optional(z.nullable(z.string())),
});
const manifestSchema = z.looseObject({
  ResultFiles: z.looseObject({
    SUCCEEDED: z.optional(z.array(z.looseObject({ Key: z.string() }))),
    FAILED: z.optional(z.array(z.looseObject({ Key: z.string() }))),
    PENDING: z.optional(z.array(z.looseObject({ Key: z.string() }))),
  }),
});

export interface SweepLeaderboard {
  sweep_id: string;
  rank_by: RankMetric;
  variants: number;
  succeeded: number;
  failed: number;
  /** Variants that finished with too few trades to be ranked (leaderboard.json lists them). */
  ineligible: number;
  /** Variants that never ran (the sweep stopped once its failures passed the tolerance). */
  not_run: number;
  top: Ranked[];
  failures: Failure[];
  leaderboard: { json: string; csv: string };
}

const readJson = async (bucket: string, key: string): Promise<unknown> => {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })).catch((error: unknown) => {
    throw toWorkflowError(error, `Reading s3://${bucket}/${key}`);
  });
  return JSON.parse((await object.Body?.transformToString()) ?? 'null');
};

const parseJson = (text: string | null | undefined): Record<string, unknown> => {
  try {
    const value = JSON.parse(text ?? 'null');
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};

/** Why a child failed, as a person reads it: its error, and the nested execution's own error. */
const reasonOf = (child: z.output<typeof childSchema>): string => {
  const cause = parseJson(child.Cause);
  const nested = [cause.Error, cause.error, cause.Cause, cause.cause].find((v) => typeof v === 'string');
  return [child.Error, nested].filter(Boolean).join(': ').slice(0, 500) || 'unknown';
};

/**
 * Reads the children's results the Distributed Map wrote (its manifest, then each result file),
 * ranks the finished variants by the sweep's metric, and writes leaderboard.json and
 * leaderboard.csv beside them. A failed variant is listed with its reason, never dropped.
 */
export const { handler } = createWorkflowHandler({
  service: 'aggregate-sweep',
  input: aggregateSweepInput,
  handle: async (input, tools): Promise<SweepLeaderboard> => {
    const { bucket, prefix } = input.results;
    const listed = await s3
      .send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/` }))
      .catch((error: unknown) => {
        throw toWorkflowError(error, 'Listing the sweep results');
      });
    const manifestKey = (listed.Contents ?? [])
      .map((o) => o.Key ?? '')
      .find((key) => key.endsWith('/manifest.json'));
    if (!manifestKey) {
      throw new ValidationError(`results: no manifest.json under s3://${bucket}/${prefix}/`, [
        { field: 'results', message: 'holds no ResultWriter manifest' },
      ]);
    }
    const manifest = manifestSchema.parse(await readJson(bucket, manifestKey));
    const children = async (files: { Key: string }[] = []) =>
      (
        await Promise.all(
          files.map(async ({ Key }) => z.array(childSchema).parse(await readJson(bucket, Key))),
        )
      ).flat();
    const [succeeded, failed] = await Promise.all([
      children(manifest.ResultFiles.SUCCEEDED),
      children(manifest.ResultFiles.FAILED),
    ]);

    // A child's input is the Map's ItemSelector output, `{ request: <the variant> }`.
    const variantOf = (child: z.output<typeof childSchema>) => {
      const input = parseJson(child.Input);
      return (input.request as Record<string, unknown> | undefined) ?? input;
    };
    const finished: Finished[] = succeeded.map((child) => {
      const request = variantOf(child);
      const output = parseJson(child.Output);
      return {
        run_id: String(output.run_id ?? request.run_id ?? child.Name ?? ''),
        config_overrides: (request.config_overrides as Record<string, unknown> | undefined) ?? {},
        result: (output.result as Record<string, unknown> | undefined) ?? {},
      };
    });
    const failures: Failure[] = failed.map((child) => ({
      run_id: String(variantOf(child).run_id ?? child.Name ?? ''),
      error: child.Error ?? 'States.TaskFailed',
      reason: reasonOf(child),
    }));
    const { ranked, ineligible } = rank(finished, input.rank_by);
    const base = `sweeps/${input.sweep_id}`;
    const board = {
      sweep_id: input.sweep_id,
      rank_by: input.rank_by,
      better: RANK_METRICS[input.rank_by],
      variants: input.variant_count,
      ranked,
      ineligible,
      failures,
    };
    const put = (Key: string, Body: string, ContentType: string) =>
      s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body, ContentType })).catch((error: unknown) => {
        throw toWorkflowError(error, `Writing ${Key}`);
      });
    await Promise.all([
      put(`${base}/leaderboard.json`, JSON.stringify(board, null, 2), 'application/json'),
      put(`${base}/leaderboard.csv`, leaderboardCsv(ranked, input.rank_by), 'text/csv'),
    ]);
    tools.metrics.addMetric('SweepVariantsSucceeded', MetricUnit.Count, finished.length);
    tools.metrics.addMetric('SweepVariantsFailed', MetricUnit.Count, failures.length);
    return {
      sweep_id: input.sweep_id,
      rank_by: input.rank_by,
      variants: input.variant_count,
      succeeded: finished.length,
      failed: failures.length,
      ineligible: ineligible.length,
      not_run: Math.max(0, input.variant_count - finished.length - failures.length),
      top: ranked.slice(0, input.top_n),
      // The state's output stays far below 256 KB: the full list is in leaderboard.json.
      failures: failures.slice(0, 50),
      leaderboard: {
        json: s3Uri(bucket, `${base}/leaderboard.json`),
        csv: s3Uri(bucket, `${base}/leaderboard.csv`),
      },
    };
  },
});
