import * as z from 'zod/mini';
import {
  BELOW_ZERO,
  backtestDays,
  type FigureKind,
  freqtradeCagr,
  freqtradeCalmar,
  freqtradeDays,
  freqtradeExpectancy,
  freqtradeMaxDrawdown,
  freqtradeProfitFactor,
  freqtradeSharpe,
  freqtradeSortino,
  freqtradeSqn,
  fromFreqtrade,
  none,
  type Ratio,
  type Trade,
  utcMillis,
} from './freqtrade-metrics';

const figure = z.optional(z.nullable(z.number()));
const whole = z.number().check(z.int(), z.nonnegative());
const count = z.optional(whole);

/**
 * The parts of freqtrade's backtest result (`freqtrade backtesting --export trades`) that the
 * summary needs, by freqtrade's own names (generate_strategy_stats, optimize_reports.py). Everything
 * else in the file (per-pair tables...) is ignored, so newer freqtrade versions that add fields
 * still parse; a figure an older version did not write is computed from the trades.
 */
const strategyStatsSchema = z.object({
  total_trades: whole,
  profit_total: z.number(),
  max_drawdown_account: z.optional(z.number()),
  max_relative_drawdown: z.optional(z.number()),
  max_drawdown_abs: z.optional(z.number()),
  profit_factor: figure,
  wins: whole,
  losses: count,
  backtest_start: z.string(),
  backtest_end: z.string(),
  backtest_days: count,
  winning_days: count,
  draw_days: count,
  losing_days: count,
  timeframe: z.string(),
  stake_currency: z.optional(z.string()),
  starting_balance: z.number().check(z.positive()),
  final_balance: z.optional(z.number()),
  sharpe: figure,
  sortino: figure,
  calmar: figure,
  sqn: figure,
  cagr: figure,
  expectancy: figure,
  expectancy_ratio: figure,
  /** Each closed trade; the figures are computed from them when freqtrade did not write its own. */
  trades: z.optional(
    z.array(
      z.looseObject({
        profit_abs: z.number(),
        close_date: z.string().check(z.refine((v) => !Number.isNaN(utcMillis(v)), 'must be a date')),
      }),
    ),
  ),
});
export type StrategyStats = z.output<typeof strategyStatsSchema>;
export { strategyStatsSchema };

/**
 * The file's outline: one entry per strategy, each read only when it is the run's, so a malformed
 * entry of another strategy in a multi-strategy file cannot block this one.
 */
export const backtestResultFileSchema = z.object({
  strategy: z.record(z.string(), z.unknown()),
});

/** freqtrade's own figure; computed from the trades with freqtrade's definitions; or none. */
export type RatioSource = 'freqtrade' | 'trades' | 'absent';

type Sourced =
  | 'sharpe'
  | 'sortino'
  | 'calmar'
  | 'sqn'
  | 'expectancy'
  | 'expectancy_ratio'
  | 'cagr'
  | 'profit_factor'
  | 'drawdown'
  | 'days';
type Noted = FigureKind | 'expectancy' | 'expectancy_ratio' | 'cagr' | 'profit_factor' | 'drawdown';

/** Every figure is freqtrade's (docs/contracts/backtest-results.md names its function). */
export interface BacktestSummary {
  strategy: string;
  timeframe: string;
  /** ISO-8601 UTC. */
  start: string;
  end: string;
  total_trades: number;
  /** freqtrade's `wins` / `total_trades`, %. */
  win_rate: number | null;
  /** Σ wins / |Σ losses|; null without a losing trade (freqtrade writes 0.0 there). */
  profit_factor: number | null;
  /** `profit_total`: % of the starting balance. */
  total_return: number;
  /** The same figure as `max_drawdown_account` (the name sweeps rank by), %. */
  max_drawdown: number | null;
  /** The fall from the account's high at the deepest absolute fall, % of the balance at that high. */
  max_drawdown_account: number | null;
  /** The largest fall relative to the balance at its high ("underwater"), %. */
  max_relative_drawdown: number | null;
  /** The deepest absolute fall of the cumulative profit, stake currency. */
  max_drawdown_abs: number | null;
  sharpe_ratio: number | null;
  sortino_ratio: number | null;
  calmar_ratio: number | null;
  /** Van Tharp's system quality number. */
  sqn: number | null;
  /** Expected profit per trade, stake currency. */
  expectancy: number | null;
  expectancy_ratio: number | null;
  /** Compound annual growth over `backtest_days`, a ratio (1 = +100 %). */
  cagr: number | null;
  /** Where each figure came from: freqtrade's own, freqtrade's formula over the trades, or nowhere. */
  ratio_source: Record<Sourced, RatioSource>;
  /** Why a figure is null (where freqtrade would print a sentinel, or the file lacks it). */
  ratio_notes: Partial<Record<Noted, string>>;
  starting_balance: number;
  final_balance: number | null;
  stake_currency: string | null;
  /** Whole days from `start` to `end`, at least 1. */
  backtest_days: number;
  /** UTC days from the first close to the last whose summed profit is above, at or below 0. */
  winning_days: number | null;
  draw_days: number | null;
  losing_days: number | null;
}

