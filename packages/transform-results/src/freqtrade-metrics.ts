/*
 * freqtrade's own figures, re-implemented from their definitions in freqtrade 2025.10
 * (freqtrade/data/metrics.py and freqtrade/optimize/optimize_reports/optimize_reports.py, upstream
 * 4adab37b2a), for result files that lack them: a quant sees the number freqtrade would print.
 * Where freqtrade would print a sentinel (0 with no trades, -100 with no deviation, no losses or
 * no drawdown, 100 for an expectancy ratio without losses), the figure is null with the reason
 * (docs/decisions/0027).
 */

export interface Trade {
  profit_abs: number;
  close_date: string;
}

export interface Ratio {
  value: number | null;
  /** Why the value is null: the condition under which freqtrade prints a sentinel. */
  reason?: string;
}

const DAY_MS = 86_400_000;
const SQRT_365 = Math.sqrt(365);
const NO_TRADES = 'no trades';
const NO_LOSSES = 'no losing trades';
const NO_DEVIATION = 'every trade returned the same: no deviation';
const NO_DOWNSIDE = `${NO_LOSSES} (or losses all alike): no downside deviation`;
const NO_SPREAD = `a single trade, or ${NO_DEVIATION}`;
export const BELOW_ZERO = 'the final balance is below zero';

/** No value, and why. */
export const none = (reason: string): Ratio => ({ value: null, reason });

/** freqtrade writes `2018-01-10 07:15:00` (UTC) and `2018-01-10 07:20:00+00:00` on trades. */
export const utcMillis = (value: string): number =>
  Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);

const sum = (values: readonly number[]) => values.reduce((total, v) => total + v, 0);

/** numpy's `np.std` (ddof 0) or pandas' `Series.std()` (ddof 1); NaN where they give NaN. */
const std = (values: readonly number[], ddof: 0 | 1): number => {
  const mean = sum(values) / values.length;
  return Math.sqrt(sum(values.map((v) => (v - mean) ** 2)) / (values.length - ddof));
};

/** The winning trades' profits and the losing trades' losses, as positive amounts. */
const winsAndLosses = (trades: readonly Trade[]) => [
  trades.filter((t) => t.profit_abs > 0).map((t) => t.profit_abs),
  trades.filter((t) => t.profit_abs < 0).map((t) => -t.profit_abs),
];

/**
 * `(max_date - min_date).days or 1` (generate_strategy_stats' `backtest_days`, and the
 * `days_period` of calculate_sharpe/sortino/calmar): Python's timedelta floors to whole days.
 */
export const backtestDays = (start: number, end: number) => Math.floor((end - start) / DAY_MS) || 1;

export interface Period {
  /** Epoch ms of the backtest's first and last candle (freqtrade's min_date and max_date). */
  start: number;
  end: number;
  startingBalance: number;
  /**
   * The account drawdown freqtrade wrote (`max_drawdown_account`), when the file has it: calmar
   * then divides by freqtrade's own figure.
   */
  maxDrawdownAccount?: number | undefined;
}

/** Each trade's return on the starting balance, and the summed returns per backtest day. */
const returnsOf = (trades: readonly Trade[], period: Period) => {
  const returns = trades.map((t) => t.profit_abs / period.startingBalance);
  return [returns, sum(returns) / backtestDays(period.start, period.end)] as const;
};

const noTrades = (trades: readonly Trade[], period: Period): Ratio | undefined => {
  if (trades.length === 0) return none(NO_TRADES);
  if (!(period.end > period.start)) return none('the backtest period is empty');
  return undefined;
};

/** calculate_sharpe (metrics.py): summed returns per day over their population deviation, √365. */
export const freqtradeSharpe = (trades: readonly Trade[], period: Period): Ratio => {
  const empty = noTrades(trades, period);
  if (empty) return empty;
  const [returns, mean] = returnsOf(trades, period);
  const deviation = std(returns, 0);
  return deviation !== 0 ? { value: (mean / deviation) * SQRT_365 } : none(NO_DEVIATION);
};

/** calculate_sortino (metrics.py): as sharpe, over the deviation of the losing trades only. */
export const freqtradeSortino = (trades: readonly Trade[], period: Period): Ratio => {
  const empty = noTrades(trades, period);
  if (empty) return empty;
  const [returns, mean] = returnsOf(trades, period);
  const downside = std(
    returns.filter((r) => r < 0),
    0,
  );
  return downside > 0 ? { value: (mean / downside) * SQRT_365 } : none(NO_DOWNSIDE);
};

/**
 * calculate_max_drawdown (metrics.py, 2025.10) over the trades in close-date order: the cumulative
 * profit, its running high (never below 0: the starting balance), the fall from it and that fall
 * relative to the balance at the high. `abs` is the deepest fall (`max_drawdown_abs`), `account`
 * the relative fall at that row (`max_drawdown_account`), `relative` the largest relative fall
 * (`max_relative_drawdown`, the `relative=True` call in generate_strategy_stats). With fewer than
 * two trades freqtrade's function raises (an idxmax over no row) and its callers write 0: so do we.
 *
 * The order of trades closing at the same instant is pandas' `sort_values`, numpy's unstable
 * introsort of the file's order: the file's order up to 16 trades (numpy's insertion sort), else
 * what its partitions leave. We do not re-implement those partitions; past 16 trades the larger
 * profit goes first, which reproduces the real fixture's figures (docs/contracts/backtest-results.md).
 */
