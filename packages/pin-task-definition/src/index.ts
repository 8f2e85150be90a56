export { environment, handler, type PinnedRun, pinTaskDefinitionInput as input } from './handler';
export { type PinnedTaskDefinition, pinTaskDefinition, TEMPLATE_TAG } from './task-definition';
