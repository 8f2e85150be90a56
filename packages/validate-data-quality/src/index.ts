export { type DataQualityReport, environment, handler, validateDataQualityInput as input } from './handler';
export { judgeQuality, type QualityThresholds, type SymbolQuality } from './quality';
