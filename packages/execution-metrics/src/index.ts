export {
  type EmittedMetrics,
  environment,
  executionMetrics,
  executionMetricsInput as input,
  handler,
  type LifecycleMetric,
  lifecycleMetrics,
  workflowTypeOf,
} from './handler';
