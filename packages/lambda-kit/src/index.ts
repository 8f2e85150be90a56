export {
  awsClientConfig,
  httpStatusOf,
  isAccessDeniedError,
  isAwsErrorNamed,
  isTransientAwsError,
  toWorkflowError,
} from './aws-errors';
export { createLimiter, mapWithConcurrency } from './concurrency';
export { readEnvironment } from './config';
export {
  awsRegionSchema,
  type BacktestRequest,
  type BacktestRequestInput,
  backtestRequestSchema,
  bucketNameSchema,
  ccxtSymbolSchema,
  configOverridesSchema,
  dateRangeIssue,
  exchangeSchema,
  experimentNameSchema,
  imageDigestUriSchema,
  isoDateSchema,
  isoDateToMillis,
  MAX_SYMBOLS_PER_REQUEST,
  marketDataFields,
  rangeRunsForward,
  runIdSchema,
  strategyNameSchema,
  strategyVersionSchema,
  symbolListSchema,
  TIMEFRAME_SECONDS,
  type Timeframe,
  tableNameSchema,
  timeframeSchema,
  toFreqtradeTimerange,
} from './contracts';
export {
  type DataSyncRequest,
  dataSyncApiRequestSchema,
  dataSyncRequestSchema,
  MAX_SYNC_CANDLES_PER_SYMBOL,
  MAX_SYNC_DAYS,
} from './data-sync';
export {
  DATASET_MANIFEST_VERSION,
  type DatasetManifest,
  datasetManifestKey,
  datasetManifestSchema,
  datasetsEnvironment,
  symbolKeySegment,
} from './dataset-manifest';
export {
  DEPLOY_ENVIRONMENTS,
  type DeployEnvironment,
  type DeployRequest,
  deployRequestSchema,
  MAX_ROLLOUT_SECONDS,
  ROLLOUT_POLL_SECONDS,
  tradingServiceName,
} from './deploy';
export {
  BacktestResultError,
  ConfigurationError,
  DataStaleError,
  DeploymentRefusedError,
  ErrorNames,
  FAIL_FAST_ERRORS,
  type FieldIssue,
  RETRYABLE_LAMBDA_ERRORS,
  RolloutFailedError,
  RolloutInProgressError,
  RolloutTimedOutError,
  TransientAwsError,
  ValidationError,
} from './errors';
export {
  BUSINESS_FAILURES,
  FAILURE_CLASS_METRIC,
  type FailedStatus,
  type FailureClass,
  failureClassOf,
} from './failure-classes';
export {
  backtestConfigIssues,
  configKeysOfParameters,
  DECLARED_SPACES,
  FREQTRADE_VERSIONS,
  freqtradeLoadsParameterFile,
  futuresCandleTimeframes,
  PAIRLISTS_WITHOUT_BACKTESTING,
  PARAMETER_SPACES,
  type ParameterSpace,
  parameterDifferences,
  type RequiredDataset,
  requiredDatasets,
  resultZipMembers,
  type StrategyManifest,
  type StrategyParameterFile,
  type StrategyParameters,
  strategyManifestKey,
  strategyManifestSchema,
  strategyParameterFile,
  strategyParametersSchema,
  undeclaredParameterIssues,
} from './freqtrade';
export { createWorkflowHandler, type HandlerTools, METRICS_NAMESPACE } from './handler';
export { type ManifestRead, readManifest } from './manifest-reader';
export { deepMerge, isPlainObject } from './merge';
export { PRICES } from './prices';
export {
  DEFAULT_GATES,
  gateFailure,
  RANKINGS,
  type Ranking,
  type SweepGates,
} from './ranking';
export {
  executionNameSchema,
  parseS3Uri,
  RUN_STATUSES,
  type RunArtifacts,
  runArtifacts,
  runsEnvironment,
  WORKFLOWS,
  type Workflow,
  type WorkflowError,
  workflowErrorSchema,
  workflowSchema,
  wrappedExecutionInputSchema,
} from './run-artifacts';
export { S3Prefix, s3Prefix, s3PrefixSchema, s3Uri } from './s3-keys';
export { type NamedStart, startNamedExecution } from './start-execution';
export {
  type StatusChange,
  statusChangeEventSchema,
  UNCATCHABLE_ERRORS,
  workflowOfMachine,
} from './status-change';
export {
  type ExpandedSweep,
  expandSweep,
  isSweepRerun,
  MAX_RERUN_ATTEMPTS,
  RANK_METRICS,
  type RankMetric,
  readSweepLimits,
  SWEEP_STAGES,
  type SweepLimits,
  type SweepRequest,
  type SweepRerun,
  type SweepStage,
  type SweepStageName,
  sweepExecutionInput,
  sweepExecutionNameOf,
  sweepIdSchema,
  sweepLimitsEnvironment,
  sweepLimitsOf,
  sweepRequestSchema,
  sweepRerunSchema,
  sweepStage,
  sweepStageSchema,
  variantIndexOf,
  variantRunId,
  withTimerange,
} from './sweep';
export {
  BACKTEST_TRANSITIONS,
  STRATEGY_TASK,
  type SweepCost,
  sweepCost,
} from './sweep-cost';
export {
  canonicalJson,
  check,
  describeIssues,
  formatPath,
  MAX_INPUT_DEPTH,
  parseOrThrow,
  type Schema,
} from './validation';
