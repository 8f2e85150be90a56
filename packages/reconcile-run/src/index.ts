export {
  environment,
  handler,
  type Reconciled,
  type RecordOutcome,
  reconcileRunInput as input,
} from './handler';
