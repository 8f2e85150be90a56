export {
  handler,
  type NormalisedBacktestRequest,
  validateBacktestRequestInput as input,
} from './handler';
