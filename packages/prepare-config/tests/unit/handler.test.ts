import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  datasetManifestKey,
  deepMerge,
  freqtradeLoadsParameterFile,
  s3Prefix,
  strategyHash,
  type Timeframe,
} from '@tradai/lambda-kit';
import {
  awsError,
  censusOfRejections,
  datasetManifest,
  fakeContext,
  serveObjects,
} from '@tradai/lambda-kit/testing';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../src';

const s3Mock = mockClient(S3Client);
const invoke = (input: unknown) => handler(input, fakeContext('tradai-dev-prepare-config'));

const storedConfig = {
  max_open_trades: 3,
  trading_mode: 'futures',
  margin_mode: 'isolated',
  stake_currency: 'USDT',
  timeframe: '5m',
  exchange: { name: 'binance', pair_whitelist: ['ETH/USDT'], ccxt_config: { enableRateLimit: true } },
};
const event = {
  run_id: 'run-42',
  strategy_name: 'MomentumStrategy',
  config_path: 's3://tradai-dev-strategies/strategies/MomentumStrategy/1.0.0/config.json',
  symbols: ['BTC/USDT:USDT', 'ETH/USDT:USDT'],
  timeframe: '1h',
  start_date: '2024-01-01',
  end_date: '2024-06-01',
  config_overrides: {
    max_open_trades: 5,
    minimal_roi: { '0': 0.05 },
    backtester: { START_DATE: '2024-01-01', END_DATE: '2024-06-01' },
  },
};

const CONFIG = 'strategies/MomentumStrategy/1.0.0/config.json';
const MANIFEST = 'strategies/MomentumStrategy/1.0.0/strategy.json';
/** A dataset manifest's key and body, covering June 2023 to July 2024 unless told otherwise. */
const dataset = (
  symbol: string,
  timeframe: Timeframe,
  candleType: 'main' | 'funding_rate' | 'mark' = 'main',
  start = '2023-06-01T00:00:00Z',
): [string, string] => [
  datasetManifestKey(s3Prefix('datasets'), 'binance', symbol, timeframe, candleType),
  JSON.stringify(datasetManifest({ symbol, timeframe, coverage: { start, end: '2024-07-01T00:00:00Z' } })),
];
/** Every series the event's futures run loads: 1h candles, 8h funding rates and mark prices (binance). */
const DATASETS = Object.fromEntries(
  event.symbols.flatMap((symbol) => [
    dataset(symbol, '1h'),
    dataset(symbol, '8h', 'funding_rate'),
    dataset(symbol, '8h', 'mark'),
  ]),
);
const serveConfig = (body: string, extra: Record<string, string> = {}) =>
  serveObjects(s3Mock, { [CONFIG]: body, ...DATASETS, ...extra });
/** An S3 that takes every write, and the function's environment, as the stack gives it. */
const freshStack = () => {
  s3Mock.reset();
  s3Mock.on(PutObjectCommand).resolves({});
  vi.stubEnv('STRATEGY_BUCKET', 'tradai-dev-strategies');
  vi.stubEnv('RUNS_BUCKET', 'tradai-dev-backtest-runs');
  vi.stubEnv('DATASET_BUCKET', 'tradai-dev-market-data');
};
const written = () => JSON.parse(String(s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input.Body));

