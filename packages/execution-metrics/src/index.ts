export {
  type EmittedMetrics,
  executionMetrics,
  executionMetricsInput,
  handler,
  type LifecycleMetric,
  lifecycleMetrics,
  statusEventKey,
  workflowTypeOf,
} from './handler';
