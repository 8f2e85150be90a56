export {
  environment,
  handler,
  type NormalisedDataSyncRequest,
  validateDataRequestInput as input,
} from './handler';
