import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  awsClientConfig,
  createWorkflowHandler,
  RANK_METRICS,
  RANKINGS,
  type RankMetric,
  type SweepStage,
  s3Uri,
  sweepIdSchema,
  sweepStage,
  sweepStageSchema,
  toWorkflowError,
  ValidationError,
  variantIndexOf,
  variantRunId,
  withTimerange,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';
import {
  checkHoldout,
  type Failure,
  type Finished,
  holdoutGates,
  type Ineligible,
  leaderboardCsv,
  type MultipleTesting,
  multipleTesting,
  type Ranked,
  rank,
} from './leaderboard';

const s3 = new S3Client(awsClientConfig);

const gatesSchema = z.strictObject({
  min_trades: z.number().check(z.int(), z.gte(1)),
  max_drawdown: z.nullable(z.number().check(z.gt(0), z.lte(100))),
  min_trading_days: z.number().check(z.int(), z.gte(0)),
});

export const aggregateSweepInput = z.strictObject({
  sweep_id: sweepIdSchema,
  rank_by: z.enum(Object.keys(RANK_METRICS) as [RankMetric, ...RankMetric[]]),
  top_n: z.number().check(z.int(), z.gte(1), z.lte(100)),
  variant_count: z.number().check(z.int(), z.gte(1)),
  gates: gatesSchema,
  out_of_sample: z.nullable(
    z.strictObject({
      start_date: z.string(),
      end_date: z.string(),
      top_n: z.number().check(z.int(), z.gte(1), z.lte(20)),
      share: z.number().check(z.gt(0), z.lte(1)),
    }),
  ),
  /** The share of the sweep's variants that may fail (their latest attempt) before it does. */
  tolerated_failure_percentage: z.number().check(z.gte(0), z.lte(100)),
  /** The stage that just ran; every stage's results under `sweeps/<sweep_id>/` are read. */
  stage: sweepStageSchema,
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

/** The held-out stage, as the leaderboard reports it. */
export interface OutOfSample {
  start_date: string;
  end_date: string;
  top_n: number;
  /** The tail's length over the in-sample part's: the held-out gates are the sweep's, scaled by it. */
  share: number;
  /** The in-sample leader (rank 1), and whether it held on the tail. */
  in_sample_leader: string | null;
  in_sample_leader_holds: boolean | null;
}

/** The sweep's pick: the best in-sample variant that held out of sample (or the leader, without a tail). */
export interface Winner {
  run_id: string;
  index: number;
  rank: number;
  basis: 'held out of sample' | 'in sample only';
}

/** leaderboard.json: the whole leaderboard, as a person or a tool reads it (README, "Parameter sweeps"). */
export interface LeaderboardFile {
  sweep_id: string;
  rank_by: RankMetric;
  better: 'higher' | 'lower';
  /** What the ranking is, and which freqtrade function it matches. */
  ranking: string;
  attempt: number;
  /** false while a held-out stage is still to run. */
  complete: boolean;
  variants: number;
  gates: z.output<typeof gatesSchema>;
  winner: Winner | null;
  multiple_testing: MultipleTesting;
  out_of_sample: OutOfSample | null;
  ranked: Ranked[];
  ineligible: Ineligible[];
  failures: Failure[];
  /** Indices of the variants that never ran. */
  not_run: number[];
}

export interface SweepLeaderboard {
  sweep_id: string;
  rank_by: RankMetric;
  /** 0 for the sweep's own run, n after its n-th re-run of failures. */
  attempt: number;
  variants: number;
  succeeded: number;
  failed: number;
  /** Variants that finished outside the gates (leaderboard.json lists them with the reason). */
  ineligible: number;
  /** Variants that never ran (a Map Run stopped before them). */
  not_run: number;
  winner: Winner | null;
  multiple_testing: MultipleTesting;
  out_of_sample: OutOfSample | null;
  top: Ranked[];
  failures: Failure[];
  /** More of the variants failed than the sweep tolerates. */
  tolerance_exceeded: boolean;
  /** The stage to run next (the held-out tail), or null when the leaderboard is final. */
  next_stage: SweepStage | null;
  leaderboard: { json: string; csv: string };
}

const readJson = async (bucket: string, key: string): Promise<unknown> => {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })).catch((error: unknown) => {
    throw toWorkflowError(error, `Reading s3://${bucket}/${key}`);
  });
  return JSON.parse((await object.Body?.transformToString()) ?? 'null');
};

const listKeys = async (bucket: string, prefix: string): Promise<string[]> => {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3
      .send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }))
      .catch((error: unknown) => {
        throw toWorkflowError(error, 'Listing the sweep results');
      });
    keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
};

