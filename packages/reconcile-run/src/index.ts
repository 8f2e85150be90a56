export { environment, handler, type Reconciled, type RecordOutcome, reconcileRunInput } from './handler';
