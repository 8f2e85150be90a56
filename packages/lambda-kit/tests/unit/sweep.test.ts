import { describe, expect, it } from 'vitest';
import { expandSweep, sweepExecutionInput, sweepLimitsOf } from '../../src/sweep';
import { SPEC_TEST_INPUT } from '../../src/testing';

const limits = { maxVariants: 1_000, maxConcurrency: 50 };
const { run_id: _, ...base } = SPEC_TEST_INPUT;
const sweep = (extra: Record<string, unknown>) => ({ ...base, sweep_id: 'sw-1', ...extra });

describe('expandSweep', () => {
  it('expands a grid into every combination, each a whole backtest request with run id <sweep_id>-<index>', () => {
    // Act
    const expanded = expandSweep(
      sweep({ grid: { stoploss: [-0.05, -0.1, -0.2], minimal_roi: [{ '0': 0.1 }, { '0': 0.05 }] } }),
      limits,
    );

    // Assess
    expect(expanded.variants).toHaveLength(6);
    expect(expanded.variants.map((v) => v.run_id)).toEqual([
      'sw-1-0',
      'sw-1-1',
      'sw-1-2',
      'sw-1-3',
      'sw-1-4',
      'sw-1-5',
    ]);
    expect(expanded.variants[3]).toMatchObject({
      strategy_name: 'MomentumStrategy',
      start_date: '2024-01-01',
      end_date: '2024-06-01',
      sweep_id: 'sw-1',
      workflow: 'backtest',
      config_overrides: { stoploss: -0.1, minimal_roi: { '0': 0.05 } },
    });
    expect(expanded).toMatchObject({
      max_concurrency: 10,
      tolerated_failure_percentage: 10,
      rank_by: 'sharpe_ratio',
      top_n: 10,
    });
    expect(expanded.data).toEqual({
      symbols: ['BTC/USDT:USDT'],
      timeframe: '1h',
      start_date: '2024-01-01',
      end_date: '2024-06-01',
    });
  });

  it('refuses a sweep over the cap by its count, before expanding it', () => {
    // Act
    const act = () =>
      expandSweep(
        sweep({
          grid: {
            stoploss: Array.from({ length: 40 }, (_, i) => -(i + 1) / 100),
            fee: Array.from({ length: 26 }, (_, i) => i / 1000),
          },
        }),
        limits,
      );

    // Assess
    expect(act).toThrow(
      expect.objectContaining({
        name: 'ValidationError',
        message: 'Invalid sweep request: grid: makes 1040 variants; a sweep may run at most 1000',
      }),
    );
  });

  it.each([
    ['a setting no run may override', { grid: { exchange: ['kraken'] } }, 'grid.exchange'],
    [
      'a bad value in one variant',
      { variants: [{ stoploss: -0.1 }, { stoploss: 2 }] },
      'variants[1].config_overrides.stoploss: must be below 0',
    ],
    [
      'both a grid and variants',
      { grid: { stoploss: [-0.1] }, variants: [{}] },
      'grid: give either a grid or a variants list',
    ],
    ['neither', {}, 'grid: give either a grid or a variants list'],
    [
      'a concurrency over the cap',
      { variants: [{}], max_concurrency: 51 },
      'max_concurrency: must be at most 50',
    ],
    [
      'a sweep id too long for its variants',
      { variants: [{}], sweep_id: 'x'.repeat(59) },
      'sweep_id: must be 1-58 characters',
    ],
  ])('names the field of %s', (_, extra, message) => {
    expect(() => expandSweep(sweep(extra), limits)).toThrow(
      expect.objectContaining({ name: 'ValidationError', message: expect.stringContaining(message) }),
    );
  });

  it.each([
    ['another workflow', { workflow: 'backtest', variants: [{}] }, 'workflow: must be "backtest-sweep"'],
  ])('refuses %s named in `workflow`', (_, extra, message) => {
    expect(() => expandSweep(sweep(extra), limits)).toThrow(
      expect.objectContaining({ name: 'ValidationError', message: expect.stringContaining(message) }),
    );
  });

  it('takes `workflow: "backtest-sweep"` (the queue names a sweep so) and keeps it out of the variants', () => {
    // Act
    const expanded = expandSweep(sweep({ workflow: 'backtest-sweep', variants: [{}] }), limits);

    // Assess
    expect(expanded.variants[0]).toMatchObject({ run_id: 'sw-1-0', workflow: 'backtest' });
  });
});

describe('a sweep against the time its waves need', () => {
  // The stage's defaults: a 7-day machine, a 50-minute data sync, 90 minutes a wave.
  const timed = sweepLimitsOf({
    MAX_SWEEP_VARIANTS: 1_000,
    MAX_SWEEP_CONCURRENCY: 50,
    SWEEP_TIMEOUT_SECONDS: 604_800,
    DATA_SYNC_TIMEOUT_SECONDS: 3_000,
    SWEEP_WAVE_SECONDS: 5_400,
  });
  const variants = (count: number) =>
    Array.from({ length: count }, (_, i) => ({ stoploss: -0.01 - i / 10_000 }));

  it.each([
    [1_000, 10, 100],
    [1_000, 50, 20],
    [111, 1, 111],
  ])('accepts %i variants at %i at a time (%i waves of 90 minutes, within 7 days)', (count, concurrency) => {
    expect(
      expandSweep(sweep({ variants: variants(count), max_concurrency: concurrency }), timed).variants,
    ).toHaveLength(count);
  });

  it('refuses a sweep whose waves outlast the machine, naming the waves, the hours and the concurrency that fits', () => {
    // Act
    const act = () => expandSweep(sweep({ variants: variants(1_000), max_concurrency: 5 }), timed);

    // Assess
    expect(act).toThrow(
      expect.objectContaining({
        name: 'ValidationError',
        issues: [
          {
            field: 'max_concurrency',
            message:
              "1000 variants, 5 at a time, run in 200 waves: up to 300 h, beyond the 166.9 h a sweep's variants " +
              'may take. Run at least 10 at a time, or split the sweep',
          },
        ],
      }),
    );
  });

  it('says to split a sweep no concurrency within the cap can fit', () => {
    // Prepare: a stage that runs at most 2 at once.
    const narrow = { ...timed, maxConcurrency: 2 };

    // Act
    const act = () => expandSweep(sweep({ variants: variants(1_000), max_concurrency: 2 }), narrow);

    // Assess
    expect(act).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/500 waves.*Split the sweep$/) }),
    );
  });
});

describe('sweepExecutionInput', () => {
  it('gives the same input for a sweep sent with and without its `workflow`, whatever the key order', () => {
    // Act
    const fromQueue = sweepExecutionInput({
      workflow: 'backtest-sweep',
      sweep_id: 'a',
      grid: { stoploss: [-0.1] },
    });
    const fromApi = sweepExecutionInput({ grid: { stoploss: [-0.1] }, sweep_id: 'a' });

    // Assess
    expect(fromQueue).toBe(fromApi);
    expect(JSON.parse(fromQueue)).toEqual({ sweep_id: 'a', grid: { stoploss: [-0.1] } });
  });
});
