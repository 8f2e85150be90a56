export { type ApiResponse, handler, startWorkflowInput } from './handler';
