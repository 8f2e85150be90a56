import { S3Client } from '@aws-sdk/client-s3';
import { censusOfRejections } from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../src';
import { manifest, serveObjects } from '../helpers/manifests';

const s3Mock = mockClient(S3Client);

/** Usually the valid value, sometimes a near miss, sometimes any JSON. */
const field = <T>(valid: fc.Arbitrary<T>, ...nearMisses: unknown[]) =>
  fc.oneof(
    { arbitrary: valid, weight: 8 },
    { arbitrary: fc.constantFrom(...nearMisses), weight: 1 },
    { arbitrary: fc.jsonValue(), weight: 1 },
  );

/** Arbitrary JSON, and requests whose keys are right and whose values are mostly plausible. */
const events = fc.oneof(
  fc.jsonValue(),
  fc.record(
    {
      operation: field(fc.constant('check-freshness'), 'check', 'CHECK-FRESHNESS'),
      symbols: field(
        fc.uniqueArray(fc.constantFrom('BTC/USDT:USDT', 'BTC/USDT', 'ETH/USDT:USDT'), { minLength: 1 }),
        [],
        ['btc'],
        ['BTC/USDT', 'BTC/USDT'],
      ),
      timeframe: field(fc.constantFrom('1h', '1M', '5m'), '7m', '1H'),
      start_date: field(fc.constant('2024-01-01'), '2024-02-30', '2030-01-01', '2024-07-01'),
      end_date: field(fc.constant('2024-06-01'), '2023-01-01', '06/01/2024'),
      exchange: field(fc.constant('binance'), 'Bybit', '../binance'),
    },
    { requiredKeys: ['operation', 'symbols', 'timeframe', 'start_date', 'end_date'] },
  ),
);

describe('data-collection-proxy with arbitrary JSON', () => {
  beforeEach(() => {
    vi.stubEnv('DATASET_BUCKET', 'tradai-dev-market-data');
    serveObjects(s3Mock, { 'datasets/binance/BTC_USDT_USDT/1h/manifest.json': JSON.stringify(manifest()) });
  });

  it('answers or rejects with a ValidationError, never a TypeError', async () => {
    // Act
    const census = await censusOfRejections(handler, events);

    // Assess
    expect(census.rejected).toBeGreaterThan(1_000);
    expect(census.answered).toBeGreaterThan(50);
  });
});
