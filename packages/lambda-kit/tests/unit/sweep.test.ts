import { describe, expect, it } from 'vitest';
import {
  expandSweep,
  sweepExecutionInput,
  sweepExecutionNameOf,
  sweepLimitsOf,
  sweepStage,
  sweepStageSchema,
} from '../../src/sweep';
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
      { variants: [{}], sweep_id: 'x'.repeat(57) },
      'sweep_id: must be 1-56 characters',
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
    FARGATE_SPOT_VCPU_QUOTA: 100,
    MAX_SWEEP_USD: 1_000_000,
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

describe('a sweep with a held-out tail (out_of_sample)', () => {
  it('runs the variants on the timerange less its last quarter, in whichever form the dates came, and checks the data of the whole', () => {
    // Act: the spec's dates, 2024-01-01 to 2024-06-01 in config_overrides.backtester (152 days).
    const expanded = expandSweep(
      sweep({ variants: [{ stoploss: -0.1 }, { stoploss: -0.2 }], out_of_sample: {} }),
      limits,
    );

    // Assess: 38 days held out (a quarter, rounded), from 2024-04-24.
    expect(expanded.out_of_sample).toEqual({
      start_date: '2024-04-24',
      end_date: '2024-06-01',
      top_n: 5,
      share: Math.round((38 / 114) * 1e6) / 1e6,
    });
    expect(expanded.variants.map((v) => v.config_overrides?.stoploss)).toEqual([-0.1, -0.2]);
    for (const variant of expanded.variants) {
      expect(variant).toMatchObject({
        start_date: '2024-01-01',
        end_date: '2024-04-24',
        config_overrides: { backtester: { START_DATE: '2024-01-01', END_DATE: '2024-04-24' } },
      });
    }
    expect(expanded.data).toMatchObject({ start_date: '2024-01-01', end_date: '2024-06-01' });
  });

  it('refuses a tail that leaves no whole day on one side, naming out_of_sample', () => {
    // Act
    const act = () =>
      expandSweep(
        sweep({
          config_overrides: {},
          start_date: '2024-01-01',
          end_date: '2024-01-02T12:00Z',
          variants: [{}],
          out_of_sample: { holdout_fraction: 0.05 },
        }),
        limits,
      );

    // Assess
    expect(act).toThrow(
      expect.objectContaining({
        name: 'ValidationError',
        message: expect.stringContaining('out_of_sample: a 0.05 tail of 1 whole days'),
      }),
    );
  });
});

describe('batching (ItemBatcher)', () => {
  it.each([
    [50, { items_per_batch: 10, max_concurrency: 5 }],
    [8, { items_per_batch: 8, max_concurrency: 1 }],
    [25, { items_per_batch: 10, max_concurrency: 2 }],
  ])('runs %d variants at once as batches of at most 10, never more at once', (concurrency, batching) => {
    // Act
    const expanded = expandSweep(sweep({ variants: [{}], max_concurrency: concurrency }), limits);

    // Assess
    expect(expanded.batching).toEqual(batching);
    expect(batching.items_per_batch * batching.max_concurrency).toBeLessThanOrEqual(concurrency);
  });
});

describe('sweepExecutionNameOf', () => {
  it('names a sweep by its sweep_id and a re-run of its failures <sweep_id>-rerun-<attempt>; refuses a bad re-run by field', () => {
    expect(sweepExecutionNameOf(sweep({ variants: [{}] }), limits)).toBe('sw-1');
    expect(sweepExecutionNameOf({ rerun_failed: { sweep_id: 'sw-1', attempt: 3 } }, limits)).toBe(
      'sw-1-rerun-3',
    );
    expect(() => sweepExecutionNameOf({ rerun_failed: { sweep_id: 'sw-1', attempt: 100 } }, limits)).toThrow(
      'Invalid sweep re-run: rerun_failed.attempt: must be at most 99',
    );
  });
});

