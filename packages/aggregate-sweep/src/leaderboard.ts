import { DEFAULT_GATES, gateFailure, RANKINGS, type RankMetric, type SweepGates } from '@tradai/lambda-kit';
import { expectedMaxSharpe, probabilisticSharpe, sharpePerTrade, variance } from './statistics';

/** A variant that ran to the end, as the Distributed Map's ResultWriter keeps it. */
export interface Finished {
  run_id: string;
  /** Its index in the sweep; taken from the run id (`<sweep_id>-<index>`) when absent. */
  index?: number;
  config_overrides: Record<string, unknown>;
  result: Record<string, unknown>;
}

/** A variant that failed, with the reason a person can read. */
export interface Failure {
  run_id: string;
  error: string;
  reason: string;
}

/** A ranked variant's run on the held-out tail of the timerange. */
export interface HoldoutCheck {
  run_id: string;
  status: 'SUCCEEDED' | 'FAILED' | 'NOT_RUN';
  metric: number | null;
  total_return: number | null;
  total_trades: number | null;
  /** It passed the held-out gates and made money on data it was not chosen on. */
  holds: boolean;
  reason: string;
}

export interface Ranked {
  rank: number;
  run_id: string;
  index: number;
  /** The figure ranked by; null when the run could not compute it (ranked last). */
  metric: number | null;
  sharpe_ratio: number | null;
  total_return: number | null;
  max_drawdown: number | null;
  win_rate: number | null;
  total_trades: number | null;
  config_overrides: Record<string, unknown>;
  /** Its run on the held-out tail, for the in-sample leaders of a sweep with one. */
  out_of_sample?: HoldoutCheck;
}

/** A variant that finished but is not ranked, and why. */
export interface Ineligible {
  run_id: string;
  index: number;
  total_trades: number | null;
  reason: string;
}

const numberOr = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

/** A variant's index from its run id (`<sweep_id>-<index>`, any stage's suffix), for old callers and ties. */
const indexFromRunId = (runId: string) =>
  Number(/-(\d+)(?:r\d+)?h?$/.exec(runId)?.[1] ?? Number.POSITIVE_INFINITY);
const indexOf = (variant: Finished) => variant.index ?? indexFromRunId(variant.run_id);

/**
 * The finished variants inside the sweep's gates, best first by `rankBy` (higher or lower is better,
 * per ranking). Ties break on the figure as a number, then on more trades (a figure over more
 * trades varies less), then on the variant's index, as a number. A variant outside the gates is
 * listed as ineligible with the reason, never ranked.
 */
export const rank = (
  finished: readonly Finished[],
  rankBy: RankMetric,
  gates: SweepGates = DEFAULT_GATES,
): { ranked: Ranked[]; ineligible: Ineligible[] } => {
  const ranking = RANKINGS[rankBy];
  const better = ranking.better === 'higher' ? -1 : 1;
  const ineligible: Ineligible[] = [];
  const eligible = finished.filter((variant) => {
    const reason = gateFailure(variant.result, gates);
    if (reason === undefined) return true;
    ineligible.push({
      run_id: variant.run_id,
      index: indexOf(variant),
      total_trades: numberOr(variant.result.total_trades),
      reason,
    });
    return false;
  });
  const ranked = eligible
    .map((variant) => ({
      variant,
      metric: ranking.of(variant.result),
      trades: numberOr(variant.result.total_trades) ?? 0,
    }))
    .sort((a, b) => {
      if (a.metric === null || b.metric === null) {
        if (a.metric !== b.metric) return a.metric === null ? 1 : -1;
      } else if (a.metric !== b.metric) return better * (a.metric - b.metric);
      return (
        b.trades - a.trades ||
        indexOf(a.variant) - indexOf(b.variant) ||
        a.variant.run_id.localeCompare(b.variant.run_id)
      );
    })
    .map(({ variant, metric }, position) => ({
      rank: position + 1,
      run_id: variant.run_id,
      index: indexOf(variant),
      metric,
      sharpe_ratio: numberOr(variant.result.sharpe_ratio),
      total_return: numberOr(variant.result.total_return),
      max_drawdown: numberOr(variant.result.max_drawdown),
      win_rate: numberOr(variant.result.win_rate),
      total_trades: numberOr(variant.result.total_trades),
      config_overrides: variant.config_overrides,
    }));
  return { ranked, ineligible: ineligible.sort((a, b) => a.index - b.index) };
};

/** What the leaderboard says of selection bias: how many were tried, and the winner's deflated Sharpe. */
export interface MultipleTesting {
  /** Variants that ran to the end: the trials the best was selected from. */
  variants_tried: number;
  /** Their per-trade Sharpe ratios' variance, over the ranked ones (the gates drop the noisiest). */
  sharpe_variance_per_trade: number | null;
  /** The per-trade Sharpe ratio the best of that many skill-less trials would show. */
  expected_max_sharpe_per_trade: number | null;
  /** The leader's: its per-trade Sharpe ratio and the probability its true Sharpe is above that maximum. */
  leader: { run_id: string; sharpe_per_trade: number | null; deflated_sharpe_ratio: number | null } | null;
  assumptions: string;
}

