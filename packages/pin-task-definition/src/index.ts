export { environment, handler, type PinnedRun, pinTaskDefinitionInput } from './handler';
export { type PinnedTaskDefinition, pinTaskDefinition, TEMPLATE_TAG } from './task-definition';
