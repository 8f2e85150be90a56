import { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/core/serde';
import type { DatasetManifest } from '@tradai/lambda-kit';
import type { AwsClientStub } from 'aws-sdk-client-mock';

/** A manifest as the data-collection task writes it (docs/contracts/dataset-manifest.md). */
export const manifest = (overrides: Partial<DatasetManifest> = {}): DatasetManifest => ({
  schema_version: 1,
  exchange: 'binance',
  symbol: 'BTC/USDT:USDT',
  timeframe: '1h',
  coverage: { start: '2023-01-01T00:00:00Z', end: '2024-07-01T00:00:00Z' },
  candle_count: 13_128,
  expected_candle_count: 13_128,
  gaps: { count: 0, missing_candles: 0, largest_gap_candles: 0 },
  duplicate_candles: 0,
  ohlc_violations: {
    high_below_open_or_close: 0,
    low_above_open_or_close: 0,
    non_positive_price: 0,
    negative_volume: 0,
  },
  last_updated: '2024-07-01T00:05:00Z',
  data_key: 'datasets/binance/BTC_USDT_USDT/1h/candles.feather',
  ...overrides,
});

export const objectBody = (text: string) => sdkStreamMixin(Readable.from([Buffer.from(text)]));

/** Serves `bucket` objects from a map of key -> body; any other key is NoSuchKey, as S3 says. */
export const serveObjects = (s3: AwsClientStub<S3Client>, objects: Record<string, string>) => {
  s3.on(GetObjectCommand).callsFake(async (input: { Key?: string }) => {
    const body = input.Key === undefined ? undefined : objects[input.Key];
    if (body === undefined) {
      throw new NoSuchKey({
        message: 'The specified key does not exist.',
        $metadata: { httpStatusCode: 404 },
      });
    }
    return { Body: objectBody(body), ContentLength: body.length };
  });
};
