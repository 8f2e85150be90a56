export {
  environment,
  handler,
  sweepItemsKey,
  type ValidatedSweep,
  validateSweepInput as input,
} from './handler';
