export { dataCollectionProxyInput, type FreshnessReport, handler } from './handler';
