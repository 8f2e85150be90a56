import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { FAIL_FAST_ERRORS } from './errors';
import { mapStackTrace } from './stack-traces';
import { parseOrThrow, type Schema } from './validation';

/** Every workflow Lambda publishes its metrics here (the spec's CloudWatch table). */
export const METRICS_NAMESPACE = 'TradAI/StepFunctions';

export interface HandlerTools {
  logger: Logger;
  metrics: Metrics;
  context: Context;
}

export interface WorkflowHandlerOptions<S extends Schema, R> {
  /** The function's name without stage, e.g. `validate-strategy`: Powertools' service. */
  service: string;
  /** The input contract; a mismatch raises `ValidationError` before any side effect. */
  input: S;
  /** The function's own logic. */
  handle: (input: z.output<S>, tools: HandlerTools) => Promise<R>;
}

/**
 * Logs a failure once, with its name, while the Lambda context is still on the logger, and
 * counts it (`FailedInvocations`, the error name as EMF metadata for Logs Insights).
 */
const recordFailures = (logger: Logger, metrics: Metrics): MiddlewareObj => ({
  onError: async (request) => {
    const error = request.error;
    // The log line and the runtime's own report both read `stack`: map it once, here.
    mapStackTrace(error);
    const name = error?.name ?? 'UnknownError';
    metrics.addMetric('FailedInvocations', MetricUnit.Count, 1);
    metrics.addMetadata('error_name', name);
    if (FAIL_FAST_ERRORS.includes(name)) {
      logger.warn('Invocation rejected', { error });
    } else {
      logger.error('Invocation failed', { error });
    }
  },
});

/** Where Powertools' middlewares find each other's flush (METRICS_KEY of @aws-lambda-powertools/commons). */
const METRICS_KEY = 'powertools-for-aws.metrics';

/**
 * Powertools' logMetrics, publishing only what there is to publish: its publishStoredMetrics warns
 * "No application metrics to publish" on every invocation that added none (most of ours), a line
 * per call in CloudWatch and in the simulator. With nothing stored, what it would have done without
 * the warning is done: the dimensions and metadata of the invocation are cleared. The cold start
 * is captured as logMetrics does, and the flush is registered where Powertools' other middlewares
 * look for it to flush early.
 */
const publishMetrics = (metrics: Metrics): MiddlewareObj => {
  const publish = () => {
    if (metrics.hasStoredMetrics()) {
      metrics.publishStoredMetrics();
      return;
    }
    metrics.clearMetrics();
    metrics.clearDimensions();
    metrics.clearMetadata();
  };
  return {
    before: (request) => {
      metrics.captureColdStartMetric(request.context.functionName);
      request.internal = { ...request.internal, [METRICS_KEY]: publish };
    },
    after: publish,
    onError: publish,
  };
};

/**
 * Builds a Lambda handler with the TradAI defaults: Powertools Logger (context injected, keys
 * reset per call), Metrics (cold start captured, flushed per call) and schema-validated input.
 * Call it once at module scope.
 */
export const createWorkflowHandler = <S extends Schema, R>(options: WorkflowHandlerOptions<S, R>) => {
  const logger = new Logger({ serviceName: options.service });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: options.service });

  const lambdaHandler = async (event: unknown, context: Context): Promise<R> => {
    const input = parseOrThrow(options.input, event);
    return options.handle(input, { logger, metrics, context });
  };

  const handler = middy(lambdaHandler)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics(metrics))
    .use(recordFailures(logger, metrics));

  return { handler, logger, metrics };
};
