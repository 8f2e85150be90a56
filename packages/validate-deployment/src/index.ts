export { handler, type ValidatedDeployment, validateDeploymentInput } from './handler';
