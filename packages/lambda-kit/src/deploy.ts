import * as z from 'zod/mini';
import { runIdSchema, strategyNameSchema, strategyVersionSchema } from './contracts';

export const DEPLOY_ENVIRONMENTS = ['dry-run', 'live'] as const;

/**
 * The deploy machine's RolloutInProgressError retrier: every 30 s, at most 40 times. Shared by
 * check-service-rollout, the ASL checks, and the local world's clock, which load nothing else of it.
 */
export const ROLLOUT_POLL_SECONDS = 30;
export const MAX_ROLLOUT_SECONDS = 40 * ROLLOUT_POLL_SECONDS;
export type DeployEnvironment = (typeof DEPLOY_ENVIRONMENTS)[number];

/**
 * A strategy deployment request (POST /workflows/deploy body, deploy execution input). A live
 * deployment names the COMPLETED backtest of this exact version that justifies it.
 */
export const deployRequestSchema = z
  .strictObject({
    /** The caller's idempotency key; the deploy execution is named after it. */
    request_id: runIdSchema,
    strategy_name: strategyNameSchema,
    strategy_version: strategyVersionSchema,
    environment: z.enum(DEPLOY_ENVIRONMENTS, {
      error: (issue) =>
        issue.input === undefined ? 'is required' : `must be one of ${DEPLOY_ENVIRONMENTS.join(', ')}`,
    }),
    backtest_run_id: z.optional(runIdSchema),
  })
  .check(
    z.refine((request) => request.environment !== 'live' || request.backtest_run_id !== undefined, {
      path: ['backtest_run_id'],
      error: 'is required for a live deployment (the COMPLETED backtest of this version)',
    }),
  );

export type DeployRequest = z.output<typeof deployRequestSchema>;

/** The ECS service a strategy runs as in one environment (created by the platform, updated by deploys). */
export const tradingServiceName = (stage: string, environment: DeployEnvironment, strategyName: string) =>
  `tradai-${stage}-${environment}-${strategyName.toLowerCase()}`;
