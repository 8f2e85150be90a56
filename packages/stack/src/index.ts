export { DEFAULT_REGION, FUNCTIONS, MACHINES, type MachineName, SUBSTITUTIONS } from './declaration';
export { GENERATED_FILES } from './generated';
export { type LocalAccount, type LocalStack, localStack } from './local';
export { cachedJson, LOCAL_CACHE, note, notedBefore, stampOf } from './local-cache';
export {
  functionLogicalId,
  functionName,
  functions,
  functionsOf,
  LOG_DELIVERY_ACTIONS,
  placeholdersOf,
  REPO_ROOT,
  resources,
  roleLogicalId,
  stateMachines,
  substitutionsOf,
} from './serverless';
export type { FunctionDeclaration, MachineDeclaration, Statement } from './types';
