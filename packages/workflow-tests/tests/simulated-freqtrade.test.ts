/*
 * The simulated freqtrade (packages/local-aws/src/freqtrade.ts) and its container (tasks.ts): trades
 * that obey freqtrade's invariants, tables that are what transform-results computes from those
 * trades, parameters that change the trades, and freqtrade 2025's zip when a run has a parameter
 * file, which transform-results verifies.
 */
import { readFileSync } from 'node:fs';
import {
  LOCAL_BUCKETS,
  type ResultRequest,
  runWorkflow,
  seedWorld,
  simulatedFreqtradeResult,
  TABLE,
} from '@tradai/local-aws';
import * as transformResults from '@tradai/transform-results';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';

const repoFile = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url));
const SAMPLE_BACKTEST = JSON.parse(repoFile('events/backtest.json').toString('utf8'));
const SAMPLE_SWEEP = JSON.parse(repoFile('events/backtest-sweep.json').toString('utf8'));
/** StrategyTestV3's manifest, as its strategy package stores it beside its config. */
const MANIFEST = repoFile('fixtures/freqtrade/StrategyTestV3.strategy.json');
const MANIFEST_KEY = 'strategies/StrategyTestV3/1.0.0/strategy.json';
const STRATEGY = 'StrategyTestV3';
const MINUTE = 60_000;

/** The seeded world with StrategyTestV3's manifest, so a run may set its parameters. */
const worldWithManifest = () => {
  const world = seedWorld();
  world.putObject(LOCAL_BUCKETS.strategies, MANIFEST_KEY, MANIFEST, false);
  return world;
};

interface FileTrade {
  pair: string;
  open_timestamp: number;
  close_timestamp: number;
  open_date: string;
  close_date: string;
  open_rate: number;
  close_rate: number;
  profit_ratio: number;
  profit_abs: number;
  exit_reason: string;
  stake_amount: number;
}
type Stats = Record<string, unknown> & { trades: FileTrade[] };

const statsOf = (result: Record<string, unknown>): Stats =>
  (result.strategy as Record<string, Stats>)[STRATEGY] as Stats;
const sum = (values: readonly number[]) => values.reduce((total, v) => total + v, 0);
const near = (a: number, b: number, tolerance = 1e-9) =>
  Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(b));

/** The figures a file holds of its own, which transform-results computes from the trades when absent. */
const OWN_FIGURES = [
  'sharpe',
  'sortino',
  'calmar',
  'sqn',
  'cagr',
  'expectancy',
  'expectancy_ratio',
  'profit_factor',
  'max_drawdown_account',
  'max_relative_drawdown',
  'max_drawdown_abs',
  'winning_days',
  'draw_days',
  'losing_days',
  'final_balance',
  'backtest_days',
] as const;
const SUMMARY_FIGURES = [
  'total_trades',
  'win_rate',
  'total_return',
  'profit_factor',
  'max_drawdown',
  'max_drawdown_account',
  'max_relative_drawdown',
  'max_drawdown_abs',
  'sharpe_ratio',
  'sortino_ratio',
  'calmar_ratio',
  'sqn',
  'expectancy',
  'expectancy_ratio',
  'cagr',
  'backtest_days',
  'winning_days',
  'draw_days',
  'losing_days',
] as const;

const summaryOf = (stats: Record<string, unknown>) =>
  transformResults.summarise(
    STRATEGY,
    stats as unknown as Parameters<typeof transformResults.summarise>[1],
  ) as unknown as Record<string, number | null>;

