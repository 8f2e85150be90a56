import { toFreqtradeTimerange } from '@tradai/lambda-kit';

type Json = Record<string, unknown>;

const isPlainObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Objects merge key by key; arrays and scalars in `overrides` replace what `base` has. */
export const deepMerge = (base: Json, overrides: Json): Json => {
  const merged: Json = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    // JSON.parse output can carry a `__proto__` own key; never let it reach an object's prototype.
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
    const current = merged[key];
    merged[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return merged;
};

export interface RunSettings {
  strategy_name: string;
  timeframe: string;
  symbols: readonly string[];
  start_date: string;
  end_date: string;
  config_overrides: Json;
}

/**
 * The freqtrade config one run uses: the strategy's stored config, the request's overrides merged
 * in, then the request's own fields, which always win (a run must backtest what was asked).
 * `backtester` is TradAI's request envelope (its dates are already normalised), not freqtrade's.
 */
export const buildRunConfig = (base: Json, run: RunSettings): Json => {
  const { backtester: _envelope, ...overrides } = run.config_overrides;
  const merged = deepMerge(base, overrides);
  const exchange = isPlainObject(merged.exchange) ? merged.exchange : {};
  return {
    ...merged,
    strategy: run.strategy_name,
    timeframe: run.timeframe,
    timerange: toFreqtradeTimerange(run.start_date, run.end_date),
    exchange: { ...exchange, pair_whitelist: [...run.symbols] },
  };
};

export { isPlainObject };
