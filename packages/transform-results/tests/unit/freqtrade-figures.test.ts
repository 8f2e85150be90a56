import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { strategyStatsSchema, summarise } from '../../src/summary';

/*
 * The summary's figures against freqtrade's own: the figures freqtrade wrote in the real fixture,
 * the same figures recomputed from its trades once they are taken out of the file, and hand
 * re-derivations of freqtrade 2025.10's definitions (freqtrade/data/metrics.py: calculate_sqn,
 * calculate_expectancy, calculate_cagr, calculate_max_drawdown; optimize_reports.py:
 * generate_strategy_stats, generate_daily_stats) for the edge cases.
 */

const FIXTURES = { 'fixtures/freqtrade/backtest-result.json': 'StrategyTestV3' };
const load = (path: string, strategy: string) =>
  JSON.parse(readFileSync(new URL(`../../../../${path}`, import.meta.url), 'utf8')).strategy[strategy];

/** The figures freqtrade writes in generate_strategy_stats that the summary reports. */
const WRITTEN = [
  'cagr',
  'profit_factor',
  'max_drawdown_account',
  'max_relative_drawdown',
  'max_drawdown_abs',
  'backtest_days',
  'winning_days',
  'draw_days',
  'losing_days',
  'sqn',
  'expectancy',
  'expectancy_ratio',
] as const;
const without = (stats: Record<string, unknown>, keys: readonly string[]) =>
  Object.fromEntries(Object.entries(stats).filter(([key]) => !keys.includes(key)));
const summary = (stats: Record<string, unknown>) => summarise('S', strategyStatsSchema.parse(stats));

/** What the summary must say, from the figures freqtrade wrote (ratios as %, amounts as is). */
const expectedFromWritten = (stats: Record<string, number>) => ({
  cagr: stats.cagr,
  profit_factor: stats.profit_factor,
  max_drawdown: (stats.max_drawdown_account as number) * 100,
  max_drawdown_account: (stats.max_drawdown_account as number) * 100,
  max_relative_drawdown: (stats.max_relative_drawdown as number) * 100,
  max_drawdown_abs: stats.max_drawdown_abs,
  backtest_days: stats.backtest_days,
  winning_days: stats.winning_days,
  draw_days: stats.draw_days,
  losing_days: stats.losing_days,
});

const expectClose = (summary: object, expected: Record<string, number | undefined>) => {
  const actual = summary as Record<string, unknown>;
  for (const [key, value] of Object.entries(expected)) {
    expect(actual[key], key).toBeTypeOf('number');
    expect(actual[key] as number, key).toBeCloseTo(value as number, 6);
  }
};

/** calculate_sqn and calculate_expectancy, written out plainly (pandas' std is the sample one). */
const rederive = (profits: number[], balance: number) => {
  const n = profits.length;
  const returns = profits.map((p) => p / balance);
  const mean = returns.reduce((a, b) => a + b, 0) / n;
  const sample = Math.sqrt(returns.reduce((a, r) => a + (r - mean) ** 2, 0) / (n - 1));
  const wins = profits.filter((p) => p > 0);
  const losses = profits.filter((p) => p < 0).map((p) => -p);
  const averageWin = wins.reduce((a, b) => a + b, 0) / wins.length;
  const averageLoss = losses.reduce((a, b) => a + b, 0) / losses.length;
  return {
    sqn: Math.round(Math.sqrt(n) * (mean / sample) * 1e4) / 1e4,
    expectancy: (wins.length / n) * averageWin - (losses.length / n) * averageLoss,
    expectancy_ratio: (1 + averageWin / averageLoss) * (wins.length / n) - 1,
  };
};

describe.each(Object.entries(FIXTURES))('on the real freqtrade result %s', (path, strategy) => {
  const stats = load(path, strategy);

  it('reports the figures freqtrade wrote, by their freqtrade names, from freqtrade', () => {
    // Act
    const result = summary(stats);

    // Assess
    expectClose(result, expectedFromWritten(stats));
    expect(result).toMatchObject({
      backtest_days: 19,
      ratio_source: {
        cagr: 'freqtrade',
        profit_factor: 'freqtrade',
        drawdown: 'freqtrade',
        days: 'freqtrade',
      },
    });
    expect(result).not.toHaveProperty('trading_days');
  });

  it("recomputes each of them from the trades to freqtrade's own figure when the file lacks them", () => {
    // Act
    const result = summary(without(stats, WRITTEN));

    // Assess: the same numbers, from freqtrade's formulas over the 179 trades
    expectClose(result, expectedFromWritten(stats));
    expect(result.ratio_source).toMatchObject({
      cagr: 'trades',
      profit_factor: 'trades',
      drawdown: 'trades',
      days: 'trades',
    });
  });

  it('computes sqn, expectancy and expectancy_ratio, which the file lacks, as freqtrade does', () => {
    // Prepare: freqtrade 2025.10's calculate_sqn / calculate_expectancy, run on these trades with
    // pandas 1.5.3, printed 3.2991, 5.820687070932315e-06 and 0.07151374226574791.
    const profits = stats.trades.map((t: { profit_abs: number }) => t.profit_abs);
    const expected = rederive(profits, stats.starting_balance);

    // Act
    const result = summary(stats);

    // Assess
    expect(expected).toEqual({
      sqn: 3.2991,
      expectancy: expect.closeTo(5.820687070932315e-6, 15),
      expectancy_ratio: expect.closeTo(0.07151374226574791, 12),
    });
    expect(result.sqn).toBe(3.2991);
    expect(result.expectancy).toBeCloseTo(expected.expectancy, 10);
    expect(result.expectancy_ratio).toBeCloseTo(expected.expectancy_ratio, 6);
    expect(result.ratio_source).toMatchObject({ sqn: 'trades', expectancy: 'trades' });
  });
});

