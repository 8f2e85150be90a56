export { handler, type NormalisedDataSyncRequest, validateDataRequestInput } from './handler';
