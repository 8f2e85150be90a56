export { type CleanupResult, cleanupResourcesInput, environment, handler } from './handler';
