import type { SweepLeaderboard } from '@tradai/aggregate-sweep';
import type { RolloutState } from '@tradai/check-service-rollout';
import type { CleanupResult } from '@tradai/cleanup-resources';
import type { FreshnessReport } from '@tradai/data-collection-proxy';
import type { PinnedRun } from '@tradai/pin-task-definition';
import type { PreparedRun } from '@tradai/prepare-config';
import type { TransformedResult } from '@tradai/transform-results';
import type { NormalisedBacktestRequest } from '@tradai/validate-backtest-request';
import type { DataQualityReport } from '@tradai/validate-data-quality';
import type { NormalisedDataSyncRequest } from '@tradai/validate-data-request';
import type { ValidatedDeployment } from '@tradai/validate-deployment';
import type { StrategyValidation } from '@tradai/validate-strategy';
import type { ValidatedSweep } from '@tradai/validate-sweep';

/**
 * One example of what each Task resource returns, typed against the handlers' own result types
 * (`satisfies`), so a field removed from a handler breaks the type check before it breaks a
 * JSONPath. The path check treats every key of an example as always present.
 */
export const RESULT_EXAMPLES: Record<string, unknown> = {
  '${ValidateBacktestRequestArn}': {
    run_id: 'r',
    strategy_name: 'S',
    strategy_version: '1.0.0',
    experiment_name: 'e',
    symbols: ['BTC/USDT'],
    timeframe: '1h',
    start_date: '2024-01-01',
    end_date: '2024-02-01',
    config_overrides: {},
    auto_sync: false,
    sweep_id: null,
  } satisfies NormalisedBacktestRequest,
  '${ValidateStrategyArn}': {
    valid: true,
    image_uri: null,
    config_path: null,
    reasons: [],
  } satisfies StrategyValidation,
  '${DataCollectionProxyArn}': {
    all_fresh: true,
    exchange: 'binance',
    timeframe: '1h',
    checked_at: '2024-01-01T00:00:00Z',
    symbols: [],
  } satisfies FreshnessReport,
  '${PrepareConfigArn}': {
    config_path: 's3://b/k',
    timerange: '20240101-20240201',
    results_path: 's3://b/k/',
    params_path: '',
  } satisfies PreparedRun,
  '${PinTaskDefinitionArn}': {
    task_definition_arn: 'arn',
    registered: true,
    image_uri: 'i',
  } satisfies PinnedRun,
  '${TransformResultsArn}': {
    strategy: 'S',
    timeframe: '1h',
    start: 's',
    end: 'e',
    total_trades: 0,
    win_rate: null,
    profit_factor: null,
    total_return: 0,
    max_drawdown: null,
    max_drawdown_account: null,
    max_relative_drawdown: null,
    max_drawdown_abs: null,
    sharpe_ratio: null,
    sortino_ratio: null,
    calmar_ratio: null,
    sqn: null,
    expectancy: null,
    expectancy_ratio: null,
    cagr: null,
    ratio_source: {
      sharpe: 'absent',
      sortino: 'absent',
      calmar: 'absent',
      sqn: 'absent',
      expectancy: 'absent',
      expectancy_ratio: 'absent',
      cagr: 'absent',
      profit_factor: 'absent',
      drawdown: 'absent',
      days: 'absent',
    },
    ratio_notes: {},
    starting_balance: 1,
    final_balance: null,
    stake_currency: null,
    backtest_days: 1,
    winning_days: null,
    draw_days: null,
    losing_days: null,
    results_uri: 's3://b/k',
    duration_seconds: 0,
    parameters_verified: null,
  } satisfies TransformedResult,
  '${CleanupResourcesArn}': { prefix: 's3://b/runs/r/tmp/', deleted: 0 } satisfies CleanupResult,
  '${NotifyCompletionArn}': { message_id: 'm' },
  '${ValidateSweepArn}': {
    sweep_id: 's',
    max_concurrency: 1,
    tolerated_failure_percentage: 10,
    rank_by: 'sharpe_ratio',
    top_n: 1,
    auto_sync: false,
    data: { symbols: [], timeframe: '1h', start_date: 's', end_date: 'e' },
    variant_count: 1,
    items: { bucket: 'b', key: 'k', uri: 's3://b/k' },
    results: { bucket: 'b', prefix: 'p' },
    strategy_name: 'S',
    strategy_version: '1.0.0',
    experiment_name: 'e',
  } satisfies ValidatedSweep,
  '${AggregateSweepArn}': {
    sweep_id: 's',
    rank_by: 'sharpe_ratio',
    variants: 1,
    succeeded: 1,
    failed: 0,
    ineligible: 0,
    not_run: 0,
    top: [],
    failures: [],
    leaderboard: { json: 's3://b/j', csv: 's3://b/c' },
  } satisfies SweepLeaderboard,
  '${ValidateDataRequestArn}': {
    sync_id: 's',
    symbols: ['BTC/USDT'],
    timeframe: '1h',
    start_date: '2024-01-01',
    end_date: '2024-02-01',
    exchange: 'binance',
    requested_by: null,
  } satisfies NormalisedDataSyncRequest,
  '${ValidateDataQualityArn}': {
    passed: true,
    checked_at: 't',
    thresholds: { max_gap_ratio: 0, max_duplicate_ratio: 0, max_ohlc_violations: 0 },
    symbols: [],
  } satisfies DataQualityReport,
  '${ValidateDeploymentArn}': {
    deployment_id: 'd',
    request_id: 'r',
    strategy_name: 'S',
    strategy_version: '1.0.0',
    environment: 'dry-run',
    backtest_run_id: '',
    service_name: 's',
    lease: { now: 't', expires_at: 't', expires_at_epoch: '0' },
  } satisfies ValidatedDeployment,
  '${CheckServiceRolloutArn}': { state: 'COMPLETED', running: 1, desired: 1 } satisfies RolloutState,
  // Service integrations: what Step Functions returns for each. DescribeServices' list may be empty.
  'arn:aws:states:::aws-sdk:ecs:describeServices': { Services: [], Failures: [] },
  'arn:aws:states:::aws-sdk:ecs:updateService': { Service: {} },
  'arn:aws:states:::dynamodb:updateItem': {},
  'arn:aws:states:::dynamodb:putItem': {},
  'arn:aws:states:::dynamodb:deleteItem': {},
  // GetItem of a key that is not there answers without Item.
  'arn:aws:states:::dynamodb:getItem': {},
  'arn:aws:states:::sqs:sendMessage': { MessageId: 'm', MD5OfMessageBody: 'x' },
  'arn:aws:states:::ecs:runTask.sync': {
    TaskArn: 'arn',
    TaskDefinitionArn: 'arn',
    LastStatus: 'STOPPED',
    StartedAt: 0,
    StoppedAt: 0,
    StopCode: 'EssentialContainerExited',
    Containers: [],
  },
  'arn:aws:states:::states:startExecution.sync:2': {
    ExecutionArn: 'arn',
    Status: 'SUCCEEDED',
    StartDate: 0,
    StopDate: 0,
  },
};