const parseJson = (text: string | null | undefined): unknown => {
  try {
    return JSON.parse(text ?? 'null');
  } catch {
    return null;
  }
};
const asObject = (value: unknown): Record<string, unknown> =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/** Why a run failed, as a person reads it: its error, and the nested execution's own error. */
const reasonOf = (error: unknown, cause: unknown): string => {
  const parsed = asObject(typeof cause === 'string' ? parseJson(cause) : cause);
  const nested = [parsed.Error, parsed.error, parsed.Cause, parsed.cause].find((v) => typeof v === 'string');
  return [error, nested].filter(Boolean).join(': ').slice(0, 500) || 'unknown';
};

/** One variant's one run, in any stage. */
interface Outcome {
  index: number;
  run_id: string;
  attempt: number;
  holdout: boolean;
  request: Record<string, unknown>;
  finished?: Finished;
  failure?: Failure;
}

/**
 * Every variant run a child execution records. A child runs one variant (`{request}` in, `{run_id,
 * result}` out) or, batched, several (`{Items: [{request}...]}` in, one outcome per item out); a
 * child that failed fails every variant it held.
 */
const outcomesOf = (sweepId: string, child: z.output<typeof childSchema>): Outcome[] => {
  const input = asObject(parseJson(child.Input));
  const items = Array.isArray(input.Items) ? input.Items.map(asObject) : [input];
  const requests = items.map((item) => asObject(item.request ?? item));
  const output = parseJson(child.Output);
  const outputs = Array.isArray(output) ? output.map(asObject) : [asObject(output)];
  return requests.flatMap((request, position): Outcome[] => {
    const runId = String(request.run_id ?? child.Name ?? '');
    const index = variantIndexOf(sweepId, runId);
    if (index === undefined) return [];
    const attempt = Number(/r(\d+)h?$/.exec(runId)?.[1] ?? 0);
    const base = { index, run_id: runId, attempt, holdout: runId.endsWith('h'), request };
    const config_overrides = asObject(request.config_overrides);
    const out = outputs[position] ?? {};
    if (child.Status === 'SUCCEEDED' && out.status !== 'FAILED') {
      return [
        { ...base, finished: { run_id: runId, index, config_overrides, result: asObject(out.result) } },
      ];
    }
    // A child stopped from outside (ABORTED) or timed out has no error of its own: its status says why.
    const error =
      child.Status === 'SUCCEEDED' ? out.error : (child.Error ?? `child execution ${child.Status}`);
    const cause = child.Status === 'SUCCEEDED' ? out.cause : child.Cause;
    return [
      {
        ...base,
        failure: {
          run_id: runId,
          error: String(asObject(error).Error ?? error ?? 'States.TaskFailed'),
          reason: reasonOf(asObject(error).Error ?? error, asObject(error).Cause ?? cause),
        },
      },
    ];
  });
};

/** The outcome that counts for each index: the latest attempt's. */
const latest = (outcomes: readonly Outcome[]) => {
  const byIndex = new Map<number, Outcome>();
  for (const outcome of outcomes) {
    const known = byIndex.get(outcome.index);
    if (!known || outcome.attempt >= known.attempt) byIndex.set(outcome.index, outcome);
  }
  return byIndex;
};

/**
 * Reads every stage's results the sweep's Distributed Maps wrote (their manifests, then each result
 * file), keeps each variant's latest attempt, ranks the finished ones inside the sweep's gates by
 * its ranking, checks the leaders on the held-out tail, and writes leaderboard.json and
 * leaderboard.csv beside them. A failed variant is listed with its reason, never dropped. When the
 * sweep has a held-out tail its leaders have not run on yet, it writes their items and names that
 * stage as the next.
 */
