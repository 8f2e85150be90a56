export { environment, handler, type ValidatedDeployment, validateDeploymentInput } from './handler';
