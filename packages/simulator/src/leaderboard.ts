import type { LeaderboardFile, Ranked } from '@tradai/aggregate-sweep';
import type { WorkflowRun } from '@tradai/local-aws';
import type { Palette } from './format';

/** One ranked variant, as aggregate-sweep writes it. */
export type RankedVariant = Ranked;

/** leaderboard.json, as aggregate-sweep writes it beside the sweep's results, and where it was read. */
export type Leaderboard = LeaderboardFile & { uri: string };

/**
 * The leaderboard aggregate-sweep wrote for this run's sweep (`sweeps/<sweep id>/leaderboard.json`),
 * read back from the world's S3 objects; none if the run wrote none (refused, or stopped first).
 */
export const leaderboardOf = (run: WorkflowRun): Leaderboard | undefined => {
  if (!run.runId) return undefined;
  const suffix = `/sweeps/${run.runId}/leaderboard.json`;
  const uri = run.world.changes
    .flatMap((change) => (change.kind === 's3:put' && change.uri.endsWith(suffix) ? [change.uri] : []))
    .at(-1);
  const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri ?? '') ?? [];
  const object = bucket && key ? run.world.getObject(bucket, key) : undefined;
  if (!uri || !object) return undefined;
  try {
    const board = JSON.parse(new TextDecoder().decode(object.body)) as Omit<Leaderboard, 'uri'>;
    return Array.isArray(board.ranked)
      ? { ...board, failures: board.failures ?? [], ineligible: board.ineligible ?? [], uri }
      : undefined;
  } catch {
    return undefined;
  }
};

/** A variant's overrides as `path -> value`: `{ minimal_roi: { 0: 0.04 } }` -> `minimal_roi.0 -> 0.04`. */
const flatten = (value: unknown, prefix = ''): [string, unknown][] =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0
    ? Object.entries(value).flatMap(([key, inner]) => flatten(inner, prefix ? `${prefix}.${key}` : key))
    : [[prefix, value]];

/** The overrides whose value is not the same in every ranked variant, in the order they first appear. */
const differing = (ranked: readonly RankedVariant[]) => {
  const values = new Map<string, Set<string>>();
  const flat = ranked.map((variant) => new Map(flatten(variant.config_overrides)));
  for (const overrides of flat) for (const [path] of overrides) values.set(path, new Set());
  for (const overrides of flat)
    for (const [path, seen] of values) seen.add(JSON.stringify(overrides.get(path)) ?? '(unset)');
  return {
    columns: [...values].filter(([, seen]) => seen.size > 1).map(([path]) => path),
    flat,
  };
};

const fixed = (value: number | null, digits = 2) => (value === null ? '-' : value.toFixed(digits));
const shown = (value: unknown) =>
  value === undefined ? '-' : typeof value === 'string' ? value : JSON.stringify(value);

/**
 * The leaderboard as a person reads it: rank, variant, the parameters that differ between
 * variants, trades, profit, drawdown and the ranking metric, best first as aggregate-sweep ranked
 * them; the first `top`, and the failures.
 */