export const freqtradeMaxDrawdown = (trades: readonly Trade[], startingBalance: number) => {
  let cumulative = 0;
  let high = 0;
  let abs = 0;
  let account = 0;
  let relative = 0;
  const sorted = [...trades].sort(
    (a, b) =>
      utcMillis(a.close_date) - utcMillis(b.close_date) ||
      (trades.length > 16 ? b.profit_abs - a.profit_abs : 0),
  );
  for (const trade of trades.length > 1 ? sorted : []) {
    cumulative += trade.profit_abs;
    high = Math.max(high, cumulative);
    // (max_balance - cumulative_balance) / max_balance, as _calc_drawdown_series computes it
    const fall = (startingBalance + high - (startingBalance + cumulative)) / (startingBalance + high);
    if (high - cumulative > abs) [abs, account] = [high - cumulative, fall];
    relative = Math.max(relative, fall);
  }
  return { abs, account, relative };
};

/** calculate_calmar (metrics.py): summed return per day, %, over the account drawdown, √365. */
export const freqtradeCalmar = (trades: readonly Trade[], period: Period): Ratio => {
  const empty = noTrades(trades, period);
  if (empty) return empty;
  const total = sum(trades.map((t) => t.profit_abs)) / period.startingBalance;
  const mean = (total / backtestDays(period.start, period.end)) * 100;
  const drawdown = period.maxDrawdownAccount ?? freqtradeMaxDrawdown(trades, period.startingBalance).account;
  return drawdown !== 0 ? { value: (mean / drawdown) * SQRT_365 } : none('no drawdown');
};

/** calculate_sqn (metrics.py, not in 2024.10): √n · mean / sample deviation of the returns, 4 places. */
export const freqtradeSqn = (trades: readonly Trade[], startingBalance: number): Ratio => {
  const returns = trades.map((t) => t.profit_abs / startingBalance);
  const n = returns.length;
  const deviation = std(returns, 1);
  if (n === 0) return none(NO_TRADES);
  return deviation > 0
    ? { value: Math.round(Math.sqrt(n) * (sum(returns) / n / deviation) * 1e4) / 1e4 }
    : none(NO_SPREAD);
};

/**
 * calculate_expectancy (metrics.py): winrate · average win − lossrate · average loss, in the stake
 * currency, and (1 + average win / average loss) · winrate − 1.
 */
export const freqtradeExpectancy = (trades: readonly Trade[]): Ratio[] => {
  if (trades.length === 0) return [none(NO_TRADES), none(NO_TRADES)];
  const [wins = [], losses = []] = winsAndLosses(trades);
  const averageWin = wins.length ? sum(wins) / wins.length : 0;
  const averageLoss = losses.length ? sum(losses) / losses.length : 0;
  const winrate = wins.length / trades.length;
  return [
    { value: winrate * averageWin - (losses.length / trades.length) * averageLoss },
    averageLoss > 0 ? { value: (1 + averageWin / averageLoss) * winrate - 1 } : none(NO_LOSSES),
  ];
};

/** generate_strategy_stats' profit_factor: Σ wins / |Σ losses|; freqtrade's 0.0 without a loss means none. */
export const freqtradeProfitFactor = (trades: readonly Trade[]): Ratio => {
  const [wins = [], losses = []] = winsAndLosses(trades);
  return losses.length ? { value: sum(wins) / sum(losses) } : none(NO_LOSSES);
};

/** calculate_cagr (metrics.py): (final / start)^(1 / (backtest_days / 365)) − 1; freqtrade's 0 below zero. */
export const freqtradeCagr = (days: number, startingBalance: number, finalBalance: number): Ratio =>
  finalBalance < 0 ? none(BELOW_ZERO) : { value: (finalBalance / startingBalance) ** (1 / (days / 365)) - 1 };

/**
 * generate_daily_stats (optimize_reports.py): profit summed per UTC day of close_date, every day
 * from the first close to the last (a day without a close sums to 0: a draw day), rounded to 10
 * places, then counted by sign: winning, draw and losing days.
 */
export const freqtradeDays = (trades: readonly Trade[]): number[] => {
  const days = trades.map((t) => Math.floor(utcMillis(t.close_date) / DAY_MS));
  const first = Math.min(...days);
  const profits: number[] = days.length ? Array(Math.max(...days) - first + 1).fill(0) : [];
  for (const [i, day] of days.entries())
    profits[day - first] = (profits[day - first] ?? 0) + (trades[i]?.profit_abs ?? 0);
  const signs = profits.map((p) => Math.sign(Math.round(p * 1e10)));
  return [1, 0, -1].map((sign) => signs.filter((s) => s === sign).length);
};

export type FigureKind = 'sharpe' | 'sortino' | 'calmar' | 'sqn';

/** A sharpe, sortino, calmar or sqn freqtrade wrote: its sentinels mean "undefined", never a measured value. */
export const fromFreqtrade = (value: number, kind: FigureKind, totalTrades: number): Ratio => {
  if (totalTrades === 0 && value === 0) return none(NO_TRADES);
  if (value === -100) {
    const why = { sharpe: NO_DEVIATION, sortino: NO_DOWNSIDE, calmar: 'no drawdown', sqn: NO_SPREAD }[kind];
    return none(`${why} (freqtrade wrote its -100 sentinel)`);
  }
  return { value };
};
