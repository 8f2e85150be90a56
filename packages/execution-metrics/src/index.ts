export {
  type EmittedMetrics,
  executionMetrics,
  executionMetricsInput,
  handler,
  type LifecycleMetric,
  lifecycleMetrics,
  type StatusChange,
  statusEventKey,
  workflowTypeOf,
} from './handler';
