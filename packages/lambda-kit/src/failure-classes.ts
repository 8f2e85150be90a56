/*
 * How a failed execution is counted and who hears about it (docs/decisions/0023). The class rests on
 * the error name alone, which the machines set from structured fields, never on a Cause text.
 */

/** `business`: the request or its data; `infrastructure`: ours to fix; `aborted`: a person stopped it. */
export type FailureClass = 'business' | 'infrastructure' | 'aborted';

/**
 * Error names that say the request, or the market data it asked for, cannot be served. They are
 * counted and shown on the dashboard; they never page. Every other name pages.
 */
export const BUSINESS_FAILURES: readonly string[] = [
  'ValidationError',
  'DataStaleError',
  'DuplicateRunError',
  'DeploymentRefusedError',
  // Another deploy of the same service holds its lease: nothing was touched; retry after it ends.
  'DeploymentInProgressError',
  // Refused before the service was touched (docs/decisions/0046): open trades under the refuse
  // policy, an exchange account another service trades, a lease another deploy took over.
  'TradesOpenError',
  'ExchangeAccountInUseError',
  'LeaseLostError',
  'DataQualityError',
  // The nested data sync failed: its own execution is classified (and pages) on its own.
  'DataSyncFailedError',
  // A sweep's variants are backtest executions, each classified (and paging) on its own; too many
  // of them failing, or a sweep started twice, is the sweep's outcome, not a broken stack.
  'SweepToleranceExceededError',
  'DuplicateSweepError',
];

/** The terminal statuses of a Step Functions execution that are not a success. */
export type FailedStatus = 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export const failureClassOf = (status: FailedStatus, errorName: string | null | undefined): FailureClass => {
  if (status === 'ABORTED') return 'aborted';
  if (status === 'TIMED_OUT') return 'infrastructure';
  return errorName && BUSINESS_FAILURES.includes(errorName) ? 'business' : 'infrastructure';
};

/** The count metric each class emits, beside `ExecutionFailed` (dimension `WorkflowType`). */
export const FAILURE_CLASS_METRIC: Record<FailureClass, string> = {
  business: 'BusinessFailure',
  infrastructure: 'InfrastructureFailure',
  aborted: 'ExecutionAborted',
};
