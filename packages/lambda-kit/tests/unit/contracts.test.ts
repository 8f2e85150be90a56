import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import {
  backtestRequestSchema,
  ccxtSymbolSchema,
  check,
  dataSyncApiRequestSchema,
  dataSyncRequestSchema,
  isoDateSchema,
  MAX_INPUT_DEPTH,
  parseOrThrow,
  runIdSchema,
  strategyNameSchema,
  strategyVersionSchema,
  tableNameSchema,
  timeframeSchema,
  toFreqtradeTimerange,
  ValidationError,
} from '../../src';
import { SPEC_TEST_INPUT } from '../../src/testing';

const specTestInput = SPEC_TEST_INPUT;

const issuesOf = (value: unknown) => {
  const result = check(backtestRequestSchema, value);
  return result.ok ? [] : result.issues;
};

describe('backtestRequestSchema', () => {
  it('normalises the spec test input to top-level dates', () => {
    // Act
    const request = parseOrThrow(backtestRequestSchema, specTestInput);

    // Assess
    expect(request.start_date).toBe('2024-01-01');
    expect(request.end_date).toBe('2024-06-01');
    expect(request.config_overrides).toEqual(specTestInput.config_overrides);
  });

  it('accepts top-level dates without overrides', () => {
    // Prepare
    const { config_overrides: _unused, ...rest } = specTestInput;

    // Act
    const request = parseOrThrow(backtestRequestSchema, {
      ...rest,
      start_date: '2024-01-01',
      end_date: '2024-06-01T12:00:00Z',
    });

    // Assess
    expect(request).toMatchObject({ start_date: '2024-01-01', end_date: '2024-06-01T12:00:00Z' });
  });

  it('names both date fields when no date is given anywhere', () => {
    // Prepare
    const { config_overrides: _unused, ...noDates } = specTestInput;

    // Act
    const issues = issuesOf(noDates);

    // Assess
    expect(issues.map((issue) => issue.field)).toEqual(['start_date', 'end_date']);
    expect(issues[0]?.message).toContain('config_overrides.backtester.START_DATE');
  });

  it('refuses a top-level date that conflicts with the override', () => {
    // Act
    const issues = issuesOf({ ...specTestInput, start_date: '2023-01-01' });

    // Assess
    expect(issues).toEqual([{ field: 'start_date', message: expect.stringContaining('conflicts') }]);
  });

  it('refuses a malformed date inside the overrides, naming its path', () => {
    // Act
    const issues = issuesOf({
      ...specTestInput,
      config_overrides: { backtester: { START_DATE: 'yesterday', END_DATE: '2024-06-01' } },
    });

    // Assess
    expect(issues.map((issue) => issue.field)).toEqual(['config_overrides.backtester.START_DATE']);
  });

  it('refuses an end date that is not after the start date', () => {
    // Act
    const issues = issuesOf({
      ...specTestInput,
      config_overrides: { backtester: { START_DATE: '2024-06-01', END_DATE: '2024-06-01' } },
    });

    // Assess
    expect(issues).toEqual([{ field: 'end_date', message: 'must be after start_date' }]);
  });

  it('refuses unknown keys, so a typo is not silently ignored', () => {
    // Act
    const issues = issuesOf({ ...specTestInput, symbol: 'BTC/USDT' });

    // Assess
    expect(issues).toEqual([{ field: 'symbol', message: 'is not allowed' }]);
  });

  it('throws a ValidationError that names every bad field', () => {
    // Act
    const act = () =>
      parseOrThrow(backtestRequestSchema, { ...specTestInput, run_id: '../x', timeframe: '7m' });

    // Assess
    expect(act).toThrow(ValidationError);
    expect(act).toThrow(/run_id: .*; timeframe: /);
  });
});

