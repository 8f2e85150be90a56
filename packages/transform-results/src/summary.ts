import * as z from 'zod/mini';

/**
 * The parts of freqtrade's backtest result (`freqtrade backtesting --export trades`) that the
 * summary needs. Everything else in the file (trades, per-pair tables...) is ignored, so newer
 * freqtrade versions that add fields still parse.
 */
const strategyStatsSchema = z.object({
  total_trades: z.number().check(z.int(), z.nonnegative()),
  profit_total: z.number(),
  max_drawdown_account: z.optional(z.number()),
  profit_factor: z.optional(z.nullable(z.number())),
  wins: z.number().check(z.int(), z.nonnegative()),
  backtest_start: z.string(),
  backtest_end: z.string(),
  timeframe: z.string(),
  stake_currency: z.optional(z.string()),
  starting_balance: z.number().check(z.positive()),
  final_balance: z.optional(z.number()),
  daily_profit: z.optional(z.array(z.tuple([z.string(), z.number()]))),
  sharpe: z.optional(z.nullable(z.number())),
  sortino: z.optional(z.nullable(z.number())),
  calmar: z.optional(z.nullable(z.number())),
});
export type StrategyStats = z.output<typeof strategyStatsSchema>;

export const backtestResultFileSchema = z.object({
  strategy: z.record(z.string(), strategyStatsSchema),
});

export type RatioSource = 'freqtrade' | 'daily_profit' | 'absent';

export interface BacktestSummary {
  strategy: string;
  timeframe: string;
  /** ISO-8601 UTC. */
  start: string;
  end: string;
  total_trades: number;
  /** Winning trades, % of all trades. */
  win_rate: number | null;
  profit_factor: number | null;
  /** % of the starting balance. */
  total_return: number;
  /** Largest peak-to-trough fall of the account, %. */
  max_drawdown: number | null;
  sharpe_ratio: number | null;
  sortino_ratio: number | null;
  calmar_ratio: number | null;
  /** Where each ratio came from: freqtrade's own figure, our daily-profit formula, or nowhere. */
  ratio_source: { sharpe: RatioSource; sortino: RatioSource; calmar: RatioSource };
  starting_balance: number;
  final_balance: number | null;
  stake_currency: string | null;
  trading_days: number;
}

const DAYS_PER_YEAR = 365;

/** Six decimals: more than any report shows, and JSON stays short. */
const round = (value: number): number => Math.round(value * 1e6) / 1e6;
const finiteOrNull = (value: number | null | undefined): number | null =>
  value === null || value === undefined || !Number.isFinite(value) ? null : round(value);

/** freqtrade writes `2018-01-10 07:15:00` (UTC); the summary says so explicitly. */
const toIsoUtc = (value: string): string => {
  const millis = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
  return Number.isNaN(millis) ? value : new Date(millis).toISOString();
};

/**
 * Ratios from `daily_profit` (docs/contracts/backtest-results.md), used only when freqtrade did
 * not write its own:
 *   r_d      = daily profit / starting balance, one value per day of the list
 *   sharpe   = mean(r) / stdev(r) * sqrt(365)                (sample stdev, risk-free rate 0)
 *   sortino  = mean(r) / sqrt(mean(min(r, 0)^2)) * sqrt(365)
 *   calmar   = mean(r) * 365 / max_drawdown_account
 * A ratio whose inputs are missing, too short (< 2 days) or degenerate (zero deviation or zero
 * drawdown) is absent (null): it is never guessed.
 */
export const ratiosFromDailyProfit = (
  daily: ReadonlyArray<readonly [string, number]>,
  startingBalance: number,
  maxDrawdown: number | undefined,
): { sharpe: number | null; sortino: number | null; calmar: number | null } => {
  const returns = daily.map(([, profit]) => profit / startingBalance);
  const n = returns.length;
  if (n < 2) return { sharpe: null, sortino: null, calmar: null };
  const mean = returns.reduce((sum, r) => sum + r, 0) / n;
  const variance = returns.reduce((sum, r) => sum + (r - mean) ** 2, 0) / (n - 1);
  const downside = Math.sqrt(returns.reduce((sum, r) => sum + Math.min(r, 0) ** 2, 0) / n);
  const annualise = Math.sqrt(DAYS_PER_YEAR);
  return {
    sharpe: variance > 0 ? (mean / Math.sqrt(variance)) * annualise : null,
    sortino: downside > 0 ? (mean / downside) * annualise : null,
    calmar: maxDrawdown !== undefined && maxDrawdown > 0 ? (mean * DAYS_PER_YEAR) / maxDrawdown : null,
  };
};

/** The run summary the workflow records and notifies, from one strategy's freqtrade stats. */
export const summarise = (strategy: string, stats: StrategyStats): BacktestSummary => {
  const computed = stats.daily_profit
    ? ratiosFromDailyProfit(stats.daily_profit, stats.starting_balance, stats.max_drawdown_account)
    : { sharpe: null, sortino: null, calmar: null };
  const pick = (own: number | null | undefined, fallback: number | null): [number | null, RatioSource] => {
    if (own !== null && own !== undefined && Number.isFinite(own)) return [round(own), 'freqtrade'];
    if (fallback !== null && Number.isFinite(fallback)) return [round(fallback), 'daily_profit'];
    return [null, 'absent'];
  };
  const [sharpe, sharpeSource] = pick(stats.sharpe, computed.sharpe);
  const [sortino, sortinoSource] = pick(stats.sortino, computed.sortino);
  const [calmar, calmarSource] = pick(stats.calmar, computed.calmar);
  return {
    strategy,
    timeframe: stats.timeframe,
    start: toIsoUtc(stats.backtest_start),
    end: toIsoUtc(stats.backtest_end),
    total_trades: stats.total_trades,
    win_rate: stats.total_trades > 0 ? round((stats.wins / stats.total_trades) * 100) : null,
    profit_factor: finiteOrNull(stats.profit_factor),
    total_return: round(stats.profit_total * 100),
    max_drawdown: stats.max_drawdown_account === undefined ? null : round(stats.max_drawdown_account * 100),
    sharpe_ratio: sharpe,
    sortino_ratio: sortino,
    calmar_ratio: calmar,
    ratio_source: { sharpe: sharpeSource, sortino: sortinoSource, calmar: calmarSource },
    starting_balance: stats.starting_balance,
    final_balance: finiteOrNull(stats.final_balance),
    stake_currency: stats.stake_currency ?? null,
    trading_days: stats.daily_profit?.length ?? 0,
  };
};
