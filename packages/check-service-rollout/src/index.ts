export {
  checkServiceRolloutInput as input,
  environment,
  handler,
  MAX_ROLLOUT_SECONDS,
  ROLLOUT_POLL_SECONDS,
  type RolloutState,
  rolloutBudgetSeconds,
} from './handler';
