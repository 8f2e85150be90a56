import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  type DatasetManifest,
  datasetManifestKey,
  datasetManifestSchema,
  formatPath,
  httpStatusOf,
  isoDateToMillis,
  type S3Prefix,
  s3Uri,
  TIMEFRAME_SECONDS,
  type Timeframe,
  toWorkflowError,
} from '@tradai/lambda-kit';

/** A manifest is a few hundred bytes; anything this large is not one. */
const MAX_MANIFEST_BYTES = 1_048_576;

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

type ManifestRead = { ok: true; manifest: DatasetManifest } | { ok: false; reason: string };

const isNoSuchKey = (error: unknown) =>
  httpStatusOf(error) === 404 || (error instanceof Error && error.name === 'NoSuchKey');

export const readManifest = async (s3: S3Client, bucket: string, key: string): Promise<ManifestRead> => {
  const path = s3Uri(bucket, key);
  let body: string;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if ((object.ContentLength ?? 0) > MAX_MANIFEST_BYTES) {
      return { ok: false, reason: `manifest ${path} is larger than ${MAX_MANIFEST_BYTES} bytes` };
    }
    body = (await object.Body?.transformToString('utf-8')) ?? '';
  } catch (error) {
    if (isNoSuchKey(error)) return { ok: false, reason: `no dataset manifest at ${path}` };
    throw toWorkflowError(error, `s3:GetObject ${path}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: `manifest ${path} is not valid JSON` };
  }
  const parsed = datasetManifestSchema.safeParse(json);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    const detail = issue ? `${formatPath(issue.path)}: ${issue.message}` : 'does not match the contract';
    return { ok: false, reason: `manifest ${path} is malformed (${detail})` };
  }
  return { ok: true, manifest: parsed.data };
};

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
