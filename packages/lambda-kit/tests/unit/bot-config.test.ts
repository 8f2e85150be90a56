import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  deployRequestSchema,
  exchangeAccountOf,
  exchangeKeysIn,
  RUN_ONLY_KEYS,
  renderBotConfig,
  strategyHash,
} from '../../src';

/** A backtest's merged config, as prepare-config writes it (freqtrade's own keys). */
const tested = {
  max_open_trades: 3,
  stake_currency: 'USDT',
  stake_amount: 100,
  stoploss: -0.1,
  minimal_roi: { '0': 0.05 },
  strategy: 'MomentumStrategy',
  timeframe: '1h',
  timerange: '20240101-20240601',
  dry_run: true,
  dry_run_wallet: 0.01,
  exchange: { name: 'binance', pair_whitelist: ['BTC/USDT'] },
};
const params = { buy: { buy_rsi: 28 } };

describe('the strategy hash', () => {
  it('is the same for the backtest and the bot rendered from it: only where and how it runs differs', () => {
    // Act
    const bot = renderBotConfig(tested, {
      environment: 'live',
      service_name: 'tradai-prod-live-x',
      dry_run_wallet: 1000,
    });

    // Assess
    expect(strategyHash(bot, params)).toBe(strategyHash(tested, params));
    expect(strategyHash(tested, params)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('changes with any strategy setting or parameter, never with a run-only key or the key order', () => {
    const base = strategyHash(tested, params);
    // A setting and a parameter change it.
    expect(strategyHash({ ...tested, stoploss: -0.2 }, params)).not.toBe(base);
    expect(strategyHash(tested, { buy: { buy_rsi: 29 } })).not.toBe(base);
    expect(
      strategyHash({ ...tested, exchange: { name: 'binance', pair_whitelist: ['ETH/USDT'] } }, params),
    ).not.toBe(base);
    // Where and when it ran does not; nor does the order of keys.
    expect(strategyHash({ ...tested, timerange: '20230101-20230601', db_url: 'sqlite://' }, params)).toBe(
      base,
    );
    expect(strategyHash(Object.fromEntries(Object.entries(tested).reverse()), params)).toBe(base);
  });

  it('ignores every run-only key, whatever its value (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...RUN_ONLY_KEYS), fc.jsonValue(), (key, value) => {
        expect(strategyHash({ ...tested, [key]: value }, params)).toBe(strategyHash(tested, params));
      }),
    );
  });
});

describe('the rendered bot config', () => {
  it('says dry_run as the deploy says, with a wallet only in dry-run, and a database per service on the volume', () => {
    // Act
    const dry = renderBotConfig(tested, {
      environment: 'dry-run',
      service_name: 'tradai-dev-dry-run-x',
      dry_run_wallet: 500,
    });
    const live = renderBotConfig(tested, {
      environment: 'live',
      service_name: 'tradai-prod-live-x',
      dry_run_wallet: 500,
    });

    // Assess
    expect(dry).toMatchObject({
      dry_run: true,
      dry_run_wallet: 500,
      db_url: 'sqlite:////freqtrade/user_data/db/tradai-dev-dry-run-x.sqlite',
    });
    expect(live).toMatchObject({
      dry_run: false,
      db_url: 'sqlite:////freqtrade/user_data/db/tradai-prod-live-x.sqlite',
    });
    expect(live).not.toHaveProperty('dry_run_wallet');
    expect(live).not.toHaveProperty('timerange');
    expect(live.api_server).toMatchObject({ enabled: true, listen_ip_address: '0.0.0.0', listen_port: 8080 });
  });

  it('never carries an exchange key, and exchangeKeysIn names any the source holds', () => {
    // Prepare
    const leaky = { ...tested, exchange: { name: 'binance', key: 'AKIA', secret: 's', password: '' } };

    // Act
    const bot = renderBotConfig(leaky, { environment: 'live', service_name: 'x', dry_run_wallet: 1 });

    // Assess
    expect(exchangeKeysIn(leaky)).toEqual(['exchange.key', 'exchange.secret']);
    expect(exchangeKeysIn(bot)).toEqual([]);
  });
});

describe('the exchange account of a live bot', () => {
  it('is the exchange and the key reference, without the secret ARN random suffix', () => {
    expect(
      exchangeAccountOf('binance', {
        secret_arn:
          'arn:aws:secretsmanager:us-east-1:123456789012:secret:tradai/exchange/binance-main-AbCdEf',
      }),
    ).toBe('binance:tradai/exchange/binance-main');
    expect(exchangeAccountOf('bybit', { ssm_path: '/tradai/exchange/sub-1' })).toBe(
      'bybit:tradai/exchange/sub-1',
    );
  });
});

describe('the deploy request', () => {
  const base = { request_id: 'd-1', strategy_name: 'MomentumStrategy', strategy_version: '1.0.0' };

  it('takes keys only by reference, only for live, and defaults open trades to keep', () => {
    expect(deployRequestSchema.parse({ ...base, environment: 'dry-run' })).toMatchObject({
      open_trades: 'keep',
    });
    expect(
      deployRequestSchema.safeParse({
        ...base,
        environment: 'live',
        backtest_run_id: 'bt',
        exchange_credentials: { key: 'x' },
      }).success,
    ).toBe(false);
    expect(
      deployRequestSchema.safeParse({
        ...base,
        environment: 'live',
        backtest_run_id: 'bt',
        exchange_credentials: { ssm_path: '/tradai/exchange/main' },
      }).success,
    ).toBe(true);
  });
});