export const { handler } = createWorkflowHandler({
  service: 'aggregate-sweep',
  input: aggregateSweepInput,
  handle: async (input, tools): Promise<SweepLeaderboard> => {
    const { bucket } = input.stage.results;
    const base = `sweeps/${input.sweep_id}`;
    const manifests = (await listKeys(bucket, `${base}/`)).filter((key) =>
      /^sweeps\/[^/]+\/(?:results|(?:rerun|holdout)-\d+\/results)\/.+\/manifest\.json$/.test(key),
    );
    if (manifests.length === 0) {
      throw new ValidationError(`stage: no ResultWriter manifest under s3://${bucket}/${base}/`, [
        { field: 'stage', message: 'holds no ResultWriter manifest' },
      ]);
    }
    const children = (
      await Promise.all(
        manifests.map(async (key) => {
          const manifest = manifestSchema.parse(await readJson(bucket, key));
          const files = [...(manifest.ResultFiles.SUCCEEDED ?? []), ...(manifest.ResultFiles.FAILED ?? [])];
          return (
            await Promise.all(
              files.map(async ({ Key }) => z.array(childSchema).parse(await readJson(bucket, Key))),
            )
          ).flat();
        }),
      )
    ).flat();
    const outcomes = children.flatMap((child) => outcomesOf(input.sweep_id, child));
    const inSample = latest(outcomes.filter((o) => !o.holdout && o.index < input.variant_count));
    const heldOut = latest(outcomes.filter((o) => o.holdout));

    const finished = [...inSample.values()].flatMap((o) => (o.finished ? [o.finished] : []));
    const failures = [...inSample.values()]
      .flatMap((o) => (o.failure ? [{ ...o.failure, index: o.index }] : []))
      .sort((a, b) => a.index - b.index)
      .map(({ index: _, ...failure }) => failure);
    const notRun = Array.from({ length: input.variant_count }, (_, index) => index).filter(
      (index) => !inSample.has(index),
    );
    const { ranked: inSampleRanked, ineligible } = rank(finished, input.rank_by, input.gates);
    const oos = input.out_of_sample;
    const ranked = oos
      ? checkHoldout(
          inSampleRanked.slice(0, oos.top_n),
          new Map([...heldOut].map(([index, o]) => [index, (o.finished ?? o.failure) as Finished | Failure])),
          input.rank_by,
          holdoutGates(input.gates, oos.share),
        ).concat(inSampleRanked.slice(oos.top_n))
      : inSampleRanked;
    const testing = multipleTesting(ranked, finished, finished.length);
    const toleranceExceeded =
      (failures.length * 100) / input.variant_count > input.tolerated_failure_percentage;

    // The leaders not yet run on the held-out tail run there next: one more stage of this execution.
    let nextStage: SweepStage | null = null;
    if (oos && input.stage.name !== 'holdout' && !toleranceExceeded) {
      const pending = ranked.slice(0, oos.top_n).filter((r) => !heldOut.has(r.index));
      if (pending.length > 0) {
        nextStage = sweepStage(bucket, input.sweep_id, 'holdout', input.stage.attempt, 100);
        const items = pending.map((leader) => {
          const request = inSample.get(leader.index)?.request ?? {};
          return {
            ...request,
            ...withTimerange(request, oos.start_date, oos.end_date),
            run_id: variantRunId(input.sweep_id, leader.index, { holdout: true }),
          };
        });
        await s3
          .send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: nextStage.items.key,
              Body: JSON.stringify(items),
              ContentType: 'application/json',
            }),
          )
          .catch((error: unknown) => {
            throw toWorkflowError(error, 'Writing the held-out items');
          });
      }
    }

    const leader = ranked[0];
    const holding = oos ? ranked.slice(0, oos.top_n).find((r) => r.out_of_sample?.holds) : leader;
    const winner: Winner | null =
      nextStage || !holding
        ? null
        : {
            run_id: holding.run_id,
            index: holding.index,
            rank: holding.rank,
            basis: oos ? 'held out of sample' : 'in sample only',
          };
    const outOfSample: OutOfSample | null = oos
      ? {
          ...oos,
          in_sample_leader: leader?.run_id ?? null,
          in_sample_leader_holds: leader?.out_of_sample ? leader.out_of_sample.holds : null,
        }
      : null;
    const board: LeaderboardFile = {
      sweep_id: input.sweep_id,
      rank_by: input.rank_by,
      better: RANK_METRICS[input.rank_by],
      ranking: RANKINGS[input.rank_by].describe,
      attempt: input.stage.attempt,
      complete: nextStage === null,
      variants: input.variant_count,
      gates: input.gates,
      winner,
      multiple_testing: testing,
      out_of_sample: outOfSample,
      ranked,
      ineligible,
      failures,
      not_run: notRun,
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
      attempt: input.stage.attempt,
      variants: input.variant_count,
      succeeded: finished.length,
      failed: failures.length,
      ineligible: ineligible.length,
      not_run: notRun.length,
      winner,
      multiple_testing: testing,
      out_of_sample: outOfSample,
      top: ranked.slice(0, input.top_n),
      // The state's output stays far below 256 KB: the full list is in leaderboard.json.
      failures: failures.slice(0, 50),
      tolerance_exceeded: toleranceExceeded,
      next_stage: nextStage,
      leaderboard: {
        json: s3Uri(bucket, `${base}/leaderboard.json`),
        csv: s3Uri(bucket, `${base}/leaderboard.csv`),
      },
    };
  },
});
