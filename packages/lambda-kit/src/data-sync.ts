import * as z from 'zod/mini';
import {
  exchangeSchema,
  isoDateSchema,
  isoDateToMillis,
  runIdSchema,
  symbolListSchema,
  TIMEFRAME_SECONDS,
  timeframeSchema,
} from './contracts';
import { workflowSchema } from './run-artifacts';

/** The longest range one sync may fetch: five years. */
export const MAX_SYNC_DAYS = 1_827;
/** And at most this many candles per symbol (one million 1m candles is about 694 days). */
export const MAX_SYNC_CANDLES_PER_SYMBOL = 1_000_000;

const DAY_MS = 86_400_000;

/**
 * A market-data sync request (POST /workflows/data-sync body, data-sync execution input, and the
 * nested input the backtest workflow sends). Ranges are half-open [start_date, end_date).
 */
export const dataSyncRequestSchema = z
  .strictObject({
    symbols: symbolListSchema,
    timeframe: timeframeSchema,
    start_date: isoDateSchema,
    end_date: isoDateSchema,
    exchange: z.optional(exchangeSchema),
    /** The caller's idempotency key: the execution name of an API-started sync. */
    request_id: z.optional(runIdSchema),
    /** Set when another workflow (a backtest with auto_sync) asked for the sync. */
    requested_by: z.optional(z.strictObject({ workflow: workflowSchema, run_id: runIdSchema })),
    /** Step Functions adds it to a nested execution's input. */
    AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: z.optional(z.string().check(z.maxLength(2_048))),
  })
  .check(
    z.refine((r) => isoDateToMillis(r.start_date) < isoDateToMillis(r.end_date), {
      path: ['end_date'],
      error: 'must be after start_date',
    }),
    // "now" is the validation's: a sync cannot fetch candles that do not exist yet.
    z.refine((r) => isoDateToMillis(r.end_date) <= Date.now(), {
      path: ['end_date'],
      error: 'must not be in the future',
    }),
    z.refine((r) => isoDateToMillis(r.end_date) - isoDateToMillis(r.start_date) <= MAX_SYNC_DAYS * DAY_MS, {
      path: ['end_date'],
      error: `must be at most ${MAX_SYNC_DAYS} days after start_date`,
    }),
    z.refine(
      (r) =>
        (isoDateToMillis(r.end_date) - isoDateToMillis(r.start_date)) /
          1000 /
          (TIMEFRAME_SECONDS[r.timeframe] ?? 1) <=
        MAX_SYNC_CANDLES_PER_SYMBOL,
      { path: ['end_date'], error: `must span at most ${MAX_SYNC_CANDLES_PER_SYMBOL} candles per symbol` },
    ),
  );

export type DataSyncRequest = z.output<typeof dataSyncRequestSchema>;
