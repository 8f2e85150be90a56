/*
 * freqtrade's own ratio definitions (`calculate_sharpe`, `calculate_sortino`, `calculate_calmar`
 * and `calculate_max_drawdown` in freqtrade/data/metrics.py), for result files written before
 * freqtrade reported them: a quant sees the number freqtrade would print. Where freqtrade would
 * print a sentinel (0 with no trades, -100 with no deviation, no losses or no drawdown), the
 * ratio is null with the reason (docs/decisions/0027).
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

/** numpy's `np.std` (population standard deviation); NaN for an empty list, as numpy. */
const populationStd = (values: readonly number[]): number => {
  if (values.length === 0) return Number.NaN;
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  return Math.sqrt(values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / values.length);
};

/** `(max_date - min_date).days`, at least 1: Python's timedelta floors to whole days. */
const daysPeriod = (start: number, end: number) => Math.max(1, Math.floor((end - start) / DAY_MS));

export interface Period {
  /** Epoch ms of the backtest's first and last candle (freqtrade's min_date and max_date). */
  start: number;
  end: number;
  startingBalance: number;
  /**
   * The account drawdown freqtrade wrote (`max_drawdown_account`), when the file has it. freqtrade
   * computes it with the same function calmar uses, over trades sorted by close date with an
   * unstable sort, so trades that close at the same instant can order differently; its own
   * figure reproduces its calmar where a recomputation might not.
   */
  maxDrawdownAccount?: number | undefined;
}

const noTrades = (trades: readonly Trade[], period: Period): Ratio | undefined => {
  if (trades.length === 0) return { value: null, reason: 'no trades' };
  if (!(period.end > period.start)) return { value: null, reason: 'the backtest period is empty' };
  return undefined;
};

export const freqtradeSharpe = (trades: readonly Trade[], period: Period): Ratio => {
  const empty = noTrades(trades, period);
  if (empty) return empty;
  const returns = trades.map((t) => t.profit_abs / period.startingBalance);
  const mean = returns.reduce((sum, r) => sum + r, 0) / daysPeriod(period.start, period.end);
  const deviation = populationStd(returns);
  return deviation !== 0
    ? { value: (mean / deviation) * SQRT_365 }
    : { value: null, reason: 'every trade returned the same: no deviation' };
};

export const freqtradeSortino = (trades: readonly Trade[], period: Period): Ratio => {
  const empty = noTrades(trades, period);
  if (empty) return empty;
  const total = trades.reduce((sum, t) => sum + t.profit_abs / period.startingBalance, 0);
  const mean = total / daysPeriod(period.start, period.end);
  const downside = populationStd(
    trades.filter((t) => t.profit_abs < 0).map((t) => t.profit_abs / period.startingBalance),
  );
  return downside !== 0 && !Number.isNaN(downside)
    ? { value: (mean / downside) * SQRT_365 }
    : { value: null, reason: 'no losing trades (or losses all alike): no downside deviation' };
};

/**
 * The account's largest relative drawdown, trades in close-date order, as `calculate_max_drawdown`
 * computes it (the deepest absolute fall, measured against the balance at its peak); 0 when
 * freqtrade finds none ("No losing trade, therefore no drawdown").
 */
export const freqtradeMaxDrawdown = (trades: readonly Trade[], startingBalance: number): number => {
  const ordered = [...trades].sort((a, b) => Date.parse(a.close_date) - Date.parse(b.close_date));
  let cumulative = 0;
  let high = Number.NEGATIVE_INFINITY;
  let deepest = { drawdown: Number.POSITIVE_INFINITY, index: -1, relative: 0 };
  ordered.forEach((trade, index) => {
    cumulative += trade.profit_abs;
    high = Math.max(high, cumulative);
    const drawdown = cumulative - high;
    if (drawdown < deepest.drawdown) {
      const peak = startingBalance + high;
      deepest = { drawdown, index, relative: (peak - (startingBalance + cumulative)) / peak };
    }
  });
  return deepest.index <= 0 ? 0 : deepest.relative;
};

export const freqtradeCalmar = (trades: readonly Trade[], period: Period): Ratio => {
  const empty = noTrades(trades, period);
  if (empty) return empty;
  const total = trades.reduce((sum, t) => sum + t.profit_abs, 0) / period.startingBalance;
  const mean = (total / daysPeriod(period.start, period.end)) * 100;
  const drawdown = period.maxDrawdownAccount ?? freqtradeMaxDrawdown(trades, period.startingBalance);
  return drawdown !== 0 ? { value: (mean / drawdown) * SQRT_365 } : { value: null, reason: 'no drawdown' };
};

/** A ratio freqtrade wrote: its sentinels mean "undefined", never a measured value. */
export const fromFreqtrade = (
  value: number,
  kind: 'sharpe' | 'sortino' | 'calmar',
  totalTrades: number,
): Ratio => {
  if (totalTrades === 0 && value === 0) return { value: null, reason: 'no trades' };
  if (value === -100) {
    const why = {
      sharpe: 'every trade returned the same: no deviation',
      sortino: 'no losing trades (or losses all alike): no downside deviation',
      calmar: 'no drawdown',
    }[kind];
    return { value: null, reason: `${why} (freqtrade wrote its -100 sentinel)` };
  }
  return { value };
};
