export { useWorld } from './aws';
export { applyUpdate, ConditionalCheckFailed, unmarshall } from './dynamodb-expressions';
export { applyLocalEnvironment, LOCAL_BUCKETS, LOCAL_ENVIRONMENT, NOTIFICATION_TOPIC_ARN } from './handlers';
export {
  type AslDefinition,
  type AslState,
  allStates,
  LOCAL,
  LOCAL_SUBSTITUTIONS,
  MACHINES,
  type MachineName,
  placeholdersOf,
  readAsl,
  resolvedAsl,
  stateMachine,
} from './machines';
export { checkPaths, type PathProblem } from './path-check';
export {
  caseDefinition,
  DLQ_URL,
  type RunOptions,
  runWorkflow,
  type StateEvent,
  TABLE,
  type WorkflowRun,
} from './run';
export { type CaseDefinition, type CaseExpectation, readCases, readMockConfig } from './scenarios';
export { checkFixtures, SEEDED, seedWorld } from './seed';
export { namedError } from './tasks';
export { worstCasePathSeconds, worstCaseStateSeconds } from './timing';
export { World, type WorldChange } from './world';
