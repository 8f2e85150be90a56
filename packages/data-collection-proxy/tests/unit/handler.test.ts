import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { awsError, fakeContext } from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../src';
import { manifest, serveObjects } from '../helpers/manifests';

const s3Mock = mockClient(S3Client);
const invoke = (input: unknown) => handler(input, fakeContext('tradai-dev-data-collection-proxy'));

const BTC_KEY = 'datasets/binance/BTC_USDT_USDT/1h/manifest.json';
const ETH_KEY = 'datasets/binance/ETH_USDT_USDT/1h/manifest.json';
const request = {
  operation: 'check-freshness',
  symbols: ['BTC/USDT:USDT', 'ETH/USDT:USDT'],
  timeframe: '1h',
  start_date: '2024-01-01',
  end_date: '2024-06-01',
};

describe('data-collection-proxy check-freshness', () => {
  beforeEach(() => {
    vi.clearAllMocks();
    s3Mock.reset();
    vi.stubEnv('DATASET_BUCKET', 'tradai-dev-market-data');
    vi.useFakeTimers({ now: new Date('2026-11-25T12:00:00Z'), toFake: ['Date'] });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('reports all fresh when every manifest covers the range', async () => {
    // Prepare
    serveObjects(s3Mock, {
      [BTC_KEY]: JSON.stringify(manifest()),
      [ETH_KEY]: JSON.stringify(manifest({ symbol: 'ETH/USDT:USDT' })),
    });

    // Act
    const report = await invoke(request);

    // Assess
    expect(report).toEqual({
      all_fresh: true,
      exchange: 'binance',
      timeframe: '1h',
      checked_at: '2026-11-25T12:00:00.000Z',
      symbols: [
        { symbol: 'BTC/USDT:USDT', fresh: true, reason: null, covered_until: '2024-07-01T00:00:00Z' },
        { symbol: 'ETH/USDT:USDT', fresh: true, reason: null, covered_until: '2024-07-01T00:00:00Z' },
      ],
    });
    expect(s3Mock).toReceiveCommandWith(GetObjectCommand, { Bucket: 'tradai-dev-market-data', Key: BTC_KEY });
    expect(s3Mock).toReceiveCommandWith(GetObjectCommand, { Bucket: 'tradai-dev-market-data', Key: ETH_KEY });
  });

  it('treats a missing manifest as not fresh, naming where it looked', async () => {
    // Prepare
    serveObjects(s3Mock, { [BTC_KEY]: JSON.stringify(manifest()) });

    // Act
    const report = await invoke(request);

    // Assess
    expect(report.all_fresh).toBe(false);
    expect(report.symbols[1]).toEqual({
      symbol: 'ETH/USDT:USDT',
      fresh: false,
      reason: `no dataset manifest at s3://tradai-dev-market-data/${ETH_KEY}`,
      covered_until: null,
    });
    expect(report.symbols[0]?.fresh).toBe(true);
  });

  it('is not fresh when the data ends before the requested end', async () => {
    // Prepare
    serveObjects(s3Mock, {
      [BTC_KEY]: JSON.stringify(
        manifest({ coverage: { start: '2023-01-01T00:00:00Z', end: '2024-05-15T00:00:00Z' } }),
      ),
    });

    // Act
    const report = await invoke({ ...request, symbols: ['BTC/USDT:USDT'] });

    // Assess
    expect(report.symbols[0]).toEqual({
      symbol: 'BTC/USDT:USDT',
      fresh: false,
      reason: 'data covers until 2024-05-15T00:00:00Z, the backtest needs it until 2024-06-01T00:00:00Z',
      covered_until: '2024-05-15T00:00:00Z',
    });
  });

  it('is not fresh when the data starts after the requested start', async () => {
    // Prepare
    serveObjects(s3Mock, {
      [BTC_KEY]: JSON.stringify(
        manifest({ coverage: { start: '2024-02-01T00:00:00Z', end: '2024-07-01T00:00:00Z' } }),
      ),
    });

    // Act
    const [btc] = (await invoke({ ...request, symbols: ['BTC/USDT:USDT'] })).symbols;

    // Assess
    expect(btc?.fresh).toBe(false);
    expect(btc?.reason).toBe(
      'data starts at 2024-02-01T00:00:00Z, the backtest needs it from 2024-01-01T00:00:00Z',
    );
  });

  it('needs a range reaching the present only up to the last candle that can have closed', async () => {
    // Prepare: now is 12:00; one 1h candle plus the 3600 s grace leaves 10:00 as the bar.
    const upTo = (end: string) =>
      JSON.stringify(manifest({ coverage: { start: '2023-01-01T00:00:00Z', end } }));
    serveObjects(s3Mock, {
      [BTC_KEY]: upTo('2026-11-25T10:00:00Z'),
      [ETH_KEY]: JSON.stringify(
        manifest({
          symbol: 'ETH/USDT:USDT',
          coverage: { start: '2023-01-01T00:00:00Z', end: '2026-11-25T09:00:00Z' },
        }),
      ),
    });

    // Act
    const report = await invoke({ ...request, end_date: '2027-01-01' });

    // Assess
    expect(report.symbols.map((s) => s.fresh)).toEqual([true, false]);
    expect(report.symbols[1]?.reason).toContain('needs it until 2026-11-25T10:00:00Z');
  });

  it('honours a configured grace period and exchange', async () => {
    // Prepare
    vi.stubEnv('FRESHNESS_GRACE_SECONDS', '0');
    const key = 'datasets/bybit/BTC_USDT_USDT/1h/manifest.json';
    serveObjects(s3Mock, {
      [key]: JSON.stringify(
        manifest({
          exchange: 'bybit',
          coverage: { start: '2023-01-01T00:00:00Z', end: '2026-11-25T10:00:00Z' },
        }),
      ),
    });

    // Act
    const report = await invoke({
      ...request,
      symbols: ['BTC/USDT:USDT'],
      exchange: 'bybit',
      end_date: '2027-01-01',
    });

    // Assess
    expect(report.exchange).toBe('bybit');
    expect(report.symbols[0]?.reason).toContain('needs it until 2026-11-25T11:00:00Z');
  });

  it.each([
    ['not JSON', '{"schema_version": 1,', 'is not valid JSON'],
    ['missing a field', JSON.stringify({ ...manifest(), coverage: undefined }), 'is malformed (coverage:'],
    [
      'of another version',
      JSON.stringify({ ...manifest(), schema_version: 2 }),
      'is malformed (schema_version:',
    ],
    [
      'for another symbol',
      JSON.stringify(manifest({ symbol: 'ETH/USDT:USDT' })),
      'manifest describes binance ETH/USDT:USDT 1h',
    ],
  ])('treats a manifest %s as not fresh', async (_label, body, reason) => {
    // Prepare
    serveObjects(s3Mock, { [BTC_KEY]: body });

    // Act
    const [btc] = (await invoke({ ...request, symbols: ['BTC/USDT:USDT'] })).symbols;

    // Assess
    expect(btc?.fresh).toBe(false);
    expect(btc?.reason).toContain(reason);
  });

  it('raises TransientAwsError when S3 throttles', async () => {
    // Prepare
    s3Mock.on(GetObjectCommand).rejects(awsError('SlowDown', 503, 'Please reduce your request rate.'));

    // Act & Assess
    await expect(invoke(request)).rejects.toMatchObject({
      name: 'TransientAwsError',
      message: expect.stringContaining(`s3:GetObject s3://tradai-dev-market-data/`),
    });
  });

  it('raises ConfigurationError when S3 denies the read', async () => {
    // Prepare
    s3Mock.on(GetObjectCommand).rejects(awsError('AccessDenied', 403));

    // Act & Assess
    await expect(invoke(request)).rejects.toMatchObject({ name: 'ConfigurationError' });
  });

  it.each([
    [{ ...request, operation: 'delete-everything' }, 'operation'],
    [{ ...request, operation: undefined }, 'operation'],
    [{ ...request, symbols: [] }, 'symbols'],
    [{ ...request, symbols: ['BTCUSDT'] }, 'symbols[0]'],
    [{ ...request, symbols: ['BTC/USDT', 'BTC/USDT'] }, 'symbols'],
    [{ ...request, timeframe: '2m' }, 'timeframe'],
    [{ ...request, start_date: '2024-06-02' }, 'end_date'],
    [{ ...request, end_date: undefined }, 'end_date'],
    [{ ...request, exchange: '../binance' }, 'exchange'],
    [{ ...request, start_date: '2026-12-01', end_date: '2027-01-01' }, 'start_date'],
  ])('rejects %j with a ValidationError naming %s, reading nothing', async (input, field) => {
    // Act
    const act = invoke(input);

    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining(`${field}: `),
    });
    expect(s3Mock).not.toHaveReceivedAnyCommand();
  });

  it('raises ConfigurationError naming DATASET_BUCKET when it is not set', async () => {
    // Prepare
    vi.stubEnv('DATASET_BUCKET', undefined);

    // Act & Assess
    await expect(invoke(request)).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringContaining('DATASET_BUCKET'),
    });
  });
});
