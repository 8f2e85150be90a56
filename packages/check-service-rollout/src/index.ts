export { checkServiceRolloutInput, handler, type RolloutState } from './handler';
