import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  awsError,
  censusOfRejections,
  datasetManifest,
  fakeContext,
  serveObjects,
} from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../src';

const s3Mock = mockClient(S3Client);
const BTC = 'datasets/binance/BTC_USDT_USDT/1h/manifest.json';
const ETH = 'datasets/binance/ETH_USDT_USDT/1h/manifest.json';
const SYNC_STARTED = Date.parse('2026-01-05T09:00:00Z');

const event = {
  symbols: ['BTC/USDT:USDT', 'ETH/USDT:USDT'],
  timeframe: '1h',
  start_date: '2024-01-01',
  end_date: '2024-06-01',
  exchange: 'binance',
  synced_after: SYNC_STARTED,
};
const clean = (symbol: string) =>
  datasetManifest({
    symbol,
    coverage: { start: '2024-01-01T00:00:00Z', end: '2024-06-01T00:00:00Z' },
    candle_count: 3_648,
    expected_candle_count: 3_648,
    last_updated: '2026-01-05T09:12:00Z',
  });
const invoke = (input: unknown) => handler(input, fakeContext('tradai-dev-validate-data-quality'));

describe('validate-data-quality', () => {
  beforeEach(() => {
    vi.clearAllMocks();
    s3Mock.reset();
    vi.stubEnv('DATASET_BUCKET', 'tradai-dev-market-data');
  });

  it('passes manifests that cover the range, without gaps, duplicates or bad candles, written by this sync', async () => {
    // Prepare
    serveObjects(s3Mock, {
      [BTC]: JSON.stringify(clean('BTC/USDT:USDT')),
      [ETH]: JSON.stringify(clean('ETH/USDT:USDT')),
    });

    // Act
    const report = await invoke(event);

    // Assess
    expect(report).toMatchObject({
      passed: true,
      thresholds: { max_gap_ratio: 0.005, max_duplicate_ratio: 0, max_ohlc_violations: 0 },
      symbols: [
        { symbol: 'BTC/USDT:USDT', passed: true, issues: [] },
        { symbol: 'ETH/USDT:USDT', passed: true, issues: [] },
      ],
    });
  });

  it('lists every issue of every failed symbol, failed symbols first', async () => {
    // Prepare
    const bad = {
      ...clean('ETH/USDT:USDT'),
      coverage: { start: '2024-02-01T00:00:00Z', end: '2024-05-01T00:00:00Z' },
      gaps: { count: 3, missing_candles: 100, largest_gap_candles: 60 },
      duplicate_candles: 4,
      ohlc_violations: {
        high_below_open_or_close: 2,
        low_above_open_or_close: 0,
        non_positive_price: 1,
        negative_volume: 0,
      },
      last_updated: '2026-01-01T00:00:00Z',
    };
    serveObjects(s3Mock, { [BTC]: JSON.stringify(clean('BTC/USDT:USDT')), [ETH]: JSON.stringify(bad) });

    // Act
    const report = await invoke(event);

    // Assess
    expect(report.passed).toBe(false);
    expect(report.symbols[0]?.symbol).toBe('ETH/USDT:USDT');
    expect(report.symbols[0]?.issues).toEqual([
      'data starts at 2024-02-01T00:00:00Z, after the requested 2024-01-01T00:00:00Z',
      'data ends at 2024-05-01T00:00:00Z, before the requested 2024-06-01T00:00:00Z',
      '100 missing candles in 3 gaps (2.741 %, above 0.500 %)',
      '4 duplicate candles (0.110 %, above 0.000 %)',
      'OHLC sanity violations: high_below_open_or_close 2, non_positive_price 1',
      'manifest last updated 2026-01-01T00:00:00Z, before this sync started (2026-01-05T09:00:00Z): the sync did not write it',
    ]);
    expect(report.symbols[1]).toEqual({ symbol: 'BTC/USDT:USDT', passed: true, issues: [] });
  });

  it('fails a symbol whose manifest is missing, and says where it looked', async () => {
    // Prepare
    serveObjects(s3Mock, { [BTC]: JSON.stringify(clean('BTC/USDT:USDT')) });

    // Act
    const report = await invoke(event);

    // Assess
    expect(report.symbols[0]).toEqual({
      symbol: 'ETH/USDT:USDT',
      passed: false,
      issues: [`no dataset manifest at s3://tradai-dev-market-data/${ETH}`],
    });
  });

  it('reads its thresholds from the environment', async () => {
    // Prepare
    vi.stubEnv('MAX_GAP_RATIO', '0.05');
    const gappy = {
      ...clean('BTC/USDT:USDT'),
      gaps: { count: 3, missing_candles: 100, largest_gap_candles: 60 },
    };
    serveObjects(s3Mock, { [BTC]: JSON.stringify(gappy), [ETH]: JSON.stringify(clean('ETH/USDT:USDT')) });

    // Act & Assess
    await expect(invoke(event)).resolves.toMatchObject({ passed: true, thresholds: { max_gap_ratio: 0.05 } });
  });

  it('maps S3 throttling to TransientAwsError', async () => {
    s3Mock.on(GetObjectCommand).rejects(awsError('SlowDown', 503));
    await expect(invoke(event)).rejects.toMatchObject({ name: 'TransientAwsError' });
  });

  it('answers any input with a report or a named ValidationError', async () => {
    // Prepare
    serveObjects(s3Mock, { [BTC]: JSON.stringify(clean('BTC/USDT:USDT')) });
    const events = fc.oneof(
      fc.record({
        ...Object.fromEntries(Object.entries(event).map(([k, v]) => [k, fc.constant(v)])),
        symbols: fc.subarray(['BTC/USDT:USDT', 'ETH/USDT:USDT', 'not a symbol'], { minLength: 1 }),
      }),
      fc.anything(),
    );

    // Act
    const census = await censusOfRejections(handler, events, { numRuns: 400 });

    // Assess
    expect(census.answered).toBeGreaterThan(0);
    expect(census.rejected).toBeGreaterThan(0);
  });
});
