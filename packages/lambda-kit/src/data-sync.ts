import * as z from 'zod/mini';
import {
  dateRangeIssue,
  exchangeSchema,
  MAX_SYNC_CANDLES_PER_SYMBOL,
  MAX_SYNC_DAYS,
  marketDataFields,
  runIdSchema,
  type timeframeSchema,
} from './contracts';
import { workflowSchema } from './run-artifacts';

export { MAX_SYNC_CANDLES_PER_SYMBOL, MAX_SYNC_DAYS };

/** The backtest's nested sync of run X is the execution `X-data-sync`: that namespace is reserved. */
const NESTED_SYNC_SUFFIX = '-data-sync';

const rangeRule = z.superRefine(
  (r: { start_date: string; end_date: string; timeframe: z.output<typeof timeframeSchema> }, ctx) => {
    const issue = dateRangeIssue(r);
    if (issue) ctx.addIssue({ code: 'custom', input: r.end_date, path: ['end_date'], message: issue });
  },
);

const syncFields = {
  ...marketDataFields,
  exchange: z.optional(exchangeSchema),
};

/**
 * POST /workflows/data-sync: what a caller may send, and nothing else. `request_id` names the
 * execution, so a retry cannot start twice; it may not take a backtest's nested-sync name.
 */
export const dataSyncApiRequestSchema = z
  .strictObject({
    ...syncFields,
    request_id: runIdSchema.check(
      z.refine((id) => !id.endsWith(NESTED_SYNC_SUFFIX), {
        error: `must not end in ${NESTED_SYNC_SUFFIX} (reserved for the syncs backtests start)`,
      }),
    ),
  })
  .check(rangeRule);

/**
 * A market-data sync request as the data-sync machine receives it: an API request, or the nested
 * input the backtest workflow sends. Ranges are half-open [start_date, end_date).
 */
export const dataSyncRequestSchema = z
  .strictObject({
    ...syncFields,
    /** The caller's idempotency key: the execution name of an API-started sync. */
    request_id: z.optional(runIdSchema),
    /** Set when another workflow (a backtest with auto_sync) asked for the sync. */
    requested_by: z.optional(z.strictObject({ workflow: workflowSchema, run_id: runIdSchema })),
    /** Step Functions adds it to a nested execution's input. */
    AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: z.optional(z.string().check(z.maxLength(2_048))),
  })
  .check(rangeRule);

export type DataSyncRequest = z.output<typeof dataSyncRequestSchema>;
