export { handler, type PreparedRun, prepareConfigInput } from './handler';
export { buildRunConfig, deepMerge } from './run-config';
export { pinTaskDefinition, TEMPLATE_TAG } from './task-definition';
