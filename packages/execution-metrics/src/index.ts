export {
  type EmittedMetrics,
  executionMetrics,
  executionMetricsInput,
  handler,
  type LifecycleMetric,
  lifecycleMetrics,
  workflowTypeOf,
} from './handler';
