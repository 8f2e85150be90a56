export { environment, handler, type OpenTradesSnapshot, snapshotOpenTradesInput as input } from './handler';
