export { environment, handler, type NormalisedDataSyncRequest, validateDataRequestInput } from './handler';
