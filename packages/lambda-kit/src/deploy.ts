import * as z from 'zod/mini';
import {
  exchangeSchema,
  runIdSchema,
  strategyNameSchema,
  strategyVersionSchema,
  sweepIdSchema,
} from './contracts';

export const DEPLOY_ENVIRONMENTS = ['dry-run', 'live'] as const;

/**
 * The deploy machine's RolloutInProgressError retrier: every 30 s, at most 40 times. Shared by
 * check-service-rollout, the ASL checks, and the local world's clock, which load nothing else of it.
 */
export const ROLLOUT_POLL_SECONDS = 30;
export const MAX_ROLLOUT_SECONDS = 40 * ROLLOUT_POLL_SECONDS;
export type DeployEnvironment = (typeof DEPLOY_ENVIRONMENTS)[number];

/**
 * What a deploy does with the bot's open trades (docs/decisions/0046): `keep` (the new task opens
 * the same database and manages them on), or `refuse` (no deploy while any trade is open).
 */
export const OPEN_TRADE_POLICIES = ['keep', 'refuse'] as const;
export type OpenTradePolicy = (typeof OPEN_TRADE_POLICIES)[number];

/**
 * Where a live bot's exchange keys are: a reference, never the keys. ECS hands them to the
 * container as FREQTRADE__EXCHANGE__KEY / __SECRET (freqtrade@c9ae5e1e
 * configuration/environment_vars.py: FREQTRADE__{section}__{key}, merged over the config file).
 * - Secrets Manager: a JSON secret `{"key": ..., "secret": ...}` named `tradai/exchange/<name>`;
 * - SSM Parameter Store: SecureString parameters `<path>/key` and `<path>/secret` under `/tradai/exchange/`.
 * Both prefixes are what the trading task's execution role may read.
 */
export const exchangeCredentialsSchema = z.union(
  [
    z.strictObject({
      secret_arn: z.string().check(
        z.regex(
          /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:tradai\/exchange\/[A-Za-z0-9_.-]{1,100}$/,
          {
            error: 'must be the ARN of a Secrets Manager secret named tradai/exchange/<name>',
          },
        ),
      ),
    }),
    z.strictObject({
      ssm_path: z.string().check(
        z.regex(/^\/tradai\/exchange\/[A-Za-z0-9_.-]{1,100}$/, {
          error:
            'must be an SSM parameter path /tradai/exchange/<name> (holding <path>/key and <path>/secret)',
        }),
      ),
    }),
  ],
  { error: 'must be {secret_arn} or {ssm_path}: a reference to the keys, never the keys' },
);
export type ExchangeCredentials = z.output<typeof exchangeCredentialsSchema>;

/** A sweep's winner, promoted by its sweep and variant index (after its out-of-sample check). */
export const sweepPromotionSchema = z.strictObject({
  sweep_id: sweepIdSchema,
  variant: z.number().check(z.int(), z.minimum(0), z.maximum(9_999)),
});

/** freqtrade's own default dry-run wallet (freqtrade@c9ae5e1e constants.py, `dry_run_wallet`: 1000). */
export const DEFAULT_DRY_RUN_WALLET = 1000;

