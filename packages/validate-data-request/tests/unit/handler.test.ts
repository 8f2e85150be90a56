import { censusOfRejections, fakeContext } from '@tradai/lambda-kit/testing';
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../src';

const request = {
  symbols: ['BTC/USDT:USDT', 'ETH/USDT:USDT'],
  timeframe: '1h',
  start_date: '2024-01-01',
  end_date: '2024-06-01',
};
const invoke = (body: unknown, execution_name = 'sync-1') =>
  handler({ request: body, execution_name }, fakeContext('tradai-dev-validate-data-request'));

describe('validate-data-request', () => {
  beforeEach(() => {
    vi.stubEnv('SUPPORTED_EXCHANGES', 'binance,bybit,okx');
  });

  it('normalises a request: the sync id, the default exchange, no requester', async () => {
    await expect(invoke(request)).resolves.toEqual({
      ...request,
      sync_id: 'sync-1',
      exchange: 'binance',
      requested_by: null,
    });
  });

  it('accepts the nested input a backtest sends, and keeps who asked', async () => {
    // Act
    const normalised = await invoke(
      {
        ...request,
        requested_by: { workflow: 'backtest', run_id: 'bt-42' },
        AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID:
          'arn:aws:states:eu-west-1:123456789012:execution:tradai-dev-backtest:bt-42',
      },
      'bt-42-data-sync',
    );

    // Assess
    expect(normalised).toMatchObject({
      sync_id: 'bt-42-data-sync',
      requested_by: { workflow: 'backtest', run_id: 'bt-42' },
    });
    expect(normalised).not.toHaveProperty('AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID');
  });

  it('names every bad field at once', async () => {
    await expect(
      invoke({ ...request, symbols: ['BTCUSDT'], timeframe: '7m', end_date: '2099-01-01', extra: 1 }),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(
        /^Invalid data sync request: symbols\[0\]: .*; timeframe: .*; extra: is not allowed/,
      ),
    });
  });

  it.each([
    ['an end in the future', { end_date: '2099-01-01' }, 'end_date: must not be in the future'],
    [
      'an end before the start',
      { start_date: '2024-06-01', end_date: '2024-01-01' },
      'end_date: must be after start_date',
    ],
    [
      'more than five years',
      { start_date: '2018-01-01', end_date: '2024-01-01' },
      'end_date: must be at most 1827 days after start_date',
    ],
    [
      'over a million candles a symbol',
      { timeframe: '1m', start_date: '2021-01-01', end_date: '2024-01-01' },
      'end_date: must span at most 1000000 1m candles per symbol',
    ],
    [
      '51 symbols',
      { symbols: Array.from({ length: 51 }, (_, i) => `C${i}/USDT`) },
      'symbols: must list at most 50 symbols',
    ],
    ['an unsupported exchange', { exchange: 'kraken' }, 'exchange: must be one of binance, bybit, okx'],
  ])('refuses %s, naming the field', async (_, change, message) => {
    await expect(invoke({ ...request, ...change })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining(message),
    });
  });

  it('refuses an execution name that could not be a sync id', async () => {
    await expect(invoke(request, '../x')).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('execution_name:'),
    });
  });

  it('answers any input with a normalised request or a named ValidationError', async () => {
    // Prepare
    const events = fc.oneof(
      fc.record({
        request: fc.record({
          ...Object.fromEntries(Object.entries(request).map(([k, v]) => [k, fc.constant(v)])),
          exchange: fc.constantFrom('binance', 'okx', 'kraken', 'Not An Exchange'),
        }),
        execution_name: fc.constant('s'),
      }),
      fc.record({ request: fc.anything(), execution_name: fc.string() }),
      fc.anything(),
    );

    // Act
    const census = await censusOfRejections(handler, events, { numRuns: 500 });

    // Assess
    expect(census.answered).toBeGreaterThan(0);
    expect(census.rejected).toBeGreaterThan(0);
  });
});