describe('prepare-config', () => {
  beforeEach(() => {
    vi.clearAllMocks();
    freshStack();
  });

  it("writes the run's config: stored config, overrides merged in, the request's own fields last", async () => {
    // Prepare
    serveConfig(JSON.stringify(storedConfig));

    // Act
    const prepared = await invoke(event);

    // Assess
    expect(prepared).toEqual({
      config_path: 's3://tradai-dev-backtest-runs/runs/run-42/config.json',
      timerange: '20240101-20240601',
      results_path: 's3://tradai-dev-backtest-runs/runs/run-42/results/',
      params_path: '',
      strategy_hash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    // What the run records is the hash of the file it wrote (a deploy recomputes it from the file).
    expect(prepared.strategy_hash).toBe(strategyHash(written() as Record<string, unknown>, {}));
    expect(s3Mock).toReceiveCommandWith(GetObjectCommand, {
      Bucket: 'tradai-dev-strategies',
      Key: 'strategies/MomentumStrategy/1.0.0/config.json',
    });
    expect(s3Mock).toReceiveCommandWith(PutObjectCommand, {
      Bucket: 'tradai-dev-backtest-runs',
      Key: 'runs/run-42/config.json',
      ContentType: 'application/json',
    });
    expect(written()).toEqual({
      max_open_trades: 5,
      trading_mode: 'futures',
      margin_mode: 'isolated',
      minimal_roi: { '0': 0.05 },
      stake_currency: 'USDT',
      strategy: 'MomentumStrategy',
      timeframe: '1h',
      timerange: '20240101-20240601',
      exchange: {
        name: 'binance',
        pair_whitelist: ['BTC/USDT:USDT', 'ETH/USDT:USDT'],
        ccxt_config: { enableRateLimit: true },
      },
    });
  });

  it.each([
    ['exchange', { exchange: { name: 'kraken' } }],
    ['datadir', { datadir: '/tmp/other' }],
    ['add_config_files', { add_config_files: ['/etc/passwd'] }],
    ['export', { export: 'none' }],
    ['api_server', { api_server: { enabled: true, listen_ip_address: '0.0.0.0' } }],
  ])('refuses an override of %s, naming it, and writes nothing', async (key, overrides) => {
    // Act & Assess
    await expect(invoke({ ...event, config_overrides: overrides })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining(`config_overrides.${key}: is not a setting a run may override`),
    });
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('refuses a config outside the strategy bucket, naming config_path, before reading anything', async () => {
    // Act & Assess
    await expect(
      invoke({ ...event, config_path: 's3://someone-elses-bucket/config.json' }),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('config_path: must be in the strategy bucket tradai-dev-strategies'),
    });
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('reports a stored config that is not a JSON object as a ConfigurationError and writes nothing', async () => {
    // Prepare
    serveConfig('["not", "an", "object"]');

    // Act & Assess
    await expect(invoke(event)).rejects.toMatchObject({ name: 'ConfigurationError' });
    expect(s3Mock).not.toReceiveCommand(PutObjectCommand);
  });

  it('maps S3 throttling on the write to TransientAwsError', async () => {
    // Prepare
    serveConfig(JSON.stringify(storedConfig));
    s3Mock.on(PutObjectCommand).rejects(awsError('SlowDown', 503));

    // Act & Assess
    await expect(invoke(event)).rejects.toMatchObject({ name: 'TransientAwsError' });
  });

  it('answers any input with a written config or a named ValidationError', async () => {
    // Prepare
    serveConfig(JSON.stringify(storedConfig));
    const events = fc.oneof(
      fc.record({
        ...Object.fromEntries(Object.entries(event).map(([k, v]) => [k, fc.constant(v)])),
        run_id: fc.string({ maxLength: 70 }),
      }),
      fc.anything(),
    );

    // Act
    const census = await censusOfRejections(handler, events, { numRuns: 300 });

    // Assess
    expect(census.answered).toBeGreaterThan(0);
    expect(census.rejected).toBeGreaterThan(0);
    for (const call of s3Mock.commandCalls(PutObjectCommand)) {
      expect(call.args[0].input.Key).toMatch(/^runs\/[A-Za-z0-9][A-Za-z0-9_-]{0,63}\/config\.json$/);
    }
  });
});

describe('deepMerge', () => {
  it('merges objects key by key and lets arrays and scalars replace', () => {
    expect(deepMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, d: { e: 2 } })).toEqual({
      a: { b: 1, c: [3] },
      d: { e: 2 },
    });
  });

  it('never lets an override reach the object prototype', () => {
    // Act
    const merged = deepMerge({}, JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"x": 1}}'));

    // Assess
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(merged)).toEqual([]);
  });
});

