import {
  configKeysOfParameters,
  deepMerge,
  isPlainObject,
  type StrategyParameters,
  toFreqtradeTimerange,
} from '@tradai/lambda-kit';

type Json = Record<string, unknown>;

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
  // strategy_parameters go to the parameter file freqtrade reads (handler.ts): in the config
  // freqtrade would ignore them (freqtrade/strategy/hyper.py reads only the file).
  const { backtester: _envelope, strategy_parameters: _parameters, ...overrides } = run.config_overrides;
  const merged = deepMerge(base, overrides);
  // A space the parameter file sets must not be in the config too: freqtrade would take the config's.
  for (const { key } of configKeysOfParameters(
    (run.config_overrides.strategy_parameters ?? {}) as StrategyParameters,
  ))
    delete merged[key];
  const exchange = isPlainObject(merged.exchange) ? merged.exchange : {};
  return {
    ...merged,
    strategy: run.strategy_name,
    timeframe: run.timeframe,
    timerange: toFreqtradeTimerange(run.start_date, run.end_date),
    exchange: { ...exchange, pair_whitelist: [...run.symbols] },
  };
};
