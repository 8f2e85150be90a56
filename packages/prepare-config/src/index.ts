export { environment, handler, type PreparedRun, prepareConfigInput } from './handler';
export { buildRunConfig, deepMerge } from './run-config';