describe('identifier patterns', () => {
  it.each(['test-001', 'a', 'RUN_2024_01', 'x'.repeat(64)])('accepts run id %s', (value) => {
    expect(check(runIdSchema, value).ok).toBe(true);
  });

  it.each(['', '../x', 'a/b', '-lead', 'has space', 'dot.ted', 'x'.repeat(65), 'ünïcode'])(
    'refuses run id %j',
    (value) => {
      expect(check(runIdSchema, value).ok).toBe(false);
    },
  );

  it.each(['MomentumStrategy', 'RSI2Strategy', 'Ab'])('accepts strategy name %s', (value) => {
    expect(check(strategyNameSchema, value).ok).toBe(true);
  });

  it.each(['momentum', 'My_Strategy', 'My-Strategy', '../Strategy', 'A', `A${'b'.repeat(64)}`])(
    'refuses strategy name %j',
    (value) => {
      expect(check(strategyNameSchema, value).ok).toBe(false);
    },
  );

  it.each(['1.0.0', '0.12.3', '2.0.0-rc.1'])('accepts version %s', (value) => {
    expect(check(strategyVersionSchema, value).ok).toBe(true);
  });

  it.each(['1.0', 'v1.0.0', '01.0.0', '1.0.0/..', '1.0.0+build', 'latest'])('refuses version %j', (value) => {
    expect(check(strategyVersionSchema, value).ok).toBe(false);
  });

  it.each(['BTC/USDT', 'BTC/USDT:USDT', '1000PEPE/USDT:USDT', 'BTC/USDT:USDT-240628'])(
    'accepts ccxt symbol %s',
    (value) => {
      expect(check(ccxtSymbolSchema, value).ok).toBe(true);
    },
  );

  it.each(['BTCUSDT', 'btc/usdt', 'BTC/USDT/ETH', 'BTC_USDT', 'BTC/USDT:', '../BTC/USDT'])(
    'refuses ccxt symbol %j',
    (value) => {
      expect(check(ccxtSymbolSchema, value).ok).toBe(false);
    },
  );

  it('accepts exactly the freqtrade timeframes', () => {
    expect(check(timeframeSchema, '1M').ok).toBe(true);
    expect(check(timeframeSchema, '1m').ok).toBe(true);
    expect(check(timeframeSchema, '7m').ok).toBe(false);
    expect(check(timeframeSchema, '1H').ok).toBe(false);
  });

  it.each([
    '2024-02-30',
    '2023-02-29',
    '2024-13-01',
    '2024-1-1',
    '2008-12-31',
    '2024-01-01T25:00:00Z',
    '2024-01-01T00:00:00+02:00',
  ])('refuses date %j', (value) => {
    expect(check(isoDateSchema, value).ok).toBe(false);
  });

  it.each(['2024-02-29', '2024-01-01T00:00Z', '2024-01-01T23:59:59.123Z'])('accepts date %s', (value) => {
    expect(check(isoDateSchema, value).ok).toBe(true);
  });
});

describe('toFreqtradeTimerange', () => {
  it('writes a range of whole days as freqtrade --timerange expects it', () => {
    expect(toFreqtradeTimerange('2024-01-01', '2024-06-01T00:00:00Z')).toBe('20240101-20240601');
  });

  it.each([
    // 2024-06-01T12:00:00Z is 1717243200 s: the time of day is kept, not cut to 20240601
    ['2024-01-01', '2024-06-01T12:00:00Z', '1704067200-1717243200'],
    ['2024-01-01T12:00:00Z', '2024-01-02', '1704110400-1704153600'],
    // a fraction of a second rounds up: the same whole-second candles in [start, end)
    ['2024-01-01T00:00:00.500Z', '2024-01-01T00:05:00.001Z', '1704067201-1704067501'],
  ])(
    'keeps the instant %s .. %s as unix seconds, both ends alike (freqtrade reads only that)',
    (start, end, range) => {
      // Act
      const timerange = toFreqtradeTimerange(start, end);

      // Assess: freqtrade's parse_timerange accepts ^(\d{10})-(\d{10})$, and the seconds are the instants'
      expect(timerange).toBe(range);
      expect(timerange).toMatch(/^\d{10}-\d{10}$/);
      const [from, to] = timerange.split('-').map((seconds) => Number(seconds) * 1000);
      expect(from).toBe(
        Math.ceil(Date.parse(start.length === 10 ? `${start}T00:00:00Z` : start) / 1000) * 1000,
      );
      expect(to).toBe(Math.ceil(Date.parse(end.length === 10 ? `${end}T00:00:00Z` : end) / 1000) * 1000);
    },
  );
});