/** A request freqtrade could be asked: pairs, timeframe, timerange, max_open_trades and the settings a quant varies. */
const requests = fc
  .record({
    pairs: fc.subarray(['ETH/BTC', 'ADA/BTC', 'XLM/BTC', 'TRX/BTC', 'LTC/BTC', 'XRP/BTC'], {
      minLength: 1,
      maxLength: 5,
    }),
    timeframe: fc.constantFrom('1m', '5m', '15m', '1h', '4h', '1d' as const),
    start: fc.integer({ min: Date.parse('2018-01-01'), max: Date.parse('2025-06-01') }),
    candles: fc.integer({ min: 0, max: 2_500 }),
    /** An end that need not fall on a candle bound: up to a candle more. */
    slack: fc.double({ min: 0, max: 1, noNaN: true }),
    maxOpenTrades: fc.integer({ min: -1, max: 6 }),
    // Mostly thresholds the toy market reaches often, so most cases trade; any of StrategyTestV3's range too.
    buyRsi: fc.oneof(fc.integer({ min: 35, max: 50 }), fc.integer({ min: 0, max: 50 })),
    sellRsi: fc.integer({ min: 50, max: 100 }),
    stoploss: fc.double({ min: -0.5, max: -0.005, noNaN: true }),
    stoplossIn: fc.constantFrom('config', 'parameters'),
    roi: fc.option(
      fc.dictionary(
        fc.integer({ min: 0, max: 600 }).map(String),
        fc.double({ min: -0.01, max: 0.1, noNaN: true }),
        { minKeys: 1, maxKeys: 4 },
      ),
    ),
    trailing: fc.boolean(),
    fee: fc.double({ min: 0.0001, max: 0.01, noNaN: true }),
    stake: fc.constantFrom(0.001, 0.003, 'unlimited'),
    release: fc.constantFrom(2024, 2025 as const),
  })
  .map((r): ResultRequest => {
    const tfMs = { '1m': 1, '5m': 5, '15m': 15, '1h': 60, '4h': 240, '1d': 1440 }[r.timeframe] * MINUTE;
    return {
      strategy: STRATEGY,
      symbols: r.pairs,
      timeframe: r.timeframe,
      start: new Date(r.start).toISOString(),
      end: new Date(r.start + (r.candles + r.slack) * tfMs).toISOString(),
      config: {
        max_open_trades: r.maxOpenTrades,
        stake_currency: 'BTC',
        stake_amount: r.stake,
        dry_run_wallet: 0.01,
        fee: r.fee,
        trailing_stop: r.trailing,
        ...(r.stoplossIn === 'config' ? { stoploss: r.stoploss } : {}),
        ...(r.roi ? { minimal_roi: r.roi } : {}),
      },
      parameters: {
        buy: { buy_rsi: r.buyRsi },
        sell: { sell_rsi: r.sellRsi },
        ...(r.stoplossIn === 'parameters' ? { stoploss: { stoploss: r.stoploss } } : {}),
      },
      release: r.release,
    };
  });

