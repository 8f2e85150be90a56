export {
  handler,
  type NormalisedBacktestRequest,
  validateBacktestRequestInput,
} from './handler';
