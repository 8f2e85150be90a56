import { MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  type BacktestRequest,
  backtestRequestSchema,
  createWorkflowHandler,
  parseOrThrow,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';

/**
 * The execution input as Step Functions hands it over: `{ "request": <anything> }`. The machine
 * wraps its raw input so that even a non-object input reaches this schema (and gets a named
 * ValidationError) instead of failing a JSONPath with States.Runtime.
 */
export const validateBacktestRequestInput = z.strictObject({ request: z.unknown() });

/** The request every later state reads: dates at the top level, every optional field defaulted. */
export type NormalisedBacktestRequest = Omit<
  BacktestRequest,
  'config_overrides' | 'auto_sync' | 'sweep_id'
> & {
  config_overrides: Record<string, unknown>;
  auto_sync: boolean;
  /** The sweep this run is a variant of, or null: the notifications read it. */
  sweep_id: string | null;
};

/**
 * First state of both backtest machines. The SQS trigger validates the same contract; this
 * state makes the machines safe to start from anywhere else too (console, CLI, a nested call):
 * every JSONPath the machine reads afterwards is guaranteed to exist.
 */
export const { handler } = createWorkflowHandler({
  service: 'validate-backtest-request',
  input: validateBacktestRequestInput,
  handle: async (input, tools): Promise<NormalisedBacktestRequest> => {
    // Field names in the error are the request's own (`strategy_name`, not `request.strategy_name`).
    const request = parseOrThrow(backtestRequestSchema, input.request, 'backtest request');
    const normalised: NormalisedBacktestRequest = {
      ...request,
      config_overrides: request.config_overrides ?? {},
      auto_sync: request.auto_sync ?? false,
      sweep_id: request.sweep_id ?? null,
    };
    tools.metrics.addMetric('BacktestRequestsAccepted', MetricUnit.Count, 1);
    tools.logger.info('Backtest request accepted', {
      run_id: normalised.run_id,
      strategy_name: normalised.strategy_name,
      strategy_version: normalised.strategy_version,
    });
    return normalised;
  },
});
