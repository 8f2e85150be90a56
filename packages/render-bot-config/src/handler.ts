import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  awsClientConfig,
  bucketNameSchema,
  ConfigurationError,
  createWorkflowHandler,
  DEPLOY_ENVIRONMENTS,
  DeploymentRefusedError,
  exchangeAccountOf,
  exchangeCredentialsSchema,
  exchangeKeysIn,
  exchangeSchema,
  imageDigestUriSchema,
  isPlainObject,
  parseS3Uri,
  readEnvironment,
  renderBotConfig,
  runIdSchema,
  s3Prefix,
  s3Uri,
  strategyHash,
  strategyNameSchema,
  strategyParameterFile,
  toWorkflowError,
  tradingServiceNameSchema,
} from '@tradai/lambda-kit';
import * as z from 'zod/mini';

const s3 = new S3Client(awsClientConfig);

const s3JsonUri = z.string().check(
  z.regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/[A-Za-z0-9_./-]{1,900}\.json$/, {
    error: 'must be the s3:// URI of a .json file',
  }),
);

export const renderBotConfigInput = z.strictObject({
  deployment_id: runIdSchema,
  strategy_name: strategyNameSchema,
  environment: z.enum(DEPLOY_ENVIRONMENTS, { error: `must be one of ${DEPLOY_ENVIRONMENTS.join(', ')}` }),
  service_name: tradingServiceNameSchema,
  dry_run_wallet: z.number().check(z.positive()),
  /** The image the version's tag resolves to now (validate-strategy). */
  image_uri: imageDigestUriSchema,
  /** The strategy's stored config (validate-strategy): what a dry-run without a tested run runs. */
  strategy_config_path: s3JsonUri,
  /** The run the bot rests on, as its record says (validate-deployment); run_id "" for none. */
  tested: z.strictObject({
    run_id: z.union([z.literal(''), runIdSchema]),
    image_uri: z.string(),
    strategy_hash: z.string(),
    config_path: z.union([z.literal(''), s3JsonUri]),
    params_path: z.union([z.literal(''), s3JsonUri]),
    source: z.string(),
  }),
  exchange_credentials: z.nullable(exchangeCredentialsSchema),
});
type Input = z.output<typeof renderBotConfigInput>;

export const environment = z.object({
  STRATEGY_BUCKET: bucketNameSchema,
  RUNS_BUCKET: bucketNameSchema,
});

export interface RenderedBot {
  /** `s3://<runs bucket>/deployments/<deployment_id>/config.json`: the bot's freqtrade config. */
  config_uri: string;
  /** The strategy parameter file beside it, or "" when the tested run set no parameter. */
  params_uri: string;
  /** The strategy hash of what the bot runs: equal to the tested run's when there is one. */
  strategy_hash: string;
  /** The image the bot runs: the digest that was tested (or, for a dry-run without a test, resolved now). */
  image_uri: string;
  exchange: string;
  /** The exchange account a live bot trades (the account lease's key); "" for a dry-run. */
  exchange_account: string;
}

/**
 * Where each deploy keeps its bot's files in the runs bucket: `deployments/<deployment_id>/`, beside
 * `runs/` (a run id can never name a deployment's folder).
 */
export const DEPLOYMENTS_PREFIX = s3Prefix('deployments');

const MAX_JSON_BYTES = 1024 * 1024;

const readJson = async (uri: string, what: string): Promise<Record<string, unknown>> => {
  const { bucket, key } = parseS3Uri(uri, what);
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })).catch((error: unknown) => {
    if ((error as Error).name === 'NoSuchKey')
      throw new DeploymentRefusedError(`This deployment is refused: ${what} ${uri} is gone`);
    throw toWorkflowError(error, `Reading ${what} ${uri}`);
  });
  if ((object.ContentLength ?? 0) > MAX_JSON_BYTES || !object.Body)
    throw new ConfigurationError(`${what} ${uri} is empty or larger than 1 MB`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await object.Body.transformToString());
  } catch (error) {
    throw new ConfigurationError(`${what} ${uri} is not valid JSON`, { cause: error });
  }
  if (!isPlainObject(parsed)) throw new ConfigurationError(`${what} ${uri} must be a JSON object`);
  return parsed;
};

const writeJson = async (bucket: string, key: string, body: unknown) => {
  await s3
    .send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: JSON.stringify(body, null, 2),
        ContentType: 'application/json',
      }),
    )
    .catch((error: unknown) => {
      throw toWorkflowError(error, `Writing s3://${bucket}/${key}`);
    });
};

