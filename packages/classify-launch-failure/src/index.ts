export { classifyLaunchFailureInput as input, environment, handler, type LaunchFailure } from './handler';
