export {
  freqtradeCalmar,
  freqtradeMaxDrawdown,
  freqtradeSharpe,
  freqtradeSortino,
} from './freqtrade-metrics';
export {
  backtestMetrics,
  environment,
  handler,
  type TransformedResult,
  transformResultsInput as input,
} from './handler';
export { type BacktestSummary, summarise } from './summary';