/** The tested config and parameters, proven unchanged since the test; or the stored config (dry-run). */
const sourceOf = async (input: Input, buckets: { strategies: string; runs: string }) => {
  const { tested } = input;
  if (!tested.run_id) {
    // A live bot runs only what was tested (validate-deployment checks it first; this is the gate).
    if (input.environment === 'live')
      throw new DeploymentRefusedError('This deployment is refused: a live bot needs the run that tested it');
    if (parseS3Uri(input.strategy_config_path, 'strategy_config_path').bucket !== buckets.strategies)
      throw new DeploymentRefusedError(
        `This deployment is refused: the strategy config ${input.strategy_config_path} is not in the strategy bucket`,
      );
    return { config: await readJson(input.strategy_config_path, 'strategy config'), params: {} };
  }
  if (input.image_uri !== tested.image_uri) {
    throw new DeploymentRefusedError(
      `This deployment is refused: the version's tag now points at ${input.image_uri}, but ${tested.source} tested ${tested.image_uri}. Backtest the new image, or push the tested one back.`,
    );
  }
  for (const [field, uri] of [
    ['config_path', tested.config_path],
    ['params_path', tested.params_path],
  ] as const) {
    if (uri && parseS3Uri(uri, field).bucket !== buckets.runs)
      throw new DeploymentRefusedError(
        `This deployment is refused: the tested ${field} ${uri} is not in the runs bucket`,
      );
  }
  const config = await readJson(tested.config_path, 'tested config');
  const file = tested.params_path ? await readJson(tested.params_path, 'tested parameter file') : undefined;
  const params = isPlainObject(file?.params) ? file.params : {};
  const hash = strategyHash(config, params);
  if (hash !== tested.strategy_hash) {
    throw new DeploymentRefusedError(
      `This deployment is refused: the files ${tested.source} tested have changed since (strategy hash ${hash}, recorded ${tested.strategy_hash})`,
    );
  }
  return { config, params };
};

/**
 * The live gate and the bot's config. With a tested run: the image the tag resolves to now must be
 * the digest the run tested, and the run's config and parameter file must still hash to what it
 * recorded; the bot then runs exactly those (docs/decisions/0046). The rendered config says the
 * deploy's mode (`dry_run`), keeps the bot's trades in a database on the durable volume, and holds
 * no exchange key: a live bot gets its keys from ECS secrets (pin-task-definition).
 */
export const { handler } = createWorkflowHandler({
  service: 'render-bot-config',
  input: renderBotConfigInput,
  handle: async (input, tools): Promise<RenderedBot> => {
    const env = readEnvironment(environment);
    let source: { config: Record<string, unknown>; params: Record<string, unknown> };
    try {
      // Keys go with live only, and live needs them (the request schema says so; this holds it here too).
      if ((input.environment === 'live') !== (input.exchange_credentials !== null))
        throw new DeploymentRefusedError(
          `This deployment is refused: a ${input.environment} bot ${input.environment === 'live' ? 'needs' : 'never holds'} exchange keys`,
        );
      source = await sourceOf(input, { strategies: env.STRATEGY_BUCKET, runs: env.RUNS_BUCKET });
      const keys = exchangeKeysIn(source.config);
      if (keys.length > 0)
        throw new DeploymentRefusedError(
          `This deployment is refused: the strategy's config holds ${keys.join(', ')}; exchange keys come only from exchange_credentials (Secrets Manager or SSM)`,
        );
    } catch (error) {
      if ((error as Error).name === 'DeploymentRefusedError')
        tools.metrics.addMetric('DeploymentsRefused', MetricUnit.Count, 1);
      throw error;
    }
    const exchangeName = isPlainObject(source.config.exchange) ? source.config.exchange.name : undefined;
    const exchange = exchangeSchema.safeParse(exchangeName);
    if (!exchange.success)
      throw new ConfigurationError(
        `The strategy's config names no exchange (exchange.name: ${String(exchangeName)})`,
      );

    const config = renderBotConfig(source.config, {
      environment: input.environment,
      service_name: input.service_name,
      dry_run_wallet: input.dry_run_wallet,
    });
    const root = DEPLOYMENTS_PREFIX.child(input.deployment_id);
    // Written again by a retried render, from the same inputs.
    const hasParams = Object.keys(source.params).length > 0;
    if (hasParams) {
      await writeJson(
        env.RUNS_BUCKET,
        root.key(`${input.strategy_name}.json`),
        strategyParameterFile(input.strategy_name, source.params as never, new Date().toISOString()),
      );
    }
    await writeJson(env.RUNS_BUCKET, root.key('config.json'), config);
    const rendered: RenderedBot = {
      config_uri: s3Uri(env.RUNS_BUCKET, root.key('config.json')),
      params_uri: hasParams ? s3Uri(env.RUNS_BUCKET, root.key(`${input.strategy_name}.json`)) : '',
      strategy_hash: strategyHash(config, source.params),
      image_uri: input.image_uri,
      exchange: exchange.data,
      exchange_account: input.exchange_credentials
        ? exchangeAccountOf(exchange.data, input.exchange_credentials)
        : '',
    };
    tools.metrics.addMetric('BotConfigsRendered', MetricUnit.Count, 1);
    tools.logger.info('Bot config rendered', {
      deployment_id: input.deployment_id,
      environment: input.environment,
      tested: input.tested.run_id,
      ...rendered,
    });
    return rendered;
  },
});
