import { MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  createWorkflowHandler,
  type DataSyncRequest,
  dataSyncRequestSchema,
  exchangeSchema,
  parseOrThrow,
  readEnvironment,
  ValidationError,
  wrappedExecutionInputSchema,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';

/** The raw execution input, wrapped by the machine so that any JSON value reaches the schema. */
export const validateDataRequestInput = wrappedExecutionInputSchema;

export const environment = z.object({
  DEFAULT_EXCHANGE: z._default(exchangeSchema, 'binance'),
  /** Comma-separated ccxt ids the data-collection task can fetch from. */
  SUPPORTED_EXCHANGES: z._default(
    z.pipe(
      z.string(),
      z.transform((value) => value.split(',').map((exchange) => exchange.trim())),
    ),
    ['binance', 'bybit', 'okx'],
  ),
});

/** The request every later state reads: the exchange filled in, nothing else optional left. */
export type NormalisedDataSyncRequest = Omit<
  DataSyncRequest,
  'exchange' | 'requested_by' | 'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID'
> & {
  sync_id: string;
  exchange: string;
  /** Who asked: a backtest run (nested sync), or null for a direct request. */
  requested_by: NonNullable<DataSyncRequest['requested_by']> | null;
};

/**
 * First state of the data-sync workflow: symbols, timeframe, date range (not in the future,
 * start < end, bounded), exchange and symbol count, with every bad field named at once.
 */
export const { handler } = createWorkflowHandler({
  service: 'validate-data-request',
  input: validateDataRequestInput,
  handle: async (input, tools): Promise<NormalisedDataSyncRequest> => {
    const env = readEnvironment(environment);
    const { AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: _parent, ...request } = parseOrThrow(
      dataSyncRequestSchema,
      input.request,
      'data sync request',
    );
    const exchange = request.exchange ?? env.DEFAULT_EXCHANGE;
    if (!env.SUPPORTED_EXCHANGES.includes(exchange)) {
      const message = `must be one of ${env.SUPPORTED_EXCHANGES.join(', ')}`;
      throw new ValidationError(`Invalid data sync request: exchange: ${message}`, [
        { field: 'exchange', message },
      ]);
    }
    tools.metrics.addMetric('DataSyncRequestsAccepted', MetricUnit.Count, 1);
    tools.logger.info('Data sync request accepted', { ...request, exchange });
    return {
      ...request,
      sync_id: input.execution_name,
      exchange,
      requested_by: request.requested_by ?? null,
    };
  },
});
