import * as z from 'zod/mini';
import {
  bucketNameSchema,
  ccxtSymbolSchema,
  exchangeSchema,
  isoDateSchema,
  type Timeframe,
  timeframeSchema,
} from './contracts';
import { type S3Prefix, s3Prefix, s3PrefixSchema } from './s3-keys';

/*
 * The dataset manifest (docs/contracts/dataset-manifest.md): one JSON object per
 * (exchange, symbol, timeframe), written by the data-collection task after every sync, read by
 * check-freshness and validate-data-quality. Times are UTC ISO-8601; `coverage` is the half-open
 * interval [start, end): `start` is the open time of the first candle, `end` the close time of
 * the last one.
 */

export const DATASET_MANIFEST_VERSION = 1;

const count = z.int().check(z.minimum(0));

export const datasetManifestSchema = z.object({
  schema_version: z.literal(DATASET_MANIFEST_VERSION),
  exchange: exchangeSchema,
  symbol: ccxtSymbolSchema,
  timeframe: timeframeSchema,
  coverage: z.object({ start: isoDateSchema, end: isoDateSchema }),
  candle_count: count,
  expected_candle_count: count,
  gaps: z.object({ count, missing_candles: count, largest_gap_candles: count }),
  duplicate_candles: count,
  ohlc_violations: z.object({
    high_below_open_or_close: count,
    low_above_open_or_close: count,
    non_positive_price: count,
    negative_volume: count,
  }),
  last_updated: isoDateSchema,
  data_key: z.string().check(z.minLength(1)),
});

export type DatasetManifest = z.output<typeof datasetManifestSchema>;

/**
 * The key segment of a ccxt symbol, as freqtrade names its data files: `/` and `:` become `_`
 * (`BTC/USDT:USDT` -> `BTC_USDT_USDT`). Injective for the symbols `ccxtSymbolSchema` accepts,
 * whose parts never contain `_`.
 */
export const symbolKeySegment = (symbol: string): string => symbol.replaceAll('/', '_').replaceAll(':', '_');

/**
 * `<prefix>/<exchange>/<symbol segment>/<timeframe>/manifest.json`; a futures run's funding rates
 * and mark prices under `<timeframe>-funding_rate` and `<timeframe>-mark`, as freqtrade suffixes
 * their data files (freqtrade/data/history/datahandlers/idatahandler.py `_pair_data_filename`).
 */
export const datasetManifestKey = (
  prefix: S3Prefix,
  exchange: string,
  symbol: string,
  timeframe: Timeframe,
  candleType: 'main' | 'funding_rate' | 'mark' = 'main',
): string =>
  prefix.key(
    exchange,
    symbolKeySegment(symbol),
    candleType === 'main' ? timeframe : `${timeframe}-${candleType}`,
    'manifest.json',
  );

/** Where the datasets live, for every function that reads manifests: spread into its environment schema. */
export const datasetsEnvironment = {
  DATASET_BUCKET: bucketNameSchema,
  DATASET_PREFIX: z._default(s3PrefixSchema, s3Prefix('datasets')),
};