describe('the simulated freqtrade', () => {
  it("obeys freqtrade's invariants and writes the tables transform-results computes from its trades, for any request", () => {
    fc.assert(
      fc.property(requests, (request) => {
        // Act
        const result = simulatedFreqtradeResult(request, transformResults);

        // Assess: the trades, against freqtrade's invariants
        const stats = statsOf(result);
        const config = request.config ?? {};
        const start = Date.parse(request.start);
        const end = Date.parse(request.end);
        const { trades } = stats;
        for (const t of trades) {
          expect(t.close_timestamp).toBeGreaterThan(t.open_timestamp);
          expect(t.open_timestamp).toBeGreaterThanOrEqual(start);
          expect(t.close_timestamp).toBeLessThanOrEqual(end);
          expect(t.open_timestamp).toBeGreaterThanOrEqual(stats.backtest_start_ts as number);
          expect(t.close_timestamp).toBeLessThanOrEqual(stats.backtest_end_ts as number);
          expect(request.symbols).toContain(t.pair);
          expect(Date.parse(t.open_date)).toBe(t.open_timestamp);
          expect(Date.parse(t.close_date)).toBe(t.close_timestamp);
          // stoploss cuts a losing trade at its stop; ROI exits with exactly a step's profit
          if (t.exit_reason === 'stop_loss') {
            const stoploss = (config.stoploss ?? request.parameters?.stoploss?.stoploss) as number;
            expect(near(t.close_rate, t.open_rate * (1 + stoploss))).toBe(true);
          }
          if (t.exit_reason === 'roi')
            expect(Object.values(stats.minimal_roi as Record<string, number>)).toContainEqual(
              expect.closeTo(t.profit_ratio, 7),
            );
        }
        for (const pair of request.symbols) {
          const own = trades
            .filter((t) => t.pair === pair)
            .sort((a, b) => a.open_timestamp - b.open_timestamp);
          for (let i = 1; i < own.length; i++)
            expect(own[i]?.open_timestamp).toBeGreaterThanOrEqual(own[i - 1]?.close_timestamp as number);
        }
        const maxOpen = config.max_open_trades as number;
        for (const t of trades) {
          const open = trades.filter(
            (o) => o.open_timestamp <= t.open_timestamp && t.open_timestamp < o.close_timestamp,
          );
          if (maxOpen >= 0) expect(open.length).toBeLessThanOrEqual(maxOpen);
        }
        if (maxOpen === 0) expect(trades).toEqual([]);

        // Assess: the tables, from the trades
        const balance = stats.starting_balance as number;
        const profit = sum(trades.map((t) => t.profit_abs));
        expect(stats.total_trades).toBe(trades.length);
        expect(near(stats.profit_total_abs as number, profit)).toBe(true);
        expect(near(stats.profit_total as number, profit / balance)).toBe(true);
        expect(near(stats.final_balance as number, balance + profit)).toBe(true);
        expect([stats.wins, stats.losses, stats.draws]).toEqual([
          trades.filter((t) => t.profit_ratio > 0).length,
          trades.filter((t) => t.profit_ratio < 0).length,
          trades.filter((t) => t.profit_ratio === 0).length,
        ]);
        const rows = stats.results_per_pair as Record<string, number | string>[];
        expect(rows.at(-1)).toMatchObject({ key: 'TOTAL', trades: trades.length });
        expect(near(rows.at(-1)?.profit_total_abs as number, profit)).toBe(true);
        for (const row of rows.slice(0, -1)) {
          const own = trades.filter((t) => t.pair === row.key);
          expect(row.trades).toBe(own.length);
          expect(near(row.profit_total_abs as number, sum(own.map((t) => t.profit_abs)))).toBe(true);
        }
        expect(rows.slice(0, -1).map((row) => row.key)).toHaveLength(new Set(request.symbols).size);
        const daily = stats.daily_profit as [string, number][];
        expect(near(sum(daily.map(([, v]) => v)), profit, 1e-7)).toBe(true);
        expect(daily.map(([day]) => day)).toEqual([...new Set(daily.map(([day]) => day))].sort());
        expect(Date.parse(`${stats.backtest_start as string}Z`)).toBe(stats.backtest_start_ts);
        expect(Date.parse(`${stats.backtest_end as string}Z`)).toBe(stats.backtest_end_ts);
        expect(stats.max_open_trades_setting).toBe(maxOpen);
        if (trades.length > 0 && (stats.max_drawdown_high as number) >= 0)
          expect(
            near(
              (stats.max_drawdown_high as number) - (stats.max_drawdown_low as number),
              stats.max_drawdown_abs as number,
            ),
          ).toBe(true);

        // Assess: every figure of its own is what transform-results computes from the trades alone
        const fromTrades: Record<string, unknown> = { ...stats };
        for (const figure of OWN_FIGURES) delete fromTrades[figure];
        const own = summaryOf(stats);
        const computed = summaryOf(fromTrades);
        for (const figure of SUMMARY_FIGURES) {
          const [a, b] = [own[figure], computed[figure]];
          if (a === null || b === null || a === undefined || b === undefined)
            expect({ figure, value: a ?? null }).toEqual({ figure, value: b ?? null });
          else expect({ figure, close: near(a, b, 1e-6) }).toEqual({ figure, close: true });
        }
        expect(computed.ratio_source).toMatchObject({ sharpe: 'trades', drawdown: 'trades', days: 'trades' });
      }),
      { numRuns: 150 },
    );
  });

  it('gives two runs that differ only in buy.buy_rsi different trades: the entry threshold moves', () => {
    // Prepare
    const request = (buyRsi: number): ResultRequest => ({
      strategy: STRATEGY,
      symbols: SAMPLE_BACKTEST.symbols,
      timeframe: '5m',
      start: '2018-01-10',
      end: '2018-01-30',
      config: { max_open_trades: 3, stake_currency: 'BTC', stake_amount: 0.001, dry_run_wallet: 0.01 },
      parameters: { buy: { buy_rsi: buyRsi } },
      release: 2025,
    });

    // Act
    const [deep, shallow] = [25, 35].map((rsi) =>
      statsOf(simulatedFreqtradeResult(request(rsi), transformResults)),
    );

    // Assess: 25 waits for deeper dips, so enters less often
    expect(deep?.trades).not.toEqual(shallow?.trades);
    expect(deep?.total_trades).toBeLessThan(shallow?.total_trades as number);
    expect(deep?.sharpe).not.toBe(shallow?.sharpe);
    // ...and one request gives one result
    expect(simulatedFreqtradeResult(request(25), transformResults)).toEqual(
      simulatedFreqtradeResult(request(25), transformResults),
    );
  });
});

