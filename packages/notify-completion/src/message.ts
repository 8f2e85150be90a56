import type { Workflow, WorkflowError } from '@tradai/lambda-kit';

export interface Notification {
  workflow: Workflow;
  status: 'COMPLETED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  run_id?: string | undefined;
  strategy_name?: string | undefined;
  strategy_version?: string | undefined;
  execution_arn?: string | undefined;
  result?: Record<string, unknown> | undefined;
  error?: WorkflowError | undefined;
  sync_id?: string | undefined;
  requested_by?: { workflow: string; run_id: string } | null | undefined;
  sweep_id?: string | null | undefined;
}

/** SNS subjects: at most 100 printable ASCII characters, no line breaks. */
const SUBJECT_LIMIT = 100;
/** Causes can be whole ECS task descriptions; a person needs the start of it, the log has the rest. */
const CAUSE_LIMIT = 2_000;

const ascii = (text: string) => text.replace(/[^\x20-\x7e]/g, '?');

export const subjectOf = (n: Notification): string => {
  const who = [n.strategy_name, n.run_id && `run ${n.run_id}`, n.sync_id && `sync ${n.sync_id}`]
    .filter(Boolean)
    .join(', ');
  const subject = ascii(`[TradAI] ${n.workflow} ${n.status}${who ? `: ${who}` : ''}`);
  return subject.length <= SUBJECT_LIMIT ? subject : `${subject.slice(0, SUBJECT_LIMIT - 3)}...`;
};

/** Labels and units for the result fields a person reads first (transform-results' summary). */
const RESULT_LINES: ReadonlyArray<[key: string, label: string, unit: string]> = [
  ['total_return', 'Total return', ' %'],
  ['max_drawdown', 'Max drawdown', ' %'],
  ['sharpe_ratio', 'Sharpe ratio', ''],
  ['sortino_ratio', 'Sortino ratio', ''],
  ['calmar_ratio', 'Calmar ratio', ''],
  ['total_trades', 'Trades', ''],
  ['win_rate', 'Win rate', ' %'],
  ['profit_factor', 'Profit factor', ''],
  ['timeframe', 'Timeframe', ''],
  ['exchange', 'Exchange', ''],
  ['symbols', 'Symbols', ''],
  ['start', 'From', ''],
  ['end', 'To', ''],
];

const show = (value: unknown): string => {
  if (value === null || value === undefined) return 'n/a';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(2);
  return typeof value === 'string' ? value : JSON.stringify(value);
};

const row = (label: string, value: string) => `${`${label}:`.padEnd(15)}${value}`;

export const bodyOf = (n: Notification): string => {
  const lines = [`TradAI ${n.workflow} workflow ${n.status}`, ''];
  if (n.run_id) lines.push(row('Run', n.run_id));
  if (n.strategy_name)
    lines.push(row('Strategy', [n.strategy_name, n.strategy_version].filter(Boolean).join(' ')));
  if (n.sync_id) lines.push(row('Sync', n.sync_id));
  if (n.requested_by)
    lines.push(row('Requested by', `${n.requested_by.workflow} run ${n.requested_by.run_id}`));
  if (n.execution_arn) lines.push(row('Execution', n.execution_arn));
  if (n.result) {
    lines.push('', 'Results');
    for (const [key, label, unit] of RESULT_LINES) {
      if (key in n.result) {
        const value = n.result[key];
        lines.push(`  ${row(label, `${show(value)}${value === null || value === undefined ? '' : unit}`)}`);
      }
    }
  }
  if (n.error) {
    const cause = n.error.Cause ?? '';
    lines.push('', row('Error', n.error.Error));
    if (cause)
      lines.push(row('Cause', cause.length > CAUSE_LIMIT ? `${cause.slice(0, CAUSE_LIMIT)}...` : cause));
  }
  return `${lines.join('\n')}\n`;
};
