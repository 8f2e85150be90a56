import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import {
  awsClientConfig,
  createWorkflowHandler,
  datasetManifestKey,
  datasetsEnvironment,
  exchangeSchema,
  isoDateToMillis,
  mapWithConcurrency,
  marketDataFields,
  rangeRunsForward,
  readEnvironment,
  readManifest,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';
import { judgeQuality, type QualityThresholds, type SymbolQuality } from './quality';

const s3 = new S3Client(awsClientConfig);

const MANIFEST_READ_CONCURRENCY = 8;

export const validateDataQualityInput = z
  .strictObject({
    ...marketDataFields,
    exchange: exchangeSchema,
    /** The data-collection task's StartedAt (epoch ms, as the ECS `.sync` output gives it). */
    synced_after: z.optional(z.number().check(z.int(), z.positive())),
  })
  .check(rangeRunsForward);

const ratio = z.coerce.number().check(z.minimum(0), z.maximum(1));
export const environment = z.object({
  ...datasetsEnvironment,
  MAX_GAP_RATIO: z._default(ratio, 0.005),
  MAX_DUPLICATE_RATIO: z._default(ratio, 0),
  MAX_OHLC_VIOLATIONS: z._default(z.coerce.number().check(z.int(), z.minimum(0)), 0),
});

export interface DataQualityReport {
  passed: boolean;
  checked_at: string;
  thresholds: { max_gap_ratio: number; max_duplicate_ratio: number; max_ohlc_violations: number };
  /** One entry per symbol, failed ones first. */
  symbols: SymbolQuality[];
}

/**
 * Reads the manifests the data-collection task wrote and checks them against the quality bar:
 * range covered, gap and duplicate ratios, OHLC sanity counters, and that this sync wrote them.
 */
export const { handler } = createWorkflowHandler({
  service: 'validate-data-quality',
  input: validateDataQualityInput,
  handle: async (input, tools): Promise<DataQualityReport> => {
    const env = readEnvironment(environment);
    const thresholds: QualityThresholds = {
      maxGapRatio: env.MAX_GAP_RATIO,
      maxDuplicateRatio: env.MAX_DUPLICATE_RATIO,
      maxOhlcViolations: env.MAX_OHLC_VIOLATIONS,
    };
    const now = Date.now();
    const request = {
      exchange: input.exchange,
      timeframe: input.timeframe,
      startMillis: isoDateToMillis(input.start_date),
      endMillis: isoDateToMillis(input.end_date),
      nowMillis: now,
      syncedAfterMillis: input.synced_after,
    };
    const symbols = await mapWithConcurrency(input.symbols, MANIFEST_READ_CONCURRENCY, async (symbol) => {
      const key = datasetManifestKey(env.DATASET_PREFIX, input.exchange, symbol, input.timeframe);
      return judgeQuality(symbol, await readManifest(s3, env.DATASET_BUCKET, key), request, thresholds);
    });
    const failed = symbols.filter((symbol) => !symbol.passed);
    tools.metrics.addMetric('DataQualityFailures', MetricUnit.Count, failed.length);
    const report: DataQualityReport = {
      passed: failed.length === 0,
      checked_at: new Date(now).toISOString(),
      thresholds: {
        max_gap_ratio: thresholds.maxGapRatio,
        max_duplicate_ratio: thresholds.maxDuplicateRatio,
        max_ohlc_violations: thresholds.maxOhlcViolations,
      },
      symbols: [...failed, ...symbols.filter((symbol) => symbol.passed)],
    };
    tools.logger.info('Data quality checked', { passed: report.passed, failed: failed.map((s) => s.symbol) });
    return report;
  },
});
