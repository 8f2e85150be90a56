export { type CleanupResult, cleanupResourcesInput as input, environment, handler } from './handler';
