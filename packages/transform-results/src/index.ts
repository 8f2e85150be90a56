export { backtestMetrics, handler, type TransformedResult, transformResultsInput } from './handler';
export { type BacktestSummary, ratiosFromDailyProfit, summarise } from './summary';