describe('the simulated container and the parameter file', () => {
  const withParameters = (strategy_parameters: Record<string, unknown>) => ({
    ...SAMPLE_BACKTEST,
    config_overrides: { ...SAMPLE_BACKTEST.config_overrides, strategy_parameters },
  });
  const resultOf = (record: Record<string, unknown> | undefined) => JSON.parse(String(record?.result));

  it("writes freqtrade 2025's zip holding the parameter file it ran, and transform-results verifies it", async () => {
    // Prepare
    const world = worldWithManifest();
    const parameters = { buy: { buy_rsi: 30 }, sell: { sell_rsi: 70 }, stoploss: { stoploss: -0.08 } };

    // Act
    const run = await runWorkflow({ machine: 'backtest', input: withParameters(parameters), world });

    // Assess: the zip, named by .last_result.json, and the summary's verdict on it
    expect(run.status).toBe('SUCCEEDED');
    const results = `runs/${SAMPLE_BACKTEST.run_id}/results/`;
    const zip = world.keys(LOCAL_BUCKETS.runs, results).find((key) => key.endsWith('.zip')) as string;
    expect(zip).toMatch(/\/backtest-result-\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d\.zip$/);
    const pointer = world.getObject(LOCAL_BUCKETS.runs, `${results}.last_result.json`)?.body;
    expect(JSON.parse(new TextDecoder().decode(pointer))).toEqual({
      latest_backtest: zip.slice(results.length),
    });
    const summary = resultOf(run.record);
    expect(summary).toMatchObject({
      strategy: STRATEGY,
      parameters_verified: true,
      results_uri: `s3://${LOCAL_BUCKETS.runs}/${zip}`,
    });
    expect(summary.total_trades).toBeGreaterThan(0);
    // The zip stores the file byte for byte: the one prepare-config wrote
    const file = world.getObject(LOCAL_BUCKETS.runs, `runs/${SAMPLE_BACKTEST.run_id}/parameters.json`)?.body;
    const stem = zip.slice(results.length, -'.zip'.length);
    const bytes = world.getObject(LOCAL_BUCKETS.runs, zip)?.body as Uint8Array;
    const names = new TextDecoder('latin1').decode(bytes);
    for (const member of [`${stem}.json`, `${stem}_config.json`, `${stem}_${STRATEGY}.json`])
      expect(names).toContain(member);
    expect(JSON.parse(new TextDecoder().decode(file))).toMatchObject({
      strategy_name: STRATEGY,
      params: parameters,
    });
  });

  it("keeps today's JSON without a parameter file, and the real fixture for a strategy it does not simulate", async () => {
    // Act
    const simulated = await runWorkflow({
      machine: 'backtest',
      input: SAMPLE_BACKTEST,
      world: worldWithManifest(),
    });
    const fixture = await runWorkflow({ machine: 'backtest', caseName: 'HappyPath' });

    // Assess
    expect(resultOf(simulated.record)).toMatchObject({ parameters_verified: null });
    expect(resultOf(simulated.record).results_uri).toMatch(/\.json$/);
    expect(resultOf(fixture.record)).toMatchObject({ total_trades: 179, parameters_verified: null });
  });

  it('fails as freqtrade does on a parameter file for another class: exit code 2, "Invalid parameter file provided."', async () => {
    // Prepare: the file is swapped for another class's before the container starts
    const world = worldWithManifest();
    const key = `runs/${SAMPLE_BACKTEST.run_id}/parameters.json`;
    const written = vi.spyOn(world, 'putObject');
    const swap = async () =>
      world.putObject(
        LOCAL_BUCKETS.runs,
        key,
        JSON.stringify({
          strategy_name: 'OtherStrategy',
          params: { buy: { buy_rsi: 30 } },
          ft_stratparam_v: 1,
        }),
      );

    // Act
    const run = await runWorkflow({
      machine: 'backtest',
      input: withParameters({ buy: { buy_rsi: 30 } }),
      world,
      holdAt: { state: 'RunBacktest', until: swap },
    });

    // Assess: the task stopped with freqtrade's exit code, its log says why, and no result was written
    expect(run.status).toBe('FAILED');
    expect(run.error?.Error).toBe('BacktestTaskFailedError');
    expect(String(run.record?.error_info)).toContain('\\"ExitCode\\":2');
    const log = written.mock.calls.find(([, name]) => name.endsWith('tmp/freqtrade.log'))?.[2];
    expect(typeof log === 'string' ? log : new TextDecoder().decode(log)).toContain(
      'Invalid parameter file provided.',
    );
    expect(world.keys(LOCAL_BUCKETS.runs, `runs/${SAMPLE_BACKTEST.run_id}/results/`)).toEqual([]);
  });
});

