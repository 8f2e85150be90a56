/*
 * What a sweep's leaderboard ranks by, and which variants it may rank at all (docs/decisions/0045).
 *
 * A ranking is a figure of the run's summary (transform-results: every figure is freqtrade's own
 * formula, docs/decisions/0043), or one of freqtrade's hyperopt loss functions computed from those
 * same figures (freqtrade/optimize/hyperopt_loss/hyperopt_loss_*.py and data/metrics.py at
 * freqtrade@c9ae5e1e, 2024.10; docs/decisions/0045 lists each): a quant who ranks a sweep
 * here and runs `freqtrade hyperopt --hyperopt-loss <name>` on the same trades orders them alike.
 * A loss is lower-is-better, as in freqtrade.
 */

type Figures = Readonly<Record<string, unknown>>;

const figure = (result: Figures, name: string): number | null => {
  const value = result[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
};

/** freqtrade's `results["profit_abs"].sum()`: the final balance less the starting one. */
const profitAbs = (result: Figures): number | null => {
  const start = figure(result, 'starting_balance');
  const end = figure(result, 'final_balance');
  if (start !== null && end !== null) return end - start;
  const percent = figure(result, 'total_return');
  return start !== null && percent !== null ? (start * percent) / 100 : null;
};

const negated = (value: number | null) => (value === null ? null : -value);

export interface Ranking {
  better: 'higher' | 'lower';
  /** The figure ranked by, from a run's summary; null when the run could not compute it. */
  of: (result: Figures) => number | null;
  /** What it is, for the README and the leaderboard's header. */
  describe: string;
}

/** freqtrade's ProfitDrawDownHyperOptLoss weight (hyperopt_loss_profit_drawdown.py DRAWDOWN_MULT, 2024.10). */
export const PROFIT_DRAWDOWN_MULT = 0.075;

const summaryFigure = (name: string, better: Ranking['better'], describe: string): Ranking => ({
  better,
  of: (result) => figure(result, name),
  describe,
});

export const RANKINGS = {
  sharpe_ratio: summaryFigure('sharpe_ratio', 'higher', "the summary's sharpe_ratio (calculate_sharpe)"),
  sortino_ratio: summaryFigure('sortino_ratio', 'higher', "the summary's sortino_ratio (calculate_sortino)"),
  calmar_ratio: summaryFigure('calmar_ratio', 'higher', "the summary's calmar_ratio (calculate_calmar)"),
  total_return: summaryFigure('total_return', 'higher', 'profit_total, % of the starting balance'),
  profit_factor: summaryFigure('profit_factor', 'higher', 'gross profit over gross loss'),
  win_rate: summaryFigure('win_rate', 'higher', 'winning trades, %'),
  max_drawdown: summaryFigure('max_drawdown', 'lower', 'max_drawdown_account, %'),
  SharpeHyperOptLoss: {
    better: 'lower',
    of: (result) => negated(figure(result, 'sharpe_ratio')),
    describe: 'freqtrade SharpeHyperOptLoss: -calculate_sharpe',
  },
  SortinoHyperOptLoss: {
    better: 'lower',
    of: (result) => negated(figure(result, 'sortino_ratio')),
    describe: 'freqtrade SortinoHyperOptLoss: -calculate_sortino',
  },
  CalmarHyperOptLoss: {
    better: 'lower',
    of: (result) => negated(figure(result, 'calmar_ratio')),
    describe: 'freqtrade CalmarHyperOptLoss: -calculate_calmar',
  },
  OnlyProfitHyperOptLoss: {
    better: 'lower',
    of: (result) => negated(profitAbs(result)),
    describe: 'freqtrade OnlyProfitHyperOptLoss: -sum(profit_abs)',
  },
  MaxDrawDownHyperOptLoss: {
    better: 'lower',
    of: (result) => {
      const profit = profitAbs(result);
      const drawdown = figure(result, 'max_drawdown_abs');
      if (profit === null) return null;
      // freqtrade: no losing trade (calculate_max_drawdown raises ValueError) -> -total_profit.
      return drawdown === null || drawdown === 0 ? -profit : -profit / drawdown;
    },
    describe: 'freqtrade MaxDrawDownHyperOptLoss: -sum(profit_abs) / max_drawdown_abs',
  },
  MaxDrawDownRelativeHyperOptLoss: {
    better: 'lower',
    of: (result) => {
      const profit = profitAbs(result);
      const drawdown = figure(result, 'max_drawdown_abs');
      const relative = figure(result, 'max_relative_drawdown');
      if (profit === null) return null;
      if (drawdown === null || drawdown === 0 || relative === null || relative === 0) return -profit;
      return -profit / drawdown / (relative / 100);
    },
    describe:
      'freqtrade MaxDrawDownRelativeHyperOptLoss: -sum(profit_abs) / max_drawdown_abs / max_relative_drawdown',
  },
  ProfitDrawDownHyperOptLoss: {
    better: 'lower',
    of: (result) => {
      const profit = profitAbs(result);
      const drawdown = figure(result, 'max_drawdown_account');
      if (profit === null) return null;
      // relative_account_drawdown of calculate_max_drawdown(starting_balance=...): 0 on its ValueError.
      const relative = (drawdown ?? 0) / 100;
      return -1 * (profit - relative * profit * (1 - PROFIT_DRAWDOWN_MULT));
    },
    describe:
      'freqtrade ProfitDrawDownHyperOptLoss: -(profit - max_drawdown_account x profit x (1 - DRAWDOWN_MULT))',
  },
} as const satisfies Record<string, Ranking>;

export type RankMetric = keyof typeof RANKINGS;

/** What a leaderboard may rank by, and which way is better. */
export const RANK_METRICS = Object.fromEntries(
  Object.entries(RANKINGS).map(([name, ranking]) => [name, ranking.better]),
) as { [K in RankMetric]: (typeof RANKINGS)[K]['better'] };

/**
 * Which finished variants a leaderboard may rank. With a handful of trades a Sharpe, a drawdown
 * or a profit measures luck; a 0-trade variant would win on drawdown. freqtrade's hyperopt has the
 * same gate (`hyperopt_min_trades`, optimize/hyperopt.py: an epoch below it gets MAX_LOSS), with a
 * default of 1; ours is 30 (docs/decisions/0044).
 */
export interface SweepGates {
  /** Fewest trades (default 30). */
  min_trades: number;
  /** Largest max_drawdown, % (none by default). */
  max_drawdown: number | null;
  /** Fewest days whose closed trades made or lost money (winning + losing days; default 0). */
  min_trading_days: number;
}

export const DEFAULT_GATES: SweepGates = { min_trades: 30, max_drawdown: null, min_trading_days: 0 };

/** Why a finished variant may not be ranked, or undefined when it may. */
export const gateFailure = (result: Figures, gates: SweepGates): string | undefined => {
  const trades = figure(result, 'total_trades');
  if (trades === null || trades < gates.min_trades)
    return `${trades ?? 'no'} trades, fewer than the ${gates.min_trades} a variant needs to be ranked`;
  const drawdown = figure(result, 'max_drawdown');
  if (gates.max_drawdown !== null && drawdown !== null && drawdown > gates.max_drawdown)
    return `max_drawdown ${drawdown} %, above the sweep's ${gates.max_drawdown} %`;
  if (gates.min_trading_days > 0) {
    const days = (figure(result, 'winning_days') ?? 0) + (figure(result, 'losing_days') ?? 0);
    if (days < gates.min_trading_days)
      return `${days} trading days, fewer than the sweep's ${gates.min_trading_days}`;
  }
  return undefined;
};
