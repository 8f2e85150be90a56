import { MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  classifyEcsLaunchFailure,
  createWorkflowHandler,
  FARGATE_VCPU_QUOTAS,
  type LaunchFailureKind,
  readEnvironment,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';

export const classifyLaunchFailureInput = z.object({
  /** The RunTask state's error, as its Catch put it. */
  error: z.object({ Error: z.string(), Cause: z._default(z.nullable(z.string()), '') }),
  capacity_provider: z.enum(['FARGATE_SPOT', 'FARGATE'], { error: 'must be FARGATE_SPOT or FARGATE' }),
  /** Back-offs after throttling so far, for this run. */
  attempts: z._default(z.number().check(z.int(), z.minimum(0), z.maximum(100)), 0),
});

export const environment = z.object({
  /** The most back-offs after throttling before the run fails with LaunchThrottledError. */
  MAX_LAUNCH_BACKOFFS: z._default(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(20)), 5),
  /** The first back-off's ceiling; each next one doubles, up to 300 s (FULL jitter below it). */
  LAUNCH_BACKOFF_SECONDS: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(300)), 10),
});

export interface LaunchFailure {
  kind: LaunchFailureKind;
  /** throttled only: true once the back-offs are spent. */
  exhausted: boolean;
  /** quota only: which Service Quotas quota. */
  quota: string;
  reason: string;
  /** Where AWS documents this reason ("" for other). */
  source: string;
  attempts: number;
  /** throttled only: how long to wait before RunTask again (FULL jitter: uniform in [1, ceiling]). */
  wait_seconds: number;
}

/**
 * Why RunTask could not start the backtest, from the cause AWS sent with `ECS.AmazonECSException`
 * (lambda-kit ecs-failures.ts: each reason with its AWS source). The state machine routes on
 * `kind`: no Spot capacity falls back to on-demand; throttling waits (jittered, doubling) and tries
 * again; a vCPU quota fails the run with CapacityQuotaError naming the quota; anything else keeps
 * ECS's error.
 */
export const { handler } = createWorkflowHandler({
  service: 'classify-launch-failure',
  input: classifyLaunchFailureInput,
  handle: async (input, tools): Promise<LaunchFailure> => {
    const env = readEnvironment(environment);
    const { kind, failure, reason } = classifyEcsLaunchFailure(input.error.Cause ?? '');
    const throttled = kind === 'throttled';
    const exhausted = throttled && input.attempts >= env.MAX_LAUNCH_BACKOFFS;
    const ceiling = Math.min(300, env.LAUNCH_BACKOFF_SECONDS * 2 ** input.attempts);
    const result: LaunchFailure = {
      kind,
      exhausted,
      quota:
        kind === 'quota'
          ? /vcpu/i.test(reason)
            ? (FARGATE_VCPU_QUOTAS[input.capacity_provider] as string)
            : 'Amazon ECS tasks per cluster'
          : '',
      reason,
      source: failure?.source ?? '',
      attempts: throttled ? input.attempts + 1 : input.attempts,
      wait_seconds: throttled && !exhausted ? 1 + Math.floor(Math.random() * ceiling) : 0,
    };
    tools.metrics.addMetric(`LaunchFailure_${kind}`, MetricUnit.Count, 1);
    tools.logger.info('RunTask failure classified', {
      ...result,
      capacity_provider: input.capacity_provider,
    });
    return result;
  },
});
