export { environment, handler, type PreparedRun, prepareConfigInput as input } from './handler';
export { buildRunConfig } from './run-config';
