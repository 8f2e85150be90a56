export { environment, handler, type StrategyValidation, validateStrategyInput as input } from './handler';