describe('prepare-config: the strategy parameter file freqtrade reads', () => {
  /** A strategy that declares two buy parameters and one sell parameter, as its manifest says. */
  const manifest = {
    class_name: 'MomentumStrategy',
    startup_candle_count: 30,
    parameters: {
      buy: { rsi_low: { type: 'int', low: 10, high: 40 }, use_volume: { type: 'boolean' } },
      sell: {
        rsi_high: { type: 'decimal', low: 60, high: 90 },
        rsi_fast: { type: 'int', low: 1, high: 9, load: false },
      },
    },
  };
  const serve = (objects: Record<string, unknown>) =>
    serveObjects(s3Mock, {
      ...DATASETS,
      ...Object.fromEntries(Object.entries(objects).map(([key, value]) => [key, JSON.stringify(value)])),
    });
  const withParameters = (strategy_parameters: unknown) => ({
    ...event,
    config_overrides: { ...event.config_overrides, strategy_parameters },
  });
  const puts = () =>
    Object.fromEntries(
      s3Mock
        .commandCalls(PutObjectCommand)
        .map((c) => [c.args[0].input.Key, JSON.parse(String(c.args[0].input.Body))]),
    );

  beforeEach(freshStack);

  it('writes the parameters as freqtrade loads them, and keeps them out of the config', async () => {
    // Arrange: the stored config has its own stoploss, which freqtrade would take over the file's
    serve({ [CONFIG]: { ...storedConfig, stoploss: -0.2 }, [MANIFEST]: manifest });
    const parameters = {
      buy: { rsi_low: 25 },
      stoploss: { stoploss: -0.08 },
    };

    // Act
    const prepared = await invoke(withParameters(parameters));

    // Assess
    expect(prepared.params_path).toBe('s3://tradai-dev-backtest-runs/runs/run-42/parameters.json');
    const files = puts();
    expect(files['runs/run-42/parameters.json']).toEqual({
      strategy_name: 'MomentumStrategy',
      params: parameters,
      ft_stratparam_v: 1,
      export_time: expect.any(String),
    });
    expect(freqtradeLoadsParameterFile(files['runs/run-42/parameters.json'], 'MomentumStrategy')).toBe(true);
    const config = files['runs/run-42/config.json'];
    expect(config).not.toHaveProperty('strategy_parameters');
    // freqtrade's resolver lets a config key win over the file: the config must not hold them
    expect(config).not.toHaveProperty('stoploss');
    expect(config).toMatchObject({ max_open_trades: 5, minimal_roi: { '0': 0.05 } });
  });

  it('refuses a setting given both in config_overrides and in the parameter file, naming both', async () => {
    // Arrange: the event sets minimal_roi; the parameters set roi too
    serve({ [CONFIG]: storedConfig, [MANIFEST]: manifest });

    // Act
    const failure = await invoke(withParameters({ roi: { '0': 0.04 } })).catch((error: unknown) => error);

    // Assess
    expect(failure).toMatchObject({
      name: 'ValidationError',
      issues: [
        {
          field: 'config_overrides.minimal_roi',
          message: expect.stringContaining('strategy_parameters.roi'),
        },
      ],
    });
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it.each([
    [
      { buy: { rsi_lo: 25 } },
      'config_overrides.strategy_parameters.buy.rsi_lo: MomentumStrategy declares no buy parameter rsi_lo (it declares rsi_low, use_volume)',
    ],
    [
      { buy: { rsi_low: 45 } },
      'config_overrides.strategy_parameters.buy.rsi_low: must be a whole number from 10 to 40',
    ],
    [
      { protection: { cooldown: 2 } },
      'config_overrides.strategy_parameters.protection.cooldown: MomentumStrategy declares no protection parameter cooldown',
    ],
    [
      { sell: { rsi_high: 'high' } },
      'config_overrides.strategy_parameters.sell.rsi_high: must be a number from 60 to 90',
    ],
  ])(
    'refuses %j with a ValidationError naming the parameter, and writes nothing',
    async (parameters, message) => {
      // Arrange
      serve({ [CONFIG]: storedConfig, [MANIFEST]: manifest });

      // Act
      const failure = await invoke(withParameters(parameters)).catch((error: unknown) => error);

      // Assess
      expect(failure).toMatchObject({ name: 'ValidationError' });
      expect((failure as Error).message).toContain(message);
      expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    },
  );

  it('refuses parameters for a strategy whose package declares none (no manifest), naming the field', async () => {
    // Arrange
    serve({ [CONFIG]: storedConfig });

    // Act
    const failure = await invoke(withParameters({ buy: { rsi_low: 25 } })).catch((error: unknown) => error);

    // Assess
    expect(failure).toMatchObject({
      name: 'ValidationError',
      issues: [
        {
          field: 'config_overrides.strategy_parameters',
          message: expect.stringContaining('no strategy.json'),
        },
      ],
    });
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('writes no parameter file for a run that sets no parameter', async () => {
    // Arrange
    serve({ [CONFIG]: storedConfig });

    // Act
    const prepared = await invoke(event);

    // Assess
    expect(prepared.params_path).toBe('');
    expect(Object.keys(puts())).toEqual(['runs/run-42/config.json']);
  });
});

describe('prepare-config: what freqtrade would refuse, before any container starts', () => {
  beforeEach(freshStack);

  it.each([
    [
      'spot pairs for a futures strategy',
      { ...storedConfig },
      { symbols: ['BTC/USDT', 'ETH/USDT:USDT'] },
      {
        field: 'symbols[0]',
        message: 'BTC/USDT is a spot pair; the strategy trades futures (such as BTC/USDT:USDT)',
      },
    ],
    [
      'futures pairs for a spot strategy',
      { ...storedConfig, trading_mode: 'spot' },
      {},
      {
        field: 'symbols[0]',
        message: "BTC/USDT:USDT is a futures pair; the strategy's trading_mode is spot",
      },
    ],
    [
      'a pair quoted in another currency than the stake',
      { ...storedConfig, stake_currency: 'BTC' },
      {},
      { field: 'symbols[0]', message: 'BTC/USDT:USDT is quoted in USDT; the strategy stakes BTC' },
    ],
    [
      'a pairlist a backtest cannot use',
      {
        ...storedConfig,
        pairlists: [{ method: 'VolumePairList', number_assets: 20 }, { method: 'AgeFilter' }],
      },
      {},
      {
        field: 'config.pairlists',
        message: expect.stringContaining('VolumePairList, AgeFilter do not support backtesting'),
      },
    ],
    [
      'another exchange than the market data was checked on',
      { ...storedConfig, exchange: { name: 'bybit' } },
      { data_exchange: 'binance' },
      {
        field: 'config.exchange.name',
        message: 'the strategy trades on bybit; its market data was checked on binance',
      },
    ],
  ])(
    'refuses %s with a ValidationError naming the field, writing nothing',
    async (_, config, request, issue) => {
      // Arrange
      serveConfig(JSON.stringify(config));

      // Act
      const failure = await invoke({ ...event, ...request }).catch((error: unknown) => error);

      // Assess
      expect(failure).toMatchObject({ name: 'ValidationError', issues: expect.arrayContaining([issue]) });
      expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    },
  );
});

describe('prepare-config: the candles freqtrade will load are all there', () => {
  beforeEach(freshStack);
  const refusal = (input: unknown) =>
    invoke(input).then(
      () => new Error('not refused'),
      (error: unknown) => error as Error,
    );
  const startup = (candles: number) =>
    JSON.stringify({ class_name: 'MomentumStrategy', startup_candle_count: candles });

  it("refuses a run whose data starts at the timerange, too late for the strategy's startup candles", async () => {
    // Arrange: 30 startup candles of 1h before 2024-01-01; BTC's data starts at 2024-01-01
    serveConfig(JSON.stringify(storedConfig), {
      [MANIFEST]: startup(30),
      ...Object.fromEntries([dataset('BTC/USDT:USDT', '1h', 'main', '2024-01-01T00:00:00Z')]),
    });

    // Act
    const failure = await refusal(event);

    // Assess
    expect(failure).toMatchObject({ name: 'DataStaleError' });
    expect(failure.message).toContain(
      'BTC/USDT:USDT 1h covers 2024-01-01T00:00:00Z to 2024-07-01T00:00:00Z; the timerange and 30 startup candles before it need 2023-12-30T18:00:00Z to 2024-06-01T00:00:00Z',
    );
    expect(failure.message).not.toContain('ETH/USDT:USDT');
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('accepts the same data for a strategy that needs no startup candles', async () => {
    // Arrange
    serveConfig(JSON.stringify(storedConfig), {
      [MANIFEST]: startup(0),
      ...Object.fromEntries([dataset('BTC/USDT:USDT', '1h', 'main', '2024-01-01T00:00:00Z')]),
    });

    // Act
    const prepared = await invoke(event);

    // Assess
    expect(prepared.config_path).toBe('s3://tradai-dev-backtest-runs/runs/run-42/config.json');
  });

  it("refuses a futures run without its funding rates, naming the series and the exchange's timeframe", async () => {
    // Arrange: bybit's mark prices are 4h (freqtrade/exchange/bybit.py); ETH has none, BTC all
    const bybit = { ...storedConfig, exchange: { name: 'bybit' } };
    const key = (symbol: string, tf: Timeframe, type: 'main' | 'funding_rate' | 'mark') =>
      datasetManifestKey(s3Prefix('datasets'), 'bybit', symbol, tf, type);
    const manifest = (symbol: string, timeframe: Timeframe) =>
      JSON.stringify(datasetManifest({ exchange: 'bybit', symbol, timeframe }));
    serveObjects(s3Mock, {
      [CONFIG]: JSON.stringify(bybit),
      [key('BTC/USDT:USDT', '1h', 'main')]: manifest('BTC/USDT:USDT', '1h'),
      [key('BTC/USDT:USDT', '8h', 'funding_rate')]: manifest('BTC/USDT:USDT', '8h'),
      [key('BTC/USDT:USDT', '4h', 'mark')]: manifest('BTC/USDT:USDT', '4h'),
      [key('ETH/USDT:USDT', '1h', 'main')]: manifest('ETH/USDT:USDT', '1h'),
    });

    // Act
    const failure = await refusal(event);

    // Assess
    expect(failure).toMatchObject({ name: 'DataStaleError' });
    expect(failure.message).toContain(
      'ETH/USDT:USDT 8h funding_rate (futures funding rates): no dataset manifest',
    );
    expect(failure.message).toContain('ETH/USDT:USDT 4h mark (futures mark prices): no dataset manifest');
    expect(failure.message).not.toContain('BTC/USDT:USDT');
  });

  it.each([
    ['1h', 'ValidationError', "must be a timeframe smaller than the strategy's 1h"],
    ['5m', 'DataStaleError', 'BTC/USDT:USDT 5m (timeframe_detail): no dataset manifest'],
  ])('checks timeframe_detail %s: %s', async (detail, name, message) => {
    // Arrange
    serveConfig(JSON.stringify({ ...storedConfig, timeframe_detail: detail }));

    // Act
    const failure = await refusal(event);

    // Assess
    expect(failure).toMatchObject({ name, message: expect.stringContaining(message) });
  });
});