/** A 100 USDT account over ten days, 2024-01-01 .. 2024-01-11. */
const account = (
  profits: number[],
  closes = profits.map((_, i) => new Date(Date.UTC(2024, 0, 2 + i, 12)).toISOString()),
) => ({
  total_trades: profits.length,
  wins: profits.filter((p) => p > 0).length,
  profit_total: profits.reduce((a, b) => a + b, 0) / 100,
  starting_balance: 100,
  final_balance: 100 + profits.reduce((a, b) => a + b, 0),
  backtest_start: '2024-01-01 00:00:00',
  backtest_end: '2024-01-11 00:00:00',
  timeframe: '1h',
  stake_currency: 'USDT',
  trades: profits.map((profit_abs, i) => ({ profit_abs, close_date: closes[i] })),
});

describe('edge cases, as freqtrade defines them', () => {
  it('reports a run without trades: none where freqtrade writes a sentinel, 0 where it measures 0', () => {
    // Prepare: what freqtrade 2025.10 writes for no trades, and the same file without those figures
    const empty = account([]);
    const written = {
      ...empty,
      profit_factor: 0,
      sqn: 0,
      expectancy: 0,
      expectancy_ratio: 100,
      cagr: 0,
      max_drawdown_account: 0,
      max_relative_drawdown: 0,
      max_drawdown_abs: 0,
      backtest_days: 10,
      winning_days: 0,
      draw_days: 0,
      losing_days: 0,
    };

    // Act
    const results = [summary(written), summary(empty)];

    // Assess
    for (const result of results) {
      expect(result).toMatchObject({
        profit_factor: null,
        sqn: null,
        expectancy: null,
        expectancy_ratio: null,
        cagr: 0,
        max_drawdown: 0,
        max_drawdown_account: 0,
        max_relative_drawdown: 0,
        max_drawdown_abs: 0,
        backtest_days: 10,
        winning_days: 0,
        draw_days: 0,
        losing_days: 0,
      });
      expect(result.ratio_notes).toMatchObject({
        profit_factor: expect.stringContaining('no losing trades'),
        sqn: 'no trades',
        expectancy: 'no trades',
        expectancy_ratio: expect.stringContaining('no'),
      });
    }
  });

  it('reports no profit factor and no expectancy ratio when every trade won', () => {
    // Prepare: +1 +2 +3 on 100: returns .01 .02 .03, mean .02, sample deviation .01
    const winners = account([1, 2, 3]);

    // Act
    const computed = summary(winners);
    const written = summary({ ...winners, profit_factor: 0, expectancy_ratio: 100 });

    // Assess
    expect(computed).toMatchObject({
      profit_factor: null,
      expectancy: 2,
      expectancy_ratio: null,
      sqn: Math.round(Math.sqrt(3) * 2 * 1e4) / 1e4,
      cagr: expect.closeTo(1.06 ** (365 / 10) - 1, 6),
      max_drawdown_account: 0,
      max_relative_drawdown: 0,
      max_drawdown_abs: 0,
      winning_days: 3,
      draw_days: 0,
      losing_days: 0,
    });
    expect(computed.ratio_notes).toMatchObject({
      profit_factor: 'no losing trades',
      expectancy_ratio: 'no losing trades',
    });
    expect(written).toMatchObject({ profit_factor: null, expectancy_ratio: null });
    expect(written.ratio_notes.profit_factor).toContain('freqtrade wrote 0.0');
  });

  it('reports a single losing trade: a measured profit factor of 0, no sqn, no drawdown', () => {
    // Prepare: -5 on 100. Of one trade freqtrade 2025.10's calculate_max_drawdown raises (an idxmax
    // over no row) and generate_strategy_stats writes 0.0 for every drawdown: not a measured 0.
    const single = account([-5]);
    const written = { ...single, profit_factor: 0, sqn: -100, losses: 1, max_drawdown_account: 0 };

    // Act
    const results = [summary(single), summary({ ...written, max_relative_drawdown: 0, max_drawdown_abs: 0 })];

    // Assess
    for (const result of results) {
      expect(result).toMatchObject({
        profit_factor: 0,
        sqn: null,
        expectancy: -5,
        expectancy_ratio: -1,
        cagr: expect.closeTo(0.95 ** (365 / 10) - 1, 6),
        max_drawdown: null,
        max_drawdown_account: null,
        max_relative_drawdown: null,
        max_drawdown_abs: null,
        winning_days: 0,
        draw_days: 0,
        losing_days: 1,
      });
      expect(result.ratio_notes.sqn).toContain('a single trade');
      expect(result.ratio_notes.drawdown).toContain('a single trade');
    }
  });

  it('measures a fall before any gain from the starting balance, as freqtrade 2025.10 does', () => {
    // Prepare: -1 then -1: cumulative -1, -2; high stays 0 (2024.10 took -1 as the high: 1 / 99)
    const result = summary(account([-1, -1]));

    // Assess
    expect(result).toMatchObject({ max_drawdown_abs: 2, max_drawdown_account: 2, max_relative_drawdown: 2 });
  });

  it('tells the account drawdown (at the deepest absolute fall) from the largest relative one', () => {
    // Prepare: +10 -9 +1000 -20 on 100: cumulative 10, 1, 1001, 981. The deepest absolute fall is
    // 20 from the 1001 high (20 / 1101 of the account), the deepest relative one 9 from 10 (9 / 110)
    const result = summary(account([10, -9, 1_000, -20]));

    // Assess
    expect(result.max_drawdown_abs).toBe(20);
    expect(result.max_drawdown_account).toBeCloseTo((20 / 1101) * 100, 6);
    expect(result.max_drawdown).toBe(result.max_drawdown_account);
    expect(result.max_relative_drawdown).toBeCloseTo((9 / 110) * 100, 6);
  });

  it('counts a day without a close between two closes as a draw day, as generate_daily_stats resamples', () => {
    // Act
    const result = summary(account([1, -1], ['2024-01-02 10:00:00+00:00', '2024-01-04 10:00:00+00:00']));

    // Assess
    expect(result).toMatchObject({ winning_days: 1, draw_days: 1, losing_days: 1 });
  });

  it("orders trades closing at the same instant as freqtrade's sort does: in the file's order, up to 16", () => {
    // Prepare: +5 and -5 close together after +10, the loss listed first. numpy's quicksort keeps
    // that order for 16 trades or fewer (insertion sort): cumulative 10, 5, 10.
    const closes = ['2024-01-02 10:00:00+00:00', '2024-01-03 10:00:00+00:00', '2024-01-03 10:00:00+00:00'];

    // Act
    const result = summary(account([10, -5, 5], closes));

    // Assess: freqtrade 2025.10 (pandas 1.5.3) computes 5 and 5 / 110 on these trades
    expect(result.max_drawdown_abs).toBe(5);
    expect(result.max_drawdown_account).toBeCloseTo((5 / 110) * 100, 6);
  });

  it("reports no cagr where the account ended below zero (freqtrade's 0)", () => {
    // Prepare: a leveraged loss of 150 on 100
    const broke = { ...account([-150]), cagr: 0 };

    // Act
    const result = summary(broke);

    // Assess
    expect(result.cagr).toBeNull();
    expect(result.ratio_notes.cagr).toContain('below zero');
    expect(summary(account([-150])).cagr).toBeNull();
  });

  it('keeps stake-currency amounts to 10 decimals: a BTC expectancy is not rounded away', () => {
    // Prepare: 100 trades of 0.00000123 BTC on a 0.01 BTC account
    const btc = { ...account(Array(100).fill(0.00000123)), starting_balance: 0.01, final_balance: 0.010123 };

    // Act
    const result = summary(btc);

    // Assess
    expect(result.expectancy).toBe(0.00000123);
    expect(result.final_balance).toBe(0.010123);
  });
});

describe("freqtrade 2024.x's zero drawdowns", () => {
  it('computes the drawdown from the trades where 2024.x wrote 0.0 for all three although trades lost', () => {
    // Arrange: freqtrade's own result, with the zeros 2024.x wrote when its drawdown code raised
    const stats = JSON.parse(
      readFileSync(new URL('../../../../fixtures/freqtrade/backtest-result.json', import.meta.url), 'utf8'),
    ).strategy.StrategyTestV3;
    const zeros = { ...stats, max_drawdown_account: 0, max_relative_drawdown: 0, max_drawdown_abs: 0 };

    // Act
    const result = summarise('StrategyTestV3', strategyStatsSchema.parse(zeros));

    // Assess: the figure freqtrade writes when its code does not raise (the fixture's own)
    expect(result.max_drawdown_account).toBeCloseTo(stats.max_drawdown_account * 100, 6);
    expect(result.ratio_notes.drawdown).toContain('freqtrade wrote 0.0 although a trade lost');
  });
});
