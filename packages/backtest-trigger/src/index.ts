export { backtestTriggerInput, handler } from './handler';