describe('a sweep over buy.buy_rsi', () => {
  it('runs two variants that differ only in buy.buy_rsi on different trades, and ranks them by different metrics', async () => {
    // Prepare
    const world = worldWithManifest();
    const sweep = { ...SAMPLE_SWEEP, sweep_id: 'sweep-20260105-buy-rsi', grid: { 'buy.buy_rsi': [25, 35] } };

    // Act
    const run = await runWorkflow({ machine: 'backtest-sweep', input: sweep, world });

    // Assess: each variant ran its own parameters, verified, on its own trades
    expect(run.status).toBe('SUCCEEDED');
    const variants = [0, 1].map((i) => {
      const record = world.record(TABLE, `${sweep.sweep_id}-${i}`) as Record<string, unknown>;
      return JSON.parse(String(record.result));
    });
    expect(variants.map((v) => v.parameters_verified)).toEqual([true, true]);
    const [deep, shallow] = variants;
    expect(deep.total_trades).not.toBe(shallow.total_trades);
    const zips = variants.map(
      (v) => world.getObject(LOCAL_BUCKETS.runs, v.results_uri.split(`${LOCAL_BUCKETS.runs}/`)[1])?.body,
    );
    expect(Buffer.from(zips[0] as Uint8Array).equals(Buffer.from(zips[1] as Uint8Array))).toBe(false);
    const board = JSON.parse(
      new TextDecoder().decode(
        world.getObject(LOCAL_BUCKETS.runs, `sweeps/${sweep.sweep_id}/leaderboard.json`)?.body,
      ),
    );
    const ranked = board.ranked as {
      config_overrides: unknown;
      sharpe_ratio: number;
      total_trades: number;
    }[];
    expect(ranked).toHaveLength(2);
    const byRsi = (rsi: number) =>
      ranked.find((r) => JSON.stringify(r.config_overrides).includes(`"buy_rsi":${rsi}`));
    expect(byRsi(25)?.sharpe_ratio).not.toBe(byRsi(35)?.sharpe_ratio);
    expect(byRsi(25)?.total_trades).toBe(deep.total_trades);
    expect(byRsi(35)?.total_trades).toBe(shallow.total_trades);
  });
});
