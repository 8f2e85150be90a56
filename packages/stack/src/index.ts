export { FUNCTIONS, MACHINES, SUBSTITUTIONS } from './declaration';
export {
  functionLogicalId,
  functionName,
  functions,
  functionsOf,
  LOG_DELIVERY_ACTIONS,
  placeholdersOf,
  resources,
  roleLogicalId,
  stateMachines,
  substitutionsOf,
} from './serverless';
export type { FunctionDeclaration, MachineDeclaration, Statement } from './types';