export const leaderboardLines = (board: Leaderboard, top: number, c: Palette): string[] => {
  const { ranked, failures, ineligible } = board;
  const finished = ranked.length;
  const notRun = Array.isArray(board.not_run)
    ? board.not_run.length
    : Math.max(0, board.variants - finished - ineligible.length - failures.length);
  const partial = finished < board.variants;
  const variantOf = (runId: string) =>
    runId.startsWith(`${board.sweep_id}-`) ? runId.slice(board.sweep_id.length + 1) : runId;
  const title = [
    `Leaderboard: ${partial ? `${finished} of ` : ''}${board.variants} variants of ${board.sweep_id}, ranked by ${board.rank_by} (${board.better ?? 'higher'} is better)`,
    ...[
      ineligible.length > 0 ? `${ineligible.length} not ranked (outside the gates)` : '',
      failures.length > 0 ? `${failures.length} failed` : '',
      notRun > 0 ? `${notRun} never ran` : '',
    ]
      .filter(Boolean)
      .map((part, i) => `${i === 0 ? '; ' : ', '}${part}`),
  ].join('');
  const gates = board.gates
    ? [
        `at least ${board.gates.min_trades} trades`,
        ...(board.gates.max_drawdown === null ? [] : [`max drawdown at most ${board.gates.max_drawdown} %`]),
        ...(board.gates.min_trading_days > 0
          ? [`at least ${board.gates.min_trading_days} trading days`]
          : []),
      ].join(', ')
    : '';
  const lines = [c.bold(title)];
  // What a loss function is needs saying; a summary figure's name says it.
  const described = board.ranking && /HyperOptLoss$/.test(board.rank_by) ? board.ranking : '';
  if (described || gates)
    lines.push(`  ${[described, gates ? `ranked only with ${gates}` : ''].filter(Boolean).join('; ')}`);
  const oos = board.out_of_sample;
  if (finished === 0) {
    lines.push('  no variant finished');
  } else {
    const { columns, flat } = differing(ranked);
    // The metric has its own column unless it is one already (profit, drawdown, trades).
    const metricColumn = !['total_return', 'max_drawdown', 'total_trades'].includes(board.rank_by);
    const header = [
      'rank',
      'variant',
      ...columns,
      'trades',
      'profit %',
      'max drawdown %',
      ...(metricColumn ? [board.rank_by] : []),
      ...(oos ? ['held-out profit %', ...(metricColumn ? [`held-out ${board.rank_by}`] : []), 'holds'] : []),
    ];
    const rows = ranked
      .slice(0, top)
      .map((variant, index) => [
        String(variant.rank),
        variantOf(variant.run_id),
        ...columns.map((path) => shown(flat[index]?.get(path))),
        variant.total_trades === null ? '-' : String(variant.total_trades),
        fixed(variant.total_return),
        fixed(variant.max_drawdown),
        ...(metricColumn ? [fixed(variant.metric)] : []),
        ...(oos
          ? [
              fixed(variant.out_of_sample?.total_return ?? null),
              ...(metricColumn ? [fixed(variant.out_of_sample?.metric ?? null)] : []),
              variant.out_of_sample ? (variant.out_of_sample.holds ? 'yes' : 'no') : '-',
            ]
          : []),
      ]);
    // Numbers to the right, words to the left, as a spreadsheet has them.
    const numeric = header.map((_, i) => rows.every((row) => /^(-?[\d.]+|-)$/.test(row[i] ?? '')));
    const widths = header.map((title, i) =>
      Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)),
    );
    const line = (cells: string[]) =>
      `  ${cells
        .map((cell, i) => (numeric[i] ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd()}`;
    lines.push(line(header), ...rows.map(line));
    const best = ranked[0] as RankedVariant;
    const more =
      finished > rows.length ? `${rows.length} of ${finished} shown; --top N or --json for all. ` : '';
    const named =
      variantOf(best.run_id) === best.run_id
        ? ''
        : `Variant ${variantOf(best.run_id)} ran as ${best.run_id}.`;
    if (more || named) lines.push(`  ${more}${named}`.trimEnd());
    lines.push(...verdictLines(board, variantOf, c));
  }
  if (failures.length > 0) {
    const listed = failures.slice(0, top);
    lines.push(
      `  ${failures.length} failed${listed.length < failures.length ? ` (${listed.length} shown)` : ''}:`,
    );
    for (const failure of listed)
      lines.push(
        `    variant ${variantOf(failure.run_id)}  ${c.red(failure.reason.replace(/\s+/g, ' ').slice(0, 140))}`,
      );
  }
  return lines;
};

/**
 * What a quant needs before betting on the leaderboard: which variant won and why (held out of
 * sample, or in sample only), and how much of its Sharpe ratio selection explains.
 */
const verdictLines = (board: Leaderboard, variantOf: (runId: string) => string, c: Palette): string[] => {
  const lines: string[] = [];
  const oos = board.out_of_sample;
  const leader = board.ranked[0];
  if (!board.complete) {
    lines.push('  The held-out stage has not run: no winner yet.');
  } else if (oos) {
    const range = `${oos.start_date} to ${oos.end_date}`;
    if (leader?.out_of_sample && !leader.out_of_sample.holds)
      lines.push(
        c.red(
          `  The in-sample leader, variant ${variantOf(leader.run_id)}, fails out of sample (${range}): ${leader.out_of_sample.reason}.`,
        ),
      );
    lines.push(
      board.winner
        ? c.bold(
            `  Winner: variant ${variantOf(board.winner.run_id)} (rank ${board.winner.rank} in sample), which held out of sample (${range}).`,
          )
        : c.red(`  No winner: none of the top ${oos.top_n} in sample held out of sample (${range}).`),
    );
  } else if (board.winner) {
    lines.push(
      `  Winner: variant ${variantOf(board.winner.run_id)}, in sample only: no held-out check (set out_of_sample to run one).`,
    );
  }
  const testing = board.multiple_testing;
  const dsr = testing?.leader?.deflated_sharpe_ratio;
  if (
    testing?.leader &&
    dsr !== null &&
    dsr !== undefined &&
    testing.expected_max_sharpe_per_trade !== null
  ) {
    lines.push(
      `  ${testing.variants_tried} variants tried: the best of that many with no edge would show a Sharpe ratio of ${testing.expected_max_sharpe_per_trade.toFixed(3)} per trade; ` +
        `the leader's ${testing.leader.sharpe_per_trade?.toFixed(3) ?? '-'} gives a deflated Sharpe ratio of ${dsr.toFixed(2)} ` +
        `(the chance its edge is real${dsr < 0.95 ? ', below the 0.95 a discovery needs' : ''}).`,
    );
  }
  if (board.failures.length > 0 && board.complete)
    lines.push(
      `  Re-run the failed variants: {"rerun_failed": {"sweep_id": "${board.sweep_id}", "attempt": ${board.attempt + 1}}}`,
    );
  return lines;
};