describe('config_overrides: an allow-list of freqtrade backtest settings', () => {
  it.each([
    ['exchange', { exchange: { name: 'kraken' } }],
    ['datadir', { datadir: '/data/elsewhere' }],
    ['add_config_files', { add_config_files: ['/etc/passwd'] }],
    ['export', { export: 'none' }],
    ['api_server', { api_server: { enabled: true, listen_ip_address: '0.0.0.0' } }],
  ])('refuses %s with a ValidationError that names it', (key, overrides) => {
    // Act
    const act = () => parseOrThrow(backtestRequestSchema, { ...specTestInput, config_overrides: overrides });

    // Assess
    expect(act).toThrow(expect.objectContaining({ name: 'ValidationError' }));
    expect(act).toThrow(`config_overrides.${key}: is not a setting a run may override`);
  });

  it.each([0.0001, 0.00075, 0.1])('accepts a fee of %f, from the floor to 10 %%', (fee) => {
    // Prepare
    const overrides = { ...specTestInput.config_overrides, fee };

    // Act
    const request = parseOrThrow(backtestRequestSchema, { ...specTestInput, config_overrides: overrides });

    // Assess
    expect(request.config_overrides?.fee).toBe(fee);
  });

  it('accepts the settings a quant tunes, and the spec envelope of dates', () => {
    // Prepare
    const overrides = {
      stake_amount: 'unlimited',
      dry_run_wallet: 1_000,
      max_open_trades: 3,
      minimal_roi: { '0': 0.1, '60': 0.02 },
      stoploss: -0.08,
      trailing_stop: true,
      trailing_stop_positive: 0.01,
      fee: 0.001,
      timeframe_detail: '5m',
      strategy_parameters: { buy: { rsi_entry: 30, use_volume: true } },
      backtester: { START_DATE: '2024-01-01', END_DATE: '2024-06-01' },
    };

    // Act
    const request = parseOrThrow(backtestRequestSchema, { ...specTestInput, config_overrides: overrides });

    // Assess
    expect(request.config_overrides).toEqual(overrides);
  });

  it.each([
    [{ stoploss: 0.1 }, 'config_overrides.stoploss: must be below 0'],
    [{ max_open_trades: 2.5 }, 'config_overrides.max_open_trades: must be a whole number'],
    [{ fee: 0.5 }, 'config_overrides.fee: must be at most 0.1'],
    [{ fee: 0 }, 'config_overrides.fee: must be at least 0.0001 (a floor under exchange fees, not a rate)'],
    [{ fee: 0.00009 }, 'config_overrides.fee: must be at least 0.0001'],
    [{ fee: -0.001 }, 'config_overrides.fee: must be at least 0.0001'],
    [{ minimal_roi: { soon: 0.1 } }, 'config_overrides.minimal_roi.soon'],
    [{ strategy_parameters: { buy: { rsi: { deep: 1 } } } }, 'config_overrides.strategy_parameters.buy.rsi'],
    [{ backtester: { START_DATE: '2024-01-01', EXTRA: 1 } }, 'config_overrides.backtester.EXTRA'],
  ])('refuses the wrong type or range of an allowed setting: %j', (overrides, message) => {
    expect(() =>
      parseOrThrow(backtestRequestSchema, { ...specTestInput, config_overrides: overrides }),
    ).toThrow(message);
  });
});

