export {
  type EmittedMetrics,
  environment,
  executionMetrics,
  executionMetricsInput,
  handler,
  type LifecycleMetric,
  lifecycleMetrics,
  workflowTypeOf,
} from './handler';
