import { describe, expect, it } from 'vitest';
import {
  backtestRequestSchema,
  ccxtSymbolSchema,
  check,
  isoDateSchema,
  parseOrThrow,
  runIdSchema,
  strategyNameSchema,
  strategyVersionSchema,
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
    expect(issues[0]?.message).toContain('symbol');
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
  it('writes the range as freqtrade --timerange expects it', () => {
    expect(toFreqtradeTimerange('2024-01-01', '2024-06-01T12:00:00Z')).toBe('20240101-20240601');
  });
});