describe('the depth of any input', () => {
  const nestedText = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
  const nested = (levels: number) => JSON.parse(nestedText(levels));

  it('refuses overrides 5,000 levels deep (10 KB) by name, not with a RangeError', () => {
    // Prepare
    const request = { ...specTestInput, config_overrides: { stoploss: nested(5_000) } };

    // Act
    const act = () => parseOrThrow(backtestRequestSchema, request);

    // Assess
    expect(nestedText(5_000).length).toBeLessThan(16_384);
    expect(() => JSON.stringify(request)).toThrow(RangeError);
    expect(act).toThrow(expect.objectContaining({ name: 'ValidationError' }));
    expect(act).toThrow(`config_overrides.stoploss[0]: must nest at most ${MAX_INPUT_DEPTH} levels`);
  });

  it('accepts input exactly as deep as allowed', () => {
    const result = check(z.unknown(), { a: nested(MAX_INPUT_DEPTH - 1) });
    expect(result.ok).toBe(true);
  });
});

describe('one rule for date ranges, shared by backtests and data syncs', () => {
  it.each([
    [{ start_date: '2024-01-01', end_date: '2099-01-01' }, 'end_date: must not be in the future'],
    [
      { start_date: '2015-01-01', end_date: '2024-01-01' },
      'end_date: must be at most 1827 days after start_date',
    ],
    [
      { timeframe: '1m', start_date: '2021-01-01', end_date: '2024-01-01' },
      'end_date: must span at most 1000000 1m candles per symbol',
    ],
  ])('refuses a backtest the nested sync would refuse: %j', (change, message) => {
    // Prepare
    const { config_overrides: _dates, ...request } = specTestInput;
    const range: Record<string, string> = Object.assign(
      { start_date: '2024-01-01', end_date: '2024-06-01' },
      change,
    );
    const backtest = { ...request, ...range };
    const sync = { symbols: backtest.symbols, timeframe: backtest.timeframe, ...range };

    // Act & Assess
    expect(() => parseOrThrow(backtestRequestSchema, backtest)).toThrow(message);
    expect(() => parseOrThrow(dataSyncRequestSchema, sync)).toThrow(message);
  });
});

describe('the data-sync API request', () => {
  const body = {
    symbols: ['BTC/USDT:USDT'],
    timeframe: '1h',
    start_date: '2024-01-01',
    end_date: '2024-06-01',
    request_id: 'sync-42',
  };

  it.each([
    ['requested_by', { requested_by: { workflow: 'backtest', run_id: 'bt-1' } }],
    ['AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID', { AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: 'arn:x' }],
  ])('refuses the internal field %s', (field, extra) => {
    expect(() => parseOrThrow(dataSyncApiRequestSchema, { ...body, ...extra })).toThrow(
      `${field}: is not allowed`,
    );
  });

  it("refuses a request_id in the backtests' nested-sync namespace", () => {
    expect(() => parseOrThrow(dataSyncApiRequestSchema, { ...body, request_id: 'bt-1-data-sync' })).toThrow(
      'request_id: must not end in -data-sync',
    );
  });

  it('requires a request_id, and accepts a plain request', () => {
    const { request_id: _id, ...anonymous } = body;
    expect(() => parseOrThrow(dataSyncApiRequestSchema, anonymous)).toThrow('request_id: is required');
    expect(parseOrThrow(dataSyncApiRequestSchema, body)).toEqual(body);
  });
});

describe('tableNameSchema, the one rule for DynamoDB table names', () => {
  it.each(['tradai-dev-workflow-state', 'abc', 'a_b.c-d', 'x'.repeat(255)])('accepts %s', (name) => {
    expect(check(tableNameSchema, name).ok).toBe(true);
  });

  it.each(['ab', 'x'.repeat(256), 'runs/../x', 'tradai dev', ''])('refuses %j, naming the rule', (name) => {
    // Act
    const result = check(tableNameSchema, name);

    // Assess
    expect(result.ok ? [] : result.issues.map((issue) => issue.message)).toEqual([
      'must be a DynamoDB table name',
    ]);
  });
});
