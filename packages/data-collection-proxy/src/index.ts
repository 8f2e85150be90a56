export { dataCollectionProxyInput, environment, type FreshnessReport, handler } from './handler';
