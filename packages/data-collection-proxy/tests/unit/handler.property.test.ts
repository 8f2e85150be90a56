import { S3Client } from '@aws-sdk/client-s3';
import { censusOfRejections } from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../src';
import { manifest, serveObjects } from '../helpers/manifests';

const s3Mock = mockClient(S3Client);

/** Arbitrary JSON, and requests whose keys are right but whose values are anything. */
const events = fc.oneof(
  fc.jsonValue(),
  fc.record(
    {
      operation: fc.oneof(fc.constant('check-freshness'), fc.jsonValue()),
      symbols: fc.oneof(fc.array(fc.constantFrom('BTC/USDT:USDT', 'BTC/USDT', 'btc', '')), fc.jsonValue()),
      timeframe: fc.oneof(fc.constantFrom('1h', '1M', '7m'), fc.jsonValue()),
      start_date: fc.oneof(fc.constantFrom('2024-01-01', '2024-02-30', '2030-01-01'), fc.jsonValue()),
      end_date: fc.oneof(fc.constantFrom('2024-06-01', '2023-01-01'), fc.jsonValue()),
      exchange: fc.oneof(fc.constantFrom('binance', 'Bybit'), fc.jsonValue()),
    },
    { requiredKeys: [] },
  ),
);

describe('data-collection-proxy with arbitrary JSON', () => {
  beforeEach(() => {
    vi.stubEnv('DATASET_BUCKET', 'tradai-dev-market-data');
    serveObjects(s3Mock, { 'datasets/binance/BTC_USDT_USDT/1h/manifest.json': JSON.stringify(manifest()) });
  });

  it('answers or rejects with a ValidationError, never a TypeError', async () => {
    // Act
    const census = await censusOfRejections({ handler, events, allowedErrors: ['ValidationError'] });

    // Assess
    expect(census.answered + census.rejected).toBe(1_500);
    expect(census.rejected).toBeGreaterThan(1_000);
  });
});
