export { handler, type StrategyValidation, validateStrategyInput } from './handler';
