export { type ApiResponse, environment, handler, startWorkflowInput } from './handler';
