export {
  type EmittedMetrics,
  executionMetrics,
  executionMetricsInput,
  handler,
  workflowTypeOf,
} from './handler';
