export { withWorld } from './aws';
export { type Bill, type BillLine, billOf, PRICES } from './bill';
export {
  type ChildRun,
  isDistributedMap,
  isInlineMap,
  runDistributedMap,
  runInlineMap,
  withMapsAsTasks,
} from './distributed-map';
export { applyUpdate, ConditionalCheckFailed, type Item, unmarshall } from './dynamodb-expressions';
export { type ResultRequest, simulatedFreqtradeResult } from './freqtrade';
export {
  applyLocalEnvironment,
  LOCAL_BUCKETS,
  LOCAL_ENVIRONMENT,
  NOTIFICATION_TOPIC_ARN,
} from './handlers';
export {
  type AslDefinition,
  type AslState,
  allStates,
  LOCAL,
  LOCAL_STACK,
  LOCAL_SUBSTITUTIONS,
  MACHINES,
  type MachineName,
  placeholdersOf,
  readAsl,
  resolvedAsl,
  stateMachine,
} from './machines';
export { type Provision, provisionForRequest } from './request-world';
export {
  caseDefinition,
  DLQ_URL,
  type NestedRun,
  type RunOptions,
  runWorkflow,
  type StateEvent,
  TABLE,
  type WorkflowRun,
} from './run';
export { type CaseDefinition, type CaseExpectation, caseInput, readCases, readMockConfig } from './scenarios';
export { checkFixtures, SEEDED, seedWorld } from './seed';
export { namedError } from './tasks';
export { onOwnClock, World, type WorldChange } from './world';
export { applyWorldFile, WorldFileError, worldFileSchema } from './world-file';
