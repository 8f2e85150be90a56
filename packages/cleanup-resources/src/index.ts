export { type CleanupResult, cleanupResourcesInput, handler } from './handler';
