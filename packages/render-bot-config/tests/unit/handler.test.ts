import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { strategyHash } from '@tradai/lambda-kit';
import { awsError, censusOfRejections, fakeContext, serveObjects } from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../src';

const s3Mock = mockClient(S3Client);
const invoke = (input: unknown) => handler(input, fakeContext('tradai-dev-render-bot-config'));

const RUNS = 'tradai-dev-runs';
const STRATEGIES = 'tradai-dev-strategies';
const IMAGE = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/tradai/strategies/momentumstrategy@sha256:${'ab'.repeat(32)}`;
const OTHER_IMAGE = IMAGE.replace('ab'.repeat(32), 'cd'.repeat(32));
const STORED_KEY = 'strategies/MomentumStrategy/1.0.0/config.json';
const TESTED_KEY = 'runs/bt-42/config.json';
const PARAMS_KEY = 'runs/bt-42/parameters.json';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tradai/exchange/binance-main-AbC123';

const strategyConfig = {
  strategy: 'MomentumStrategy',
  timeframe: '1h',
  stake_currency: 'USDT',
  exchange: { name: 'binance', pair_whitelist: ['BTC/USDT:USDT'] },
};
/** The backtest's merged config: the strategy's settings and the keys that only say where the run was. */
const testedConfig = {
  ...strategyConfig,
  timerange: '20240101-20240601',
  datadir: '/freqtrade/user_data/data',
  dry_run: true,
  dry_run_wallet: 1000,
};
const params = { buy: { buy_rsi: 30 }, sell: { sell_rsi: 70 } };
const parameterFile = {
  strategy_name: 'MomentumStrategy',
  params,
  ft_stratparam_v: 1,
  export_time: '2026-01-04T12:00:00.000Z',
};
const TESTED_HASH = strategyHash(testedConfig, params);

const dryRun = {
  deployment_id: 'deploy-1',
  strategy_name: 'MomentumStrategy',
  environment: 'dry-run',
  service_name: 'tradai-dev-dry-run-momentumstrategy',
  dry_run_wallet: 1000,
  image_uri: IMAGE,
  strategy_config_path: `s3://${STRATEGIES}/${STORED_KEY}`,
  tested: { run_id: '', image_uri: '', strategy_hash: '', config_path: '', params_path: '', source: '' },
  exchange_credentials: null,
};
const tested = {
  run_id: 'bt-42',
  image_uri: IMAGE,
  strategy_hash: TESTED_HASH,
  config_path: `s3://${RUNS}/${TESTED_KEY}`,
  params_path: `s3://${RUNS}/${PARAMS_KEY}`,
  source: 'backtest bt-42',
};
const live = {
  ...dryRun,
  environment: 'live',
  service_name: 'tradai-dev-live-momentumstrategy',
  tested,
  exchange_credentials: { secret_arn: SECRET_ARN },
};

const serve = (objects: Record<string, unknown> = {}) =>
  serveObjects(
    s3Mock,
    Object.fromEntries(
      Object.entries({
        [STORED_KEY]: strategyConfig,
        [TESTED_KEY]: testedConfig,
        [PARAMS_KEY]: parameterFile,
        ...objects,
      }).map(([key, body]) => [key, typeof body === 'string' ? body : JSON.stringify(body)]),
    ),
  );

/** What the function wrote to `key`, parsed. */
const written = (key: string): Record<string, unknown> => {
  const call = s3Mock.commandCalls(PutObjectCommand).find(({ args }) => args[0].input.Key === key);
  if (!call) throw new Error(`nothing was written to ${key}`);
  return JSON.parse(String(call.args[0].input.Body));
};

