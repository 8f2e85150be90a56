import { RANK_METRICS, type RankMetric } from '@tradai/lambda-kit';

/** A variant that ran to the end, as the Distributed Map's ResultWriter keeps it. */
export interface Finished {
  run_id: string;
  config_overrides: Record<string, unknown>;
  result: Record<string, unknown>;
}

/** A variant that failed, with the reason a person can read. */
export interface Failure {
  run_id: string;
  error: string;
  reason: string;
}

export interface Ranked {
  rank: number;
  run_id: string;
  /** The metric ranked by; null when the run could not compute it (ranked last). */
  metric: number | null;
  sharpe_ratio: number | null;
  total_return: number | null;
  max_drawdown: number | null;
  win_rate: number | null;
  total_trades: number | null;
  config_overrides: Record<string, unknown>;
}

const numberOr = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

/**
 * The fewest trades a variant needs to be ranked: with a handful of trades a Sharpe, a drawdown or a
 * profit factor measures luck, and a 0-trade variant would win on drawdown. Fixed for now; a sweep
 * will set its own (issue 25).
 */
export const MIN_TRADES_TO_RANK = 30;

/** A variant that finished but is not ranked, and why. */
export interface Ineligible {
  run_id: string;
  total_trades: number | null;
  reason: string;
}

/** A variant's index in its sweep (`<sweep_id>-<index>`), for ties: numeric, so 9 comes before 10. */
const indexOf = (runId: string) => Number(/-(\d+)$/.exec(runId)?.[1] ?? Number.POSITIVE_INFINITY);

/**
 * The finished variants with enough trades, best first by `rankBy` (higher or lower is better, per
 * metric); ties break on the variant's index, as a number. A variant with fewer than `minTrades`
 * trades (or none recorded) is listed as ineligible with the reason, never ranked.
 */
export const rank = (
  finished: readonly Finished[],
  rankBy: RankMetric,
  minTrades = MIN_TRADES_TO_RANK,
): { ranked: Ranked[]; ineligible: Ineligible[] } => {
  const better = RANK_METRICS[rankBy] === 'higher' ? -1 : 1;
  const byIndex = (a: { run_id: string }, b: { run_id: string }) =>
    indexOf(a.run_id) - indexOf(b.run_id) || a.run_id.localeCompare(b.run_id);
  const ineligible: Ineligible[] = [];
  const eligible = finished.filter((variant) => {
    const trades = numberOr(variant.result.total_trades);
    if (trades !== null && trades >= minTrades) return true;
    ineligible.push({
      run_id: variant.run_id,
      total_trades: trades,
      reason: `${trades ?? 'no'} trades, fewer than the ${minTrades} a variant needs to be ranked`,
    });
    return false;
  });
  const ranked = eligible
    .map((variant) => ({ variant, metric: numberOr(variant.result[rankBy]) }))
    .sort((a, b) => {
      if (a.metric === null || b.metric === null) {
        if (a.metric !== b.metric) return a.metric === null ? 1 : -1;
      } else if (a.metric !== b.metric) return better * (a.metric - b.metric);
      return (
        indexOf(a.variant.run_id) - indexOf(b.variant.run_id) ||
        a.variant.run_id.localeCompare(b.variant.run_id)
      );
    })
    .map(({ variant, metric }, index) => ({
      rank: index + 1,
      run_id: variant.run_id,
      metric,
      sharpe_ratio: numberOr(variant.result.sharpe_ratio),
      total_return: numberOr(variant.result.total_return),
      max_drawdown: numberOr(variant.result.max_drawdown),
      win_rate: numberOr(variant.result.win_rate),
      total_trades: numberOr(variant.result.total_trades),
      config_overrides: variant.config_overrides,
    }));
  return { ranked, ineligible: ineligible.sort(byIndex) };
};

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
      r.config_overrides,
    ]),
  ]
    .map((row) => row.map(csvField).join(','))
    .join('\r\n')
    .concat('\r\n');
