import type { S3Client } from '@aws-sdk/client-s3';
import {
  DataStaleError,
  datasetManifestKey,
  isoDateToMillis,
  mapWithConcurrency,
  readManifest,
  requiredDatasets,
  type S3Prefix,
  TIMEFRAME_SECONDS,
  type Timeframe,
  timeframeSchema,
  ValidationError,
} from '@tradai/lambda-kit';

const READ_CONCURRENCY = 8;
/** CheckDataFreshness's default FRESHNESS_GRACE_SECONDS. */
const GRACE_MS = 3_600_000;
const iso = (millis: number) => new Date(millis).toISOString().replace('.000Z', 'Z');

/**
 * Checks, before any container starts, that every series of candles freqtrade will load for this
 * run is in the datasets bucket and covers what it must (lambda-kit's requiredDatasets): the
 * startup candles before the timerange, `timeframe_detail`, and a futures run's funding rates and
 * mark prices. CheckDataFreshness, which runs before the strategy is known, checked the main
 * timeframe over the timerange only. A series that is missing or short is a DataStaleError naming
 * each one; a `timeframe_detail` freqtrade refuses is a ValidationError.
 */
export const checkRunData = async (
  s3: S3Client,
  datasets: { bucket: string; prefix: S3Prefix },
  run: {
    config: Record<string, unknown>;
    symbols: readonly string[];
    timeframe: Timeframe;
    start_date: string;
    end_date: string;
    startupCandles: number;
    exchange: string;
  },
): Promise<void> => {
  const detail = run.config.timeframe_detail;
  let timeframeDetail: Timeframe | undefined;
  if (detail !== undefined) {
    const parsed = timeframeSchema.safeParse(detail);
    // freqtrade/optimize/backtesting.py `init_backtest_detail`: "Detail timeframe must be smaller than strategy timeframe."
    if (!parsed.success || TIMEFRAME_SECONDS[parsed.data] >= TIMEFRAME_SECONDS[run.timeframe]) {
      const message = `must be a timeframe smaller than the strategy's ${run.timeframe} (freqtrade refuses it otherwise)`;
      throw new ValidationError(`Invalid input: timeframe_detail: ${message}`, [
        { field: 'timeframe_detail', message },
      ]);
    }
    timeframeDetail = parsed.data;
  }
  const needed = requiredDatasets({
    symbols: run.symbols,
    timeframe: run.timeframe,
    timeframeSeconds: (timeframe) => TIMEFRAME_SECONDS[timeframe],
    from: isoDateToMillis(run.start_date),
    to: isoDateToMillis(run.end_date),
    startupCandles: run.startupCandles,
    ...(timeframeDetail ? { timeframeDetail } : {}),
    futures: run.config.trading_mode === 'futures',
    exchange: run.exchange,
  });
  const now = Date.now();
  const problems = await mapWithConcurrency(needed, READ_CONCURRENCY, async (dataset) => {
    const key = datasetManifestKey(
      datasets.prefix,
      run.exchange,
      dataset.symbol,
      dataset.timeframe,
      dataset.candle_type,
    );
    const name = `${dataset.symbol} ${dataset.timeframe}${dataset.candle_type === 'main' ? '' : ` ${dataset.candle_type}`}`;
    const read = await readManifest(s3, datasets.bucket, key);
    if (!read.ok) return `${name} (${dataset.why}): ${read.reason}`;
    const { start, end } = read.manifest.coverage;
    // As CheckDataFreshness reads it (docs/contracts/dataset-manifest.md): data can reach no further
    // than the last closed candle, less the sync's grace period.
    const reachable = Math.min(dataset.to, now - TIMEFRAME_SECONDS[dataset.timeframe] * 1000 - GRACE_MS);
    const covers = isoDateToMillis(start) <= dataset.from && isoDateToMillis(end) >= reachable;
    return covers
      ? undefined
      : `${name} covers ${start} to ${end}; ${dataset.why} need ${iso(dataset.from)} to ${iso(dataset.to)}`;
  });
  const missing = problems.filter((problem) => problem !== undefined);
  if (missing.length > 0) {
    throw new DataStaleError(`The data freqtrade will load is not all there: ${missing.join('; ')}`);
  }
};
