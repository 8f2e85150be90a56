export { environment, handler, type ValidatedDeployment, validateDeploymentInput as input } from './handler';
