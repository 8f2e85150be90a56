export { environment, handler, type StrategyValidation, validateStrategyInput } from './handler';
