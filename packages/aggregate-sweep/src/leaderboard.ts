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

/** The finished variants, best first by `rankBy` (higher or lower is better, per metric). */
export const rank = (finished: readonly Finished[], rankBy: RankMetric): Ranked[] => {
  const better = RANK_METRICS[rankBy] === 'higher' ? -1 : 1;
  return finished
    .map((variant) => ({ variant, metric: numberOr(variant.result[rankBy]) }))
    .sort((a, b) => {
      if (a.metric === null || b.metric === null) return a.metric === null ? (b.metric === null ? 0 : 1) : -1;
      return a.metric === b.metric
        ? a.variant.run_id.localeCompare(b.variant.run_id)
        : better * (a.metric - b.metric);
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
