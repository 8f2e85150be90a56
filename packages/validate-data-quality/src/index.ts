export { type DataQualityReport, environment, handler, validateDataQualityInput } from './handler';
export { judgeQuality, type QualityThresholds, type SymbolQuality } from './quality';