/**
 * A strategy deployment request (POST /workflows/deploy body). `environment` says dry-run or
 * live and the rendered bot config says the same (`dry_run`). A live deployment names what was
 * tested (a COMPLETED backtest, or a sweep's winner) and where its exchange keys are; a dry-run
 * one has no keys.
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
    /** The COMPLETED backtest the bot is promoted from (its image digest, config and parameters). */
    backtest_run_id: z.optional(runIdSchema),
    /** ...or a sweep's winner. */
    promote: z.optional(sweepPromotionSchema),
    exchange_credentials: z.optional(exchangeCredentialsSchema),
    open_trades: z._default(
      z.enum(OPEN_TRADE_POLICIES, { error: `must be one of ${OPEN_TRADE_POLICIES.join(', ')}` }),
      'keep',
    ),
    /** Dry-run only: the simulated wallet (freqtrade's `dry_run_wallet`, in the stake currency). */
    dry_run_wallet: z.optional(z.number().check(z.positive(), z.maximum(1e9))),
  })
  .check(
    z.refine((r) => r.environment !== 'live' || r.backtest_run_id !== undefined || r.promote !== undefined, {
      path: ['backtest_run_id'],
      error:
        'is required for a live deployment (the COMPLETED backtest of this version), or promote a sweep winner',
    }),
    z.refine((r) => r.backtest_run_id === undefined || r.promote === undefined, {
      path: ['promote'],
      error: 'is set with backtest_run_id: name one tested run',
    }),
    z.refine((r) => r.environment !== 'live' || r.exchange_credentials !== undefined, {
      path: ['exchange_credentials'],
      error: 'is required for a live deployment (a Secrets Manager or SSM reference to the exchange keys)',
    }),
    z.refine((r) => r.environment !== 'dry-run' || r.exchange_credentials === undefined, {
      path: ['exchange_credentials'],
      error: 'must not be set for a dry-run deployment: a dry-run bot never holds exchange keys',
    }),
    z.refine((r) => r.environment !== 'live' || r.dry_run_wallet === undefined, {
      path: ['dry_run_wallet'],
      error: 'is for a dry-run deployment only',
    }),
  );

export type DeployRequest = z.output<typeof deployRequestSchema>;

/**
 * Who asked for a deploy: the IAM identity API Gateway authenticated (start-workflow adds it to the
 * execution input as `requested_by`; a request body cannot, the request schema refuses the field).
 */
export const callerArnSchema = z.string().check(
  z.regex(/^arn:aws[a-z-]*:(iam|sts)::\d{12}:[A-Za-z0-9+=,.@_/-]{1,512}$/, {
    error: 'must be an IAM or STS ARN',
  }),
);

/** An ECS cluster name (a function's ECS_CLUSTER). */
export const ecsClusterNameSchema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_-]{1,255}$/, { error: 'must be an ECS cluster name' }));

/** One revision of an ECS task definition, by ARN. */
export const taskDefinitionArnSchema = z.string().check(
  z.regex(/^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]{1,255}:\d+$/, {
    error: 'must be an ECS task definition revision ARN',
  }),
);

/** A trading service's name, as tradingServiceName makes it. */
export const tradingServiceNameSchema = z
  .string()
  .check(z.regex(/^[a-z0-9-]{1,255}$/, { error: 'must be a trading service name' }));

/** A Secrets Manager secret's ARN (the stage's bot API login). */
export const secretArnSchema = z.string().check(
  z.regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,256}$/, {
    error: 'must be a Secrets Manager secret ARN',
  }),
);

/** The ECS service a strategy runs as in one environment (created by the platform, updated by deploys). */
export const tradingServiceName = (stage: string, environment: DeployEnvironment, strategyName: string) =>
  `tradai-${stage}-${environment}-${strategyName.toLowerCase()}`;

/**
 * The exchange account a live bot trades on, as the account lease names it: the exchange and the
 * key reference (a secret's ARN without its random suffix, or the SSM path). Two services with
 * the same reference trade one account; freqtrade assumes it owns its account's open orders.
 */
export const exchangeAccountOf = (exchange: string, credentials: ExchangeCredentials): string => {
  const parsed = exchangeSchema.safeParse(exchange);
  if (!parsed.success) throw new Error(`exchangeAccountOf: ${exchange} is not an exchange id`);
  const reference =
    'secret_arn' in credentials
      ? (credentials.secret_arn.split(':secret:')[1] ?? '').replace(/-[A-Za-z0-9]{6}$/, '')
      : credentials.ssm_path.replace(/^\//, '');
  return `${exchange}:${reference}`;
};
