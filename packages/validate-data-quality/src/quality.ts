import {
  type DatasetManifest,
  isoDateToMillis,
  type ManifestRead,
  TIMEFRAME_SECONDS,
  type Timeframe,
} from '@tradai/lambda-kit';

/** The quality bar a synced dataset must meet (docs/contracts/dataset-manifest.md, "Quality"). */
export interface QualityThresholds {
  /** Missing candles / expected candles. */
  maxGapRatio: number;
  /** Duplicate candles / candles. */
  maxDuplicateRatio: number;
  /** Candles whose OHLC values contradict each other, summed over the four counters. */
  maxOhlcViolations: number;
}

export interface QualityRequest {
  exchange: string;
  timeframe: Timeframe;
  startMillis: number;
  endMillis: number;
  nowMillis: number;
  /** The sync task's start: a manifest updated before it was not written by this sync. */
  syncedAfterMillis: number | undefined;
}

export interface SymbolQuality {
  symbol: string;
  passed: boolean;
  issues: string[];
}

const iso = (millis: number) => new Date(millis).toISOString().replace('.000Z', 'Z');
const percent = (ratio: number) => `${(ratio * 100).toFixed(3)} %`;

/** Judges one symbol's manifest; every failed check is one issue, so a person sees them all at once. */
export const judgeQuality = (
  symbol: string,
  read: ManifestRead,
  request: QualityRequest,
  thresholds: QualityThresholds,
): SymbolQuality => {
  if (!read.ok) return { symbol, passed: false, issues: [read.reason] };
  const manifest: DatasetManifest = read.manifest;
  const issues: string[] = [];

  if (
    manifest.exchange !== request.exchange ||
    manifest.symbol !== symbol ||
    manifest.timeframe !== request.timeframe
  ) {
    issues.push(
      `manifest describes ${manifest.exchange} ${manifest.symbol} ${manifest.timeframe}, not ${request.exchange} ${symbol} ${request.timeframe}`,
    );
  }
  if (isoDateToMillis(manifest.coverage.start) > request.startMillis) {
    issues.push(`data starts at ${manifest.coverage.start}, after the requested ${iso(request.startMillis)}`);
  }
  // A range that reaches the present can only hold candles that have closed.
  const needed = Math.min(request.endMillis, request.nowMillis - TIMEFRAME_SECONDS[request.timeframe] * 1000);
  if (isoDateToMillis(manifest.coverage.end) < needed) {
    issues.push(`data ends at ${manifest.coverage.end}, before the requested ${iso(needed)}`);
  }
  const gapRatio =
    manifest.expected_candle_count > 0 ? manifest.gaps.missing_candles / manifest.expected_candle_count : 0;
  if (gapRatio > thresholds.maxGapRatio) {
    issues.push(
      `${manifest.gaps.missing_candles} missing candles in ${manifest.gaps.count} gaps (${percent(gapRatio)}, above ${percent(thresholds.maxGapRatio)})`,
    );
  }
  const duplicateRatio = manifest.candle_count > 0 ? manifest.duplicate_candles / manifest.candle_count : 0;
  if (duplicateRatio > thresholds.maxDuplicateRatio) {
    issues.push(
      `${manifest.duplicate_candles} duplicate candles (${percent(duplicateRatio)}, above ${percent(thresholds.maxDuplicateRatio)})`,
    );
  }
  const violations = Object.entries(manifest.ohlc_violations).filter(([, count]) => count > 0);
  const total = violations.reduce((sum, [, count]) => sum + count, 0);
  if (total > thresholds.maxOhlcViolations) {
    issues.push(
      `OHLC sanity violations: ${violations.map(([name, count]) => `${name} ${count}`).join(', ')}`,
    );
  }
  if (
    request.syncedAfterMillis !== undefined &&
    isoDateToMillis(manifest.last_updated) < request.syncedAfterMillis
  ) {
    issues.push(
      `manifest last updated ${manifest.last_updated}, before this sync started (${iso(request.syncedAfterMillis)}): the sync did not write it`,
    );
  }
  return { symbol, passed: issues.length === 0, issues };
};