const ABSENT = none('not in the file, which lists no trades');

/** Six decimals for ratios and %: more than any report shows, and JSON stays short. */
const round = (value: number | null | undefined, scale = 1e6): number | null =>
  value === null || value === undefined || !Number.isFinite(value) ? null : Math.round(value * scale) / scale;
/** Amounts in the stake currency keep ten decimals (freqtrade rounds its daily profits so): BTC has 8. */
const CURRENCY = 1e10;
/** freqtrade's ratios (0.0187) as % (1.87). */
const percent = (value: number | undefined) => round((value ?? Number.NaN) * 100);

/** freqtrade's `2018-01-10 07:15:00` (UTC), explicitly ISO-8601 UTC. */
const toIsoUtc = (value: string): string => {
  const millis = utcMillis(value);
  return Number.isNaN(millis) ? value : new Date(millis).toISOString();
};

/** The run summary the workflow records and notifies, from one strategy's freqtrade stats. */
export const summarise = (strategy: string, stats: StrategyStats): BacktestSummary => {
  const { trades, starting_balance: balance, total_trades: total } = stats;
  const period = {
    start: utcMillis(stats.backtest_start),
    end: utcMillis(stats.backtest_end),
    startingBalance: balance,
    maxDrawdownAccount: stats.max_drawdown_account,
  };
  const days = stats.backtest_days ?? backtestDays(period.start, period.end);
  // freqtrade's 0.0 profit factor and 100 expectancy ratio mean "no losing trade", unless one lost.
  const lost = trades ? trades.some((t) => t.profit_abs < 0) : (stats.losses ?? 0) > 0;
  // generate_strategy_stats' final_balance: the starting balance plus every trade's profit.
  const final = stats.final_balance ?? balance + (trades ?? []).reduce((s, t) => s + t.profit_abs, 0);
  const sources = {} as Record<Sourced, RatioSource>;
  const notes: BacktestSummary['ratio_notes'] = {};
  /** freqtrade's own figure, its sentinel read as null; else its formula over the trades; else none. */
  const pick = (
    name: Sourced,
    own: number | null | undefined,
    compute: (trades: Trade[]) => Ratio,
    sentinel: (value: number) => string | false | undefined,
  ): Ratio => {
    const finite = own !== null && own !== undefined && Number.isFinite(own);
    sources[name] = finite ? 'freqtrade' : trades ? 'trades' : 'absent';
    const why = finite && sentinel(own);
    return finite ? (why ? none(why) : { value: own }) : trades ? compute(trades) : ABSENT;
  };
  const sentinel = (kind: FigureKind) => (value: number) => fromFreqtrade(value, kind, total).reason;
  const noted = (name: Noted, ratio: Ratio, scale?: number) => {
    if (ratio.reason) notes[name] = ratio.reason;
    return round(ratio.value, scale);
  };
  const sharpe = pick('sharpe', stats.sharpe, (t) => freqtradeSharpe(t, period), sentinel('sharpe'));
  const sortino = pick('sortino', stats.sortino, (t) => freqtradeSortino(t, period), sentinel('sortino'));
  const calmar = pick('calmar', stats.calmar, (t) => freqtradeCalmar(t, period), sentinel('calmar'));
  const sqn = pick('sqn', stats.sqn, (t) => freqtradeSqn(t, balance), sentinel('sqn'));
  const profitFactor = pick(
    'profit_factor',
    stats.profit_factor,
    freqtradeProfitFactor,
    (v) => v === 0 && !lost && 'no losing trades (freqtrade wrote 0.0)',
  );
  const cagr = pick(
    'cagr',
    stats.cagr,
    () => freqtradeCagr(days, balance, final),
    (v) => v === 0 && final < 0 && `${BELOW_ZERO} (freqtrade wrote 0)`,
  );
  const expectancy = pick(
    'expectancy',
    stats.expectancy,
    (t) => freqtradeExpectancy(t)[0] ?? ABSENT,
    (v) => v === 0 && total === 0 && 'no trades',
  );
  const expectancyRatio = pick(
    'expectancy_ratio',
    stats.expectancy_ratio,
    (t) => freqtradeExpectancy(t)[1] ?? ABSENT,
    (v) => v === 100 && !lost && 'no losing trades (freqtrade wrote its 100 sentinel)',
  );

  // Each drawdown is freqtrade's when the file has it; any other comes from the trades. Of a single
  // trade freqtrade computes none (calculate_max_drawdown raises) and writes 0.0: none, not a 0.
  // freqtrade 2024.x raised when the deepest fall was at the first trade and wrote 0.0 for all three
  // (s24 data/metrics.py `calculate_max_drawdown`, optimize_reports.py): with a losing trade, those
  // zeros are no measurement, and the trades say what the drawdown was.
  const written = [stats.max_drawdown_account, stats.max_relative_drawdown, stats.max_drawdown_abs];
  const zeroDespiteLoss = total > 1 && lost && written.every((value) => value === 0);
  const own = zeroDespiteLoss ? [undefined, undefined, undefined] : written;
  if (zeroDespiteLoss)
    notes.drawdown = 'freqtrade wrote 0.0 although a trade lost (2024.x): computed from the trades';
  const missing = own.includes(undefined);
  const dd = missing && trades ? freqtradeMaxDrawdown(trades, balance) : undefined;
  sources.drawdown = !missing ? 'freqtrade' : dd ? 'trades' : 'absent';
  const [account, relative, abs] =
    total === 1 ? [] : [own[0] ?? dd?.account, own[1] ?? dd?.relative, own[2] ?? dd?.abs];
  if (total === 1) notes.drawdown = 'a single trade: freqtrade computes no drawdown (it writes 0.0)';
  const drawdown = percent(account);

  const ownDays = [stats.winning_days, stats.draw_days, stats.losing_days];
  const dayCounts = ownDays.includes(undefined) ? trades && freqtradeDays(trades) : ownDays;
  sources.days = dayCounts === ownDays ? 'freqtrade' : dayCounts ? 'trades' : 'absent';

  return {
    strategy,
    timeframe: stats.timeframe,
    start: toIsoUtc(stats.backtest_start),
    end: toIsoUtc(stats.backtest_end),
    total_trades: total,
    win_rate: total > 0 ? round((stats.wins / total) * 100) : null,
    profit_factor: noted('profit_factor', profitFactor),
    total_return: percent(stats.profit_total) ?? 0,
    max_drawdown: drawdown,
    max_drawdown_account: drawdown,
    max_relative_drawdown: percent(relative),
    max_drawdown_abs: round(abs, CURRENCY),
    sharpe_ratio: noted('sharpe', sharpe),
    sortino_ratio: noted('sortino', sortino),
    calmar_ratio: noted('calmar', calmar),
    sqn: noted('sqn', sqn),
    expectancy: noted('expectancy', expectancy, CURRENCY),
    expectancy_ratio: noted('expectancy_ratio', expectancyRatio),
    cagr: noted('cagr', cagr),
    ratio_source: sources,
    ratio_notes: notes,
    starting_balance: balance,
    final_balance: round(stats.final_balance, CURRENCY),
    stake_currency: stats.stake_currency ?? null,
    backtest_days: days,
    winning_days: dayCounts?.[0] ?? null,
    draw_days: dayCounts?.[1] ?? null,
    losing_days: dayCounts?.[2] ?? null,
  };
};
