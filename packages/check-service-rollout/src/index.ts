export {
  checkServiceRolloutInput as input,
  environment,
  handler,
  type RolloutState,
  rolloutBudgetSeconds,
} from './handler';