const perTrade = (variant: { sharpe: number | null; days: number | null; trades: number | null }) =>
  variant.sharpe !== null && variant.days && variant.trades
    ? sharpePerTrade(variant.sharpe, variant.days, variant.trades)
    : null;

/**
 * The deflated Sharpe ratio of the leader (statistics.ts): its per-trade Sharpe ratio against the
 * expected maximum of `tried` skill-less trials with the ranked variants' variance, over its trades.
 */
export const multipleTesting = (
  ranked: readonly Ranked[],
  finished: readonly Finished[],
  tried: number,
): MultipleTesting => {
  const byRunId = new Map(finished.map((variant) => [variant.run_id, variant.result]));
  const figures = (runId: string) => {
    const result = byRunId.get(runId) ?? {};
    return {
      sharpe: numberOr(result.sharpe_ratio),
      days: numberOr(result.backtest_days),
      trades: numberOr(result.total_trades),
    };
  };
  const perTrades = ranked.map((r) => perTrade(figures(r.run_id))).filter((v): v is number => v !== null);
  const spread = perTrades.length >= 2 ? variance(perTrades) : null;
  const benchmark = spread === null ? null : expectedMaxSharpe(tried, spread);
  const leader = ranked[0];
  const leaderFigures = leader ? figures(leader.run_id) : undefined;
  const leaderSharpe = leaderFigures ? perTrade(leaderFigures) : null;
  return {
    variants_tried: tried,
    sharpe_variance_per_trade: spread,
    expected_max_sharpe_per_trade: benchmark,
    leader: leader
      ? {
          run_id: leader.run_id,
          sharpe_per_trade: leaderSharpe,
          deflated_sharpe_ratio:
            leaderSharpe === null || benchmark === null || !leaderFigures?.trades
              ? null
              : probabilisticSharpe(leaderSharpe, benchmark, leaderFigures.trades),
        }
      : null,
    assumptions:
      'One observation per trade; trade returns taken as normal (skewness 0, kurtosis 3), which fat tails make optimistic; the trials taken as independent, which similar variants are not (also optimistic).',
  };
};

/**
 * The held-out gates: the sweep's, with its minimum trades and trading days scaled to the tail's
 * share of the timerange (at least 1 trade), since a quarter of the data holds about a quarter of
 * the trades.
 */
export const holdoutGates = (gates: SweepGates, share: number): SweepGates => ({
  min_trades: Math.max(1, Math.ceil(gates.min_trades * share)),
  max_drawdown: gates.max_drawdown,
  min_trading_days: Math.ceil(gates.min_trading_days * share),
});

/**
 * Each in-sample leader's run on the held-out tail: it holds when it passes the held-out gates and
 * its return there is above 0. A leader without a held-out run is NOT_RUN, and does not hold.
 */
export const checkHoldout = (
  ranked: readonly Ranked[],
  heldOut: ReadonlyMap<number, Finished | Failure>,
  rankBy: RankMetric,
  gates: SweepGates,
): Ranked[] =>
  ranked.map((variant) => {
    const run = heldOut.get(variant.index);
    if (!run) return variant;
    if (!('result' in run)) {
      return {
        ...variant,
        out_of_sample: {
          run_id: run.run_id,
          status: 'FAILED',
          metric: null,
          total_return: null,
          total_trades: null,
          holds: false,
          reason: `failed: ${run.reason}`,
        },
      };
    }
    const totalReturn = numberOr(run.result.total_return);
    const gate = gateFailure(run.result, gates);
    const reason =
      gate ??
      (totalReturn !== null && totalReturn > 0
        ? `returned ${totalReturn} % on the held-out tail`
        : `returned ${totalReturn ?? 'nothing'} % on the held-out tail, not above 0`);
    return {
      ...variant,
      out_of_sample: {
        run_id: run.run_id,
        status: 'SUCCEEDED',
        metric: RANKINGS[rankBy].of(run.result),
        total_return: totalReturn,
        total_trades: numberOr(run.result.total_trades),
        holds: gate === undefined && totalReturn !== null && totalReturn > 0,
        reason,
      },
    };
  });

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
const csvField = (value: unknown): string => {
  const text =
    value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

export const leaderboardCsv = (ranked: readonly Ranked[], rankBy: RankMetric): string =>
  [
    [
      'rank',
      'run_id',
      `ranked_by_${rankBy}`,
      'sharpe_ratio',
      'total_return',
      'max_drawdown',
      'win_rate',
      'total_trades',
      `out_of_sample_${rankBy}`,
      'out_of_sample_total_return',
      'out_of_sample_holds',
      'config_overrides',
    ],
    ...ranked.map((r) => [
      r.rank,
      r.run_id,
      r.metric,
      r.sharpe_ratio,
      r.total_return,
      r.max_drawdown,
      r.win_rate,
      r.total_trades,
      r.out_of_sample?.metric,
      r.out_of_sample?.total_return,
      r.out_of_sample?.holds,
      r.config_overrides,
    ]),
  ]
    .map((row) => row.map(csvField).join(','))
    .join('\r\n')
    .concat('\r\n');
