export { type ApiResponse, environment, handler, startWorkflowInput as input } from './handler';
