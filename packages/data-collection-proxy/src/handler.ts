import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import {
  awsClientConfig,
  createWorkflowHandler,
  datasetsEnvironment,
  exchangeSchema,
  isoDateToMillis,
  mapWithConcurrency,
  marketDataFields,
  rangeRunsForward,
  readEnvironment,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';
import { checkSymbolFreshness, type SymbolFreshness } from './freshness';

const s3 = new S3Client(awsClientConfig);

/** Manifests read at once; S3 takes far more, this bounds the function's sockets and memory. */
const MANIFEST_READ_CONCURRENCY = 8;

const checkFreshnessInput = z
  .strictObject({
    operation: z.literal('check-freshness'),
    ...marketDataFields,
    exchange: z.optional(exchangeSchema),
  })
  .check(
    rangeRunsForward,
    // No data can exist from the future; evaluated at each call, so "now" is the invocation's.
    z.refine((input) => isoDateToMillis(input.start_date) < Date.now(), {
      path: ['start_date'],
      error: 'must be in the past',
    }),
  );

/** One Lambda, several data operations (the spec's `tradai-data-collection-proxy`). */
export const dataCollectionProxyInput = z.discriminatedUnion('operation', [checkFreshnessInput], {
  error: (issue) => (issue.code === 'invalid_union' ? 'must be one of: check-freshness' : undefined),
});

export const environment = z.object({
  ...datasetsEnvironment,
  DEFAULT_EXCHANGE: z._default(exchangeSchema, 'binance'),
  FRESHNESS_GRACE_SECONDS: z._default(
    z.coerce.number().check(z.int(), z.minimum(0), z.maximum(604_800)),
    3_600,
  ),
});

export interface FreshnessReport {
  all_fresh: boolean;
  exchange: string;
  timeframe: string;
  checked_at: string;
  symbols: SymbolFreshness[];
}

/**
 * `check-freshness`: is the market data a backtest needs already in S3? Reads each symbol's
 * dataset manifest; a missing or unreadable manifest means not fresh.
 */
export const { handler } = createWorkflowHandler({
  service: 'data-collection-proxy',
  input: dataCollectionProxyInput,
  handle: async (input, tools): Promise<FreshnessReport> => {
    const env = readEnvironment(environment);
    const nowMillis = Date.now();
    const request = {
      exchange: input.exchange ?? env.DEFAULT_EXCHANGE,
      timeframe: input.timeframe,
      startMillis: isoDateToMillis(input.start_date),
      endMillis: isoDateToMillis(input.end_date),
      nowMillis,
      graceSeconds: env.FRESHNESS_GRACE_SECONDS,
    };
    const symbols = await mapWithConcurrency(input.symbols, MANIFEST_READ_CONCURRENCY, (symbol) =>
      checkSymbolFreshness(s3, env.DATASET_BUCKET, env.DATASET_PREFIX, symbol, request),
    );
    const stale = symbols.filter((symbol) => !symbol.fresh);
    tools.metrics.addMetric('StaleSymbols', MetricUnit.Count, stale.length);
    tools.logger.info('Freshness checked', { stale });
    return {
      all_fresh: stale.length === 0,
      exchange: request.exchange,
      timeframe: input.timeframe,
      checked_at: new Date(nowMillis).toISOString(),
      symbols,
    };
  },
});