describe('a sweep against its budget and the Fargate quota', () => {
  const stage = (settings: Partial<Record<'FARGATE_SPOT_VCPU_QUOTA' | 'MAX_SWEEP_USD', number>>) =>
    sweepLimitsOf({
      MAX_SWEEP_VARIANTS: 10_000,
      MAX_SWEEP_CONCURRENCY: 1_000,
      SWEEP_TIMEOUT_SECONDS: 604_800,
      DATA_SYNC_TIMEOUT_SECONDS: 3_000,
      SWEEP_WAVE_SECONDS: 5_400,
      FARGATE_SPOT_VCPU_QUOTA: 100,
      MAX_SWEEP_USD: 250,
      ...settings,
    });
  const values = (n: number, step: number) => Array.from({ length: n }, (_, i) => (i + 1) * step);
  const grid = (n: number) =>
    n <= 1_000
      ? { stoploss: values(n, -0.001) }
      : { stoploss: values(n / 100, -0.001), fee: values(100, 0.0001) };

  it('prices a sweep before it starts: children, transitions, Spot vCPU-hours and dollars, at AWS rates', () => {
    // Act: 1,000 variants of up to 90 minutes, 10 to a batch.
    const { cost } = expandSweep(sweep({ grid: grid(1_000), max_concurrency: 50 }), stage({}));

    // Assess
    expect(cost).toMatchObject({
      backtest_executions: 1_000,
      child_executions: 100,
      fargate_vcpu_hours: 1_500,
    });
    expect(cost.state_transitions).toBe(11 + 100 * 2 + 1_000 * 16);
    // 1,500 task-hours x (1 vCPU x $0.012144 + 2 GB x $0.0013335) on Spot
    expect(cost.usd.fargate_spot).toBeCloseTo(1_500 * (0.04048 * 0.3 + 2 * 0.004445 * 0.3), 1);
    expect(cost.usd.fargate_on_demand).toBeGreaterThan(cost.usd.fargate_spot * 3);
  });

  it('refuses a sweep whose estimate is over the stage budget, naming the cost and the budget', () => {
    // Act
    const act = () =>
      expandSweep(
        sweep({ grid: grid(10_000), max_concurrency: 500 }),
        stage({ FARGATE_SPOT_VCPU_QUOTA: 1_000, MAX_SWEEP_USD: 100 }),
      );

    // Assess
    expect(act).toThrow(
      expect.objectContaining({
        name: 'ValidationError',
        message: expect.stringMatching(
          /^Invalid sweep request: grid: 10000 variants would cost up to \$\d+\.\d\d .* over this stage's \$100 a sweep/,
        ),
      }),
    );
  });

  it('caps the concurrency at the Fargate Spot quota, one variant a vCPU, and says so', () => {
    // Act
    const act = () =>
      expandSweep(sweep({ variants: [{}], max_concurrency: 7 }), stage({ FARGATE_SPOT_VCPU_QUOTA: 6 }));

    // Assess: AWS's default quota, 6 vCPU, runs 6 at once.
    expect(act).toThrow(
      "Invalid sweep request: max_concurrency: must be at most 6 (the account's Fargate Spot quota, 6 vCPU, over 1 vCPU a variant)",
    );
  });
});

describe('sweepStageSchema', () => {
  it('takes the places sweepStage builds, and no other key', () => {
    for (const stage of [
      sweepStage('runs', 'sw-1', 'in_sample', 0, 10),
      sweepStage('runs', 'sw-1', 'rerun', 3, 10),
      sweepStage('runs', 'sw-1', 'holdout', 0, 100),
    ])
      expect(sweepStageSchema.safeParse(stage).success).toBe(true);
    const stage = sweepStage('runs', 'sw-1', 'in_sample', 0, 10);
    expect(
      sweepStageSchema.safeParse({ ...stage, items: { bucket: 'runs', key: 'runs/../secrets.json' } })
        .success,
    ).toBe(false);
    expect(
      sweepStageSchema.safeParse({
        ...stage,
        results: { bucket: 'runs', prefix: 'sweeps/sw-1/results/../x' },
      }).success,
    ).toBe(false);
  });
});