describe('render-bot-config', () => {
  beforeEach(() => {
    vi.clearAllMocks();
    s3Mock.reset();
    vi.stubEnv('STRATEGY_BUCKET', STRATEGIES);
    vi.stubEnv('RUNS_BUCKET', RUNS);
    s3Mock.on(PutObjectCommand).resolves({});
  });

  it('renders a dry-run without a tested run from the stored config, in the deployment folder of the runs bucket', async () => {
    // Prepare
    serve();

    // Act
    const rendered = await invoke(dryRun);

    // Assess
    expect(rendered).toEqual({
      config_uri: `s3://${RUNS}/deployments/deploy-1/config.json`,
      params_uri: '',
      strategy_hash: strategyHash(strategyConfig),
      image_uri: IMAGE,
      exchange: 'binance',
      exchange_account: '',
    });
    expect(s3Mock).toReceiveCommandWith(GetObjectCommand, { Bucket: STRATEGIES, Key: STORED_KEY });
    expect(s3Mock).toReceiveCommandTimes(PutObjectCommand, 1);
    expect(s3Mock).toReceiveCommandWith(PutObjectCommand, {
      Bucket: RUNS,
      Key: 'deployments/deploy-1/config.json',
      ContentType: 'application/json',
    });
    const config = written('deployments/deploy-1/config.json');
    expect(config).toMatchObject({
      ...strategyConfig,
      bot_name: 'tradai-dev-dry-run-momentumstrategy',
      dry_run: true,
      dry_run_wallet: 1000,
      db_url: 'sqlite:////freqtrade/user_data/db/tradai-dev-dry-run-momentumstrategy.sqlite',
      api_server: { enabled: true, listen_port: 8080 },
    });
    expect(config.exchange).not.toHaveProperty('key');
    expect(config.exchange).not.toHaveProperty('secret');
  });

  it('renders a dry-run with the wallet it was given', async () => {
    // Prepare
    serve();

    // Act
    await invoke({ ...dryRun, dry_run_wallet: 2500 });

    // Assess
    expect(written('deployments/deploy-1/config.json')).toMatchObject({
      dry_run: true,
      dry_run_wallet: 2500,
    });
  });

  it('renders a live bot from exactly the tested config and parameters, and names the account it trades', async () => {
    // Prepare
    vi.useFakeTimers({ now: Date.parse('2026-01-05T09:00:00Z'), toFake: ['Date'] });
    serve();

    // Act
    const rendered = await invoke(live);

    // Assess
    expect(rendered).toEqual({
      config_uri: `s3://${RUNS}/deployments/deploy-1/config.json`,
      params_uri: `s3://${RUNS}/deployments/deploy-1/MomentumStrategy.json`,
      strategy_hash: TESTED_HASH,
      image_uri: IMAGE,
      exchange: 'binance',
      exchange_account: 'binance:tradai/exchange/binance-main',
    });
    expect(s3Mock).toReceiveCommandWith(GetObjectCommand, { Bucket: RUNS, Key: TESTED_KEY });
    expect(s3Mock).toReceiveCommandWith(GetObjectCommand, { Bucket: RUNS, Key: PARAMS_KEY });
    expect(s3Mock).not.toReceiveCommandWith(GetObjectCommand, { Key: STORED_KEY });
    const config = written('deployments/deploy-1/config.json');
    expect(config).toMatchObject({
      ...strategyConfig,
      dry_run: false,
      db_url: 'sqlite:////freqtrade/user_data/db/tradai-dev-live-momentumstrategy.sqlite',
    });
    // The run-only keys of the backtest are not the bot's.
    for (const key of ['dry_run_wallet', 'timerange', 'datadir']) expect(config).not.toHaveProperty(key);
    expect(config.exchange).not.toHaveProperty('key');
    expect(written('deployments/deploy-1/MomentumStrategy.json')).toEqual({
      strategy_name: 'MomentumStrategy',
      params,
      ft_stratparam_v: 1,
      export_time: '2026-01-05T09:00:00.000Z',
    });
    vi.useRealTimers();
  });

  it('names an SSM-held account by its path', async () => {
    // Prepare
    serve();

    // Act
    const rendered = await invoke({
      ...live,
      exchange_credentials: { ssm_path: '/tradai/exchange/binance-sub' },
    });

    // Assess
    expect(rendered.exchange_account).toBe('binance:tradai/exchange/binance-sub');
  });

  it('renders a tested run without a parameter file, writing no parameter file', async () => {
    // Prepare
    serve();

    // Act
    const rendered = await invoke({
      ...live,
      tested: { ...tested, params_path: '', strategy_hash: strategyHash(testedConfig) },
    });

    // Assess
    expect(rendered).toMatchObject({ params_uri: '', strategy_hash: strategyHash(testedConfig) });
    expect(s3Mock).toReceiveCommandTimes(PutObjectCommand, 1);
    expect(s3Mock).toReceiveCommandTimes(GetObjectCommand, 1);
  });

  it('accepts a tested config whose run-only keys changed since: they are not part of the strategy hash', async () => {
    // Prepare
    serve({ [TESTED_KEY]: { ...testedConfig, timerange: '20230101-20230601', datadir: '/elsewhere' } });

    // Act
    const rendered = await invoke(live);

    // Assess
    expect(rendered.strategy_hash).toBe(TESTED_HASH);
  });

  it('refuses a live deployment whose tag now points at another digest than was tested, naming both, before reading or writing anything', async () => {
    // Prepare
    serve();

    // Act & Assess
    await expect(invoke({ ...live, image_uri: OTHER_IMAGE })).rejects.toMatchObject({
      name: 'DeploymentRefusedError',
      message: expect.stringMatching(
        new RegExp(`${OTHER_IMAGE.replace(/[.]/g, '\\.')}.*${IMAGE.replace(/[.]/g, '\\.')}`),
      ),
    });
    expect(s3Mock).not.toReceiveCommand(PutObjectCommand);
    expect(s3Mock).not.toReceiveCommand(GetObjectCommand);
  });

  it.each([
    ['its config', { [TESTED_KEY]: { ...testedConfig, timeframe: '5m' } }],
    ['its parameters', { [PARAMS_KEY]: { ...parameterFile, params: { buy: { buy_rsi: 25 } } } }],
    ['its parameter file lost its params', { [PARAMS_KEY]: { strategy_name: 'MomentumStrategy' } }],
  ])('refuses a tested run whose files changed since the test (%s), writing nothing', async (_, changed) => {
    // Prepare
    serve(changed);

    // Act & Assess
    await expect(invoke(live)).rejects.toMatchObject({
      name: 'DeploymentRefusedError',
      message: expect.stringContaining(`recorded ${TESTED_HASH}`),
    });
    expect(s3Mock).not.toReceiveCommand(PutObjectCommand);
  });

  it.each([
    [
      'the stored config of a dry-run',
      dryRun,
      { [STORED_KEY]: { ...strategyConfig, exchange: { name: 'binance', key: 'AKIA' } } },
    ],
    // The strategy hash leaves exchange keys out: the tested files still match, and are still refused.
    [
      'the tested config of a live deployment',
      live,
      { [TESTED_KEY]: { ...testedConfig, exchange: { ...testedConfig.exchange, key: 'AKIA' } } },
    ],
  ])(
    'refuses %s when it holds an exchange key, naming exchange.key, writing nothing',
    async (_, input, objects) => {
      // Prepare
      serve(objects);

      // Act & Assess
      await expect(invoke(input)).rejects.toMatchObject({
        name: 'DeploymentRefusedError',
        message: expect.stringContaining('holds exchange.key'),
      });
      expect(s3Mock).not.toReceiveCommand(PutObjectCommand);
    },
  );

  it.each([
    ['config_path', { config_path: `s3://other-bucket/${TESTED_KEY}` }],
    ['params_path', { params_path: `s3://other-bucket/${PARAMS_KEY}` }],
  ])('refuses a tested %s outside the runs bucket, before reading it', async (field, moved) => {
    // Prepare
    serve();

    // Act & Assess
    await expect(invoke({ ...live, tested: { ...tested, ...moved } })).rejects.toMatchObject({
      name: 'DeploymentRefusedError',
      message: expect.stringContaining(`the tested ${field} s3://other-bucket/`),
    });
    expect(s3Mock).not.toReceiveCommand(GetObjectCommand);
    expect(s3Mock).not.toReceiveCommand(PutObjectCommand);
  });

  it('refuses a tested run whose config is gone', async () => {
    // Prepare
    serveObjects(s3Mock, {});

    // Act & Assess
    await expect(invoke(live)).rejects.toMatchObject({
      name: 'DeploymentRefusedError',
      message: expect.stringContaining(`tested config s3://${RUNS}/${TESTED_KEY} is gone`),
    });
  });

  it.each([
    ['not JSON', '{"exchange":'],
    ['not an object', '["binance"]'],
    ['naming no exchange', JSON.stringify({ strategy: 'MomentumStrategy' })],
  ])('reports a stored config %s as a ConfigurationError', async (_, body) => {
    // Prepare
    serve({ [STORED_KEY]: body });

    // Act & Assess
    await expect(invoke(dryRun)).rejects.toMatchObject({ name: 'ConfigurationError' });
    expect(s3Mock).not.toReceiveCommand(PutObjectCommand);
  });

  it.each([
    [
      'an environment it cannot deploy to',
      { environment: 'prod' },
      'environment: must be one of dry-run, live',
    ],
    ['an image by tag', { image_uri: IMAGE.replace(/@sha256:.*/, ':1.0.0') }, 'image_uri'],
    [
      'a config path that is not JSON',
      { strategy_config_path: `s3://${STRATEGIES}/config.yaml` },
      'strategy_config_path',
    ],
    ['a deployment id with a slash', { deployment_id: '../deploy-1' }, 'deployment_id'],
    [
      'exchange keys instead of a reference',
      { exchange_credentials: { key: 'AKIA', secret: 's' } },
      'exchange_credentials',
    ],
  ])('refuses %s with a ValidationError naming the field, before any S3 call', async (_, change, field) => {
    // Act & Assess
    await expect(invoke({ ...dryRun, ...change })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining(field),
    });
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('reports a runs bucket that is not a bucket name as a ConfigurationError', async () => {
    // Prepare
    vi.stubEnv('RUNS_BUCKET', 'Runs_Bucket');

    // Act & Assess
    await expect(invoke(dryRun)).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringContaining('RUNS_BUCKET'),
    });
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('maps S3 throttling on the write to TransientAwsError, for the state machine to retry', async () => {
    // Prepare
    serve();
    s3Mock.on(PutObjectCommand).rejects(awsError('SlowDown', 503));

    // Act & Assess
    await expect(invoke(dryRun)).rejects.toMatchObject({ name: 'TransientAwsError' });
  });

  it('answers any input with a rendered config or a named error, never a TypeError', async () => {
    // Prepare
    serve();
    const events = fc.oneof(
      fc
        .record({
          base: fc.constantFrom(dryRun, live),
          change: fc.constantFrom(
            {},
            { deployment_id: '../x' },
            { strategy_name: 'bad name' },
            { environment: 'prod' },
            { service_name: 'Bad Name' },
            { dry_run_wallet: 0 },
            { image_uri: OTHER_IMAGE },
            { image_uri: 'momentum:latest' },
            { strategy_config_path: 's3://x' },
            { tested: { ...tested, strategy_hash: 'sha256:0' } },
            { tested: { ...tested, config_path: `s3://other-bucket/${TESTED_KEY}` } },
            { tested: { ...tested, run_id: 'bt/42' } },
            { exchange_credentials: { key: 'AKIA' } },
            { exchange_credentials: undefined },
          ),
        })
        .map(({ base, change }) => ({ ...base, ...change })),
      fc.anything(),
    );

    // Act
    const census = await censusOfRejections(handler, events, {
      allowedErrors: ['ValidationError', 'DeploymentRefusedError'],
      numRuns: 300,
    });

    // Assess
    expect(census.answered).toBeGreaterThan(0);
    expect(census.byName.ValidationError).toBeGreaterThan(0);
  });

  it.each([
    [
      'a live bot without a tested run',
      () => ({ ...live, tested: dryRun.tested }),
      'needs the run that tested it',
    ],
    [
      'a live bot without keys',
      () => ({ ...live, exchange_credentials: null }),
      'a live bot needs exchange keys',
    ],
    [
      'a dry-run bot with keys',
      () => ({ ...dryRun, exchange_credentials: { secret_arn: SECRET_ARN } }),
      'never holds exchange keys',
    ],
    [
      'a strategy config outside the strategy bucket',
      () => ({ ...dryRun, strategy_config_path: 's3://someone-elses-bucket/any/config.json' }),
      'is not in the strategy bucket',
    ],
  ])(
    'refuses %s itself, writing nothing (the gate holds even if the request check did not)',
    async (_, input, message) => {
      // Prepare
      serve({ 'any/config.json': strategyConfig });

      // Act & Assess
      await expect(invoke(input())).rejects.toMatchObject({
        name: 'DeploymentRefusedError',
        message: expect.stringContaining(message),
      });
      expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    },
  );
});
