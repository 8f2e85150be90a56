export { type DataQualityReport, handler, validateDataQualityInput } from './handler';
export { judgeQuality, type QualityThresholds, type SymbolQuality } from './quality';
