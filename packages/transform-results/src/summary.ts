import * as z from 'zod/mini';
import {
  freqtradeCalmar,
  freqtradeSharpe,
  freqtradeSortino,
  fromFreqtrade,
  type Ratio,
} from './freqtrade-metrics';

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
  /** Each closed trade; the ratios are computed from them when freqtrade did not write its own. */
  trades: z.optional(z.array(z.looseObject({ profit_abs: z.number(), close_date: z.string() }))),
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
  /** Where each ratio came from: freqtrade's own figure, freqtrade's formula over the trades, or nowhere. */
  ratio_source: { sharpe: RatioSource; sortino: RatioSource; calmar: RatioSource };
  /** Why a ratio is null (freqtrade would print a sentinel: 0 with no trades, -100 otherwise). */
  ratio_notes: { sharpe?: string; sortino?: string; calmar?: string };
  starting_balance: number;
  final_balance: number | null;
  stake_currency: string | null;
  trading_days: number;
}

/** Six decimals: more than any report shows, and JSON stays short. */
const round = (value: number): number => Math.round(value * 1e6) / 1e6;
const finiteOrNull = (value: number | null | undefined): number | null =>
  value === null || value === undefined || !Number.isFinite(value) ? null : round(value);

/** freqtrade writes `2018-01-10 07:15:00` (UTC); the summary says so explicitly. */
const toIsoUtc = (value: string): string => {
  const millis = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
  return Number.isNaN(millis) ? value : new Date(millis).toISOString();
};

/** The run summary the workflow records and notifies, from one strategy's freqtrade stats. */
export const summarise = (strategy: string, stats: StrategyStats): BacktestSummary => {
  const period = {
    start: Date.parse(toIsoUtc(stats.backtest_start)),
    end: Date.parse(toIsoUtc(stats.backtest_end)),
    startingBalance: stats.starting_balance,
    maxDrawdownAccount: stats.max_drawdown_account,
  };
  const ratio = (
    own: number | null | undefined,
    kind: 'sharpe' | 'sortino' | 'calmar',
    compute: typeof freqtradeSharpe,
  ): [Ratio, RatioSource] => {
    if (own !== null && own !== undefined && Number.isFinite(own)) {
      return [fromFreqtrade(own, kind, stats.total_trades), 'freqtrade'];
    }
    if (stats.trades) return [compute(stats.trades, period), 'trades'];
    return [{ value: null, reason: 'the result file has neither the ratio nor its trades' }, 'absent'];
  };
  const [sharpe, sharpeSource] = ratio(stats.sharpe, 'sharpe', freqtradeSharpe);
  const [sortino, sortinoSource] = ratio(stats.sortino, 'sortino', freqtradeSortino);
  const [calmar, calmarSource] = ratio(stats.calmar, 'calmar', freqtradeCalmar);
  const notes = Object.fromEntries(
    (
      [
        ['sharpe', sharpe],
        ['sortino', sortino],
        ['calmar', calmar],
      ] as const
    ).flatMap(([name, r]) => (r.reason ? [[name, r.reason]] : [])),
  );
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
    sharpe_ratio: finiteOrNull(sharpe.value),
    sortino_ratio: finiteOrNull(sortino.value),
    calmar_ratio: finiteOrNull(calmar.value),
    ratio_source: { sharpe: sharpeSource, sortino: sortinoSource, calmar: calmarSource },
    ratio_notes: notes,
    starting_balance: stats.starting_balance,
    final_balance: finiteOrNull(stats.final_balance),
    stake_currency: stats.stake_currency ?? null,
    trading_days: stats.daily_profit?.length ?? 0,
  };
};
