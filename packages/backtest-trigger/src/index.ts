export { backtestTriggerInput as input, environment, handler } from './handler';
