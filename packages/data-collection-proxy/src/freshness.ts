import type { S3Client } from '@aws-sdk/client-s3';
import {
  datasetManifestKey,
  isoDateToMillis,
  type ManifestRead,
  readManifest,
  type S3Prefix,
  TIMEFRAME_SECONDS,
  type Timeframe,
} from '@tradai/lambda-kit';

export interface SymbolFreshness {
  symbol: string;
  fresh: boolean;
  /** Why the data is not fresh; null when it is. */
  reason: string | null;
  /** End of the covered range (close time of the last candle), null without a readable manifest. */
  covered_until: string | null;
}

export interface FreshnessRequest {
  exchange: string;
  timeframe: Timeframe;
  startMillis: number;
  endMillis: number;
  nowMillis: number;
  graceSeconds: number;
}

const iso = (millis: number) => new Date(millis).toISOString().replace('.000Z', 'Z');

/**
 * The data a backtest over [start, end) needs: from `start`, until `end` or, for a range that
 * reaches the present, until the last candle that can have closed (`now` minus one candle and the
 * sync grace period).
 */
export const requiredUntil = (request: FreshnessRequest): number =>
  Math.min(
    request.endMillis,
    request.nowMillis - (TIMEFRAME_SECONDS[request.timeframe] + request.graceSeconds) * 1000,
  );

/** Judges one symbol's manifest against the requested range. */
export const judgeFreshness = (
  symbol: string,
  read: ManifestRead,
  request: FreshnessRequest,
): SymbolFreshness => {
  if (!read.ok) return { symbol, fresh: false, reason: read.reason, covered_until: null };
  const { manifest } = read;
  const coveredUntil = manifest.coverage.end;
  const stale = (reason: string) => ({ symbol, fresh: false, reason, covered_until: coveredUntil });

  if (
    manifest.exchange !== request.exchange ||
    manifest.symbol !== symbol ||
    manifest.timeframe !== request.timeframe
  ) {
    return stale(
      `manifest describes ${manifest.exchange} ${manifest.symbol} ${manifest.timeframe}, not ${request.exchange} ${symbol} ${request.timeframe}`,
    );
  }
  if (isoDateToMillis(manifest.coverage.start) > request.startMillis) {
    return stale(
      `data starts at ${manifest.coverage.start}, the backtest needs it from ${iso(request.startMillis)}`,
    );
  }
  const needed = requiredUntil(request);
  if (isoDateToMillis(coveredUntil) < needed) {
    return stale(`data covers until ${coveredUntil}, the backtest needs it until ${iso(needed)}`);
  }
  return { symbol, fresh: true, reason: null, covered_until: coveredUntil };
};

export const checkSymbolFreshness = async (
  s3: S3Client,
  bucket: string,
  prefix: S3Prefix,
  symbol: string,
  request: FreshnessRequest,
): Promise<SymbolFreshness> => {
  const key = datasetManifestKey(prefix, request.exchange, symbol, request.timeframe);
  return judgeFreshness(symbol, await readManifest(s3, bucket, key), request);
};
