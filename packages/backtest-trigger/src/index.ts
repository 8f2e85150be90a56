export { backtestTriggerInput, environment, handler } from './handler';
