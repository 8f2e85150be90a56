export { dataCollectionProxyInput as input, environment, type FreshnessReport, handler } from './handler';
