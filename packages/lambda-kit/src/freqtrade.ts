/*
 * The freqtrade contract: every shape of freqtrade's that our workflows write or read, in one place
 * (docs/decisions/0042). Read from freqtrade's own source, not from our tests:
 *   2024.10-dev  c9ae5e1e9ff25bb55dd61f5e5519f7c479291edb (2024-10-24)
 *   2025.10-dev  4adab37b2aba31a0690522847df429acd0cbced8 (2025-10-29)
 * Each rule names the file and function it was read from. Nothing else in the repository knows
 * freqtrade's file names, parameter spaces or zip layout.
 */
import * as z from 'zod/mini';
import type { Timeframe } from './contracts';

/** The freqtrade releases these shapes were read from. */
export const FREQTRADE_VERSIONS = '>=2024.10 <=2025.10';

/**
 * The spaces of a strategy parameter file, in freqtrade's order
 * (freqtrade/optimize/hyperopt/hyperopt_optimizer.py `_get_params_details`).
 */
export const PARAMETER_SPACES = [
  'buy',
  'sell',
  'protection',
  'roi',
  'stoploss',
  'trailing',
  'max_open_trades',
] as const;
export type ParameterSpace = (typeof PARAMETER_SPACES)[number];

/**
 * The spaces a strategy declares parameters in, as class attributes (IntParameter, ...): only these
 * are scanned (freqtrade/strategy/hyper.py `detect_parameters`); a name in the file that the strategy
 * does not declare is ignored without a word (`_ft_load_params`), so we refuse it instead.
 */
export const DECLARED_SPACES = ['buy', 'sell', 'protection'] as const;
type DeclaredSpace = (typeof DECLARED_SPACES)[number];

/** Names JavaScript objects already answer to, which could never be a declared parameter of ours. */
const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype']);
const parameterName = z.string().check(
  z.regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, { error: 'must be a Python attribute name' }),
  z.refine((name) => !RESERVED_NAMES.has(name), { error: 'must not be __proto__, constructor or prototype' }),
);
const value = z.union([z.string().check(z.maxLength(256)), z.number(), z.boolean()], {
  error: 'must be a string, number or boolean',
});
const share = z.number({ error: 'must be a number' }).check(z.gte(0, { error: 'must be at least 0' }));

/**
 * A request's strategy parameters, in freqtrade's spaces and shapes
 * (freqtrade/strategy/hyper.py `ft_load_params_from_file` reads roi, stoploss.stoploss,
 * trailing.*, max_open_trades.max_open_trades; resolvers/strategy_resolver.py
 * `_normalize_attributes` turns ROI keys with int(), so a key is whole minutes).
 */
export const strategyParametersSchema = z.partial(
  z.strictObject(
    {
      buy: z.record(parameterName, value),
      sell: z.record(parameterName, value),
      protection: z.record(parameterName, value),
      roi: z
        .record(
          // int() in freqtrade would merge "30" and "030" into one step: no leading zeros.
          z
            .string()
            .check(z.regex(/^(0|[1-9]\d{0,5})$/, { error: 'must be whole minutes, such as "0" or "60"' })),
          z.number({ error: 'must be a number' }),
        )
        .check(z.maxSize(50, { error: 'must have at most 50 steps' })),
      stoploss: z.strictObject({
        stoploss: z
          .number({ error: 'must be a number' })
          .check(z.gte(-1, { error: 'must be at least -1' }), z.lt(0, { error: 'must be below 0' })),
      }),
      trailing: z.partial(
        z.strictObject({
          trailing_stop: z.boolean({ error: 'must be true or false' }),
          trailing_stop_positive: share,
          trailing_stop_positive_offset: share,
          trailing_only_offset_is_reached: z.boolean({ error: 'must be true or false' }),
        }),
      ),
      max_open_trades: z.strictObject({
        max_open_trades: z
          .number({ error: 'must be a whole number' })
          .check(
            z.int({ error: 'must be a whole number' }),
            z.gte(-1, { error: 'must be -1 (unlimited) or more' }),
          ),
      }),
    },
    { error: `must hold only freqtrade's spaces: ${PARAMETER_SPACES.join(', ')}` },
  ),
);
export type StrategyParameters = z.output<typeof strategyParametersSchema>;

/**
 * One declared parameter, as the strategy package's manifest states it: the class attribute's
 * type and bounds (freqtrade/strategy/parameters.py IntParameter, DecimalParameter, RealParameter,
 * CategoricalParameter, BooleanParameter).
 */
const declaredParameterSchema = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('int'), low: z.number(), high: z.number() }),
    z.object({ type: z.literal('real'), low: z.number(), high: z.number() }),
    // DecimalParameter rounds its value to `decimals` places (3 unless said; parameters.py)
    z.object({
      type: z.literal('decimal'),
      low: z.number(),
      high: z.number(),
      decimals: z._default(z.number().check(z.int(), z.gte(0), z.lte(10)), 3),
    }),
    z.object({ type: z.literal('categorical'), categories: z.array(value).check(z.minLength(2)) }),
    z.object({ type: z.literal('boolean') }),
  ],
  { error: 'must have a type: int, decimal, real, categorical or boolean' },
);
/** `load: false`: freqtrade ignores the file's value for it, with only a warning (hyper.py `_ft_load_params`). */
const declaredSchema = z.intersection(
  declaredParameterSchema,
  z.object({ load: z._default(z.boolean(), true) }),
);

/**
 * The strategy package's manifest, `strategies/<StrategyName>/<version>/strategy.json` in the
 * strategy bucket (docs/contracts/strategy-artifacts.md): what the class declares, written by the
 * strategy build from the class itself.
 */
export const strategyManifestSchema = z.object({
  /** The class name: freqtrade loads a parameter file only when its strategy_name is this. */
  class_name: z.string(),
  /** freqtrade's `startup_candle_count`: candles loaded before the timerange, then trimmed. */
  startup_candle_count: z._default(z.number().check(z.int(), z.gte(0), z.lte(5_000)), 0),
  parameters: z._default(
    z.partialRecord(z.enum(DECLARED_SPACES), z.record(parameterName, declaredSchema)),
    {},
  ),
});
export type StrategyManifest = z.output<typeof strategyManifestSchema>;

const STRATEGY_MANIFEST_FILE = 'strategy.json';
/** The manifest's key, beside the strategy version's config. */
export const strategyManifestKey = (configKey: string) =>
  configKey.slice(0, configKey.lastIndexOf('/') + 1) + STRATEGY_MANIFEST_FILE;

/**
 * What is wrong with `parameters` for a strategy that declares `manifest` (none: every value fits a
 * declared parameter), each issue named by its path under `field`.
 */
export const undeclaredParameterIssues = (
  parameters: StrategyParameters,
  manifest: StrategyManifest,
  field: string,
): { field: string; message: string }[] =>
  DECLARED_SPACES.flatMap((space: DeclaredSpace) =>
    Object.entries(parameters[space] ?? {}).flatMap(([name, given]) => {
      const path = `${field}.${space}.${name}`;
      const declaredHere = manifest.parameters[space] ?? {};
      const declared = Object.hasOwn(declaredHere, name) ? declaredHere[name] : undefined;
      if (!declared) {
        const known = Object.keys(manifest.parameters[space] ?? {});
        return [
          {
            field: path,
            message: `${manifest.class_name} declares no ${space} parameter ${name}${known.length ? ` (it declares ${known.join(', ')})` : ''}`,
          },
        ];
      }
      const problem = (() => {
        if (!declared.load)
          return `${manifest.class_name} declares it with load=False: freqtrade would ignore the value`;
        switch (declared.type) {
          case 'int':
            return typeof given === 'number' &&
              Number.isInteger(given) &&
              given >= declared.low &&
              given <= declared.high
              ? undefined
              : `must be a whole number from ${declared.low} to ${declared.high}`;
          case 'decimal':
            if (
              typeof given === 'number' &&
              Math.abs(given * 10 ** declared.decimals - Math.round(given * 10 ** declared.decimals)) > 1e-6
            )
              return `has more than ${declared.decimals} decimals, which freqtrade rounds away`;
            return typeof given === 'number' && given >= declared.low && given <= declared.high
              ? undefined
              : `must be a number from ${declared.low} to ${declared.high}`;
          case 'real':
            return typeof given === 'number' && given >= declared.low && given <= declared.high
              ? undefined
              : `must be a number from ${declared.low} to ${declared.high}`;
          case 'categorical':
            return declared.categories.includes(given)
              ? undefined
              : `must be one of ${declared.categories.join(', ')}`;
          case 'boolean':
            return typeof given === 'boolean' ? undefined : 'must be true or false';
        }
      })();
      return problem ? [{ field: path, message: problem }] : [];
    }),
  );

/**
 * The strategy parameter file freqtrade reads: beside the strategy's .py file, with its stem and a
 * `.json` suffix (freqtrade/strategy/hyper.py `load_params_from_file`: `Path(__file__).with_suffix
 * (".json")`), in the layout hyperopt exports (freqtrade/optimize/hyperopt_tools.py `export_params`).
 */
export interface StrategyParameterFile {
  strategy_name: string;
  params: StrategyParameters;
  ft_stratparam_v: 1;
  export_time: string;
}

export const strategyParameterFile = (
  className: string,
  params: StrategyParameters,
  exportTime: string,
): StrategyParameterFile => ({
  strategy_name: className,
  params,
  ft_stratparam_v: 1,
  export_time: exportTime,
});

/**
 * Whether freqtrade uses `file` for the class `className`, by its own rule
 * (freqtrade/strategy/hyper.py `load_params_from_file`): a file whose strategy_name is another
 * class's raises "Invalid parameter file provided."; `ft_stratparam_v` is written, never checked.
 */
export const freqtradeLoadsParameterFile = (file: unknown, className: string): boolean =>
  typeof file === 'object' &&
  file !== null &&
  (file as { strategy_name?: unknown }).strategy_name === className &&
  typeof (file as { params?: unknown }).params === 'object';

/**
 * The members of a result zip freqtrade 2025.1+ writes (freqtrade/optimize/optimize_reports/
 * bt_storage.py `store_backtest_results`), for the zip `backtest-result-<ts>.zip`:
 *   result      `<stem>.json`: the one freqtrade itself reads back (freqtrade/data/btanalysis/
 *               bt_fileutils.py `load_backtest_stats`: `fn.with_suffix(".json").name`)
 *   config      `<stem>_config.json`, the run's config with secrets redacted
 *   parameters  `<stem>_<Strategy>.json`, the strategy's parameter file, when it had one
 * Older releases (2024.x) wrote `<stem>.json` alone, beside the `.meta.json`.
 */
export const resultZipMembers = (zipName: string) => {
  const base = zipName.split('/').pop() ?? zipName;
  const stem = base.endsWith('.zip') ? base.slice(0, -4) : base;
  return {
    result: `${stem}.json`,
    config: `${stem}_config.json`,
    parameters: (strategy: string) => `${stem}_${strategy}.json`,
  };
};

/**
 * Where two parameter sets differ, as `space.name: asked X, ran Y`, for the spaces `asked` names
 * (what freqtrade stored for other spaces is the strategy's own choice).
 */
export const parameterDifferences = (asked: StrategyParameters, ran: StrategyParameters): string[] =>
  PARAMETER_SPACES.flatMap((space) =>
    Object.entries((asked[space] ?? {}) as Record<string, unknown>).flatMap(([name, wanted]) => {
      const got = ((ran[space] ?? {}) as Record<string, unknown>)[name];
      const same =
        typeof wanted === 'number' && typeof got === 'number'
          ? Math.abs(wanted - got) < 1e-9
          : wanted === got;
      return same
        ? []
        : [`${space}.${name}: asked ${JSON.stringify(wanted)}, ran ${JSON.stringify(got ?? null)}`];
    }),
  );

/**
 * Pairlist handlers freqtrade refuses in a backtest ("Pairlist Handlers ... do not support
 * backtesting.", freqtrade/plugins/pairlistmanager.py `_check_backtest`: those whose
 * `supports_backtesting` is NO).
 */
export const PAIRLISTS_WITHOUT_BACKTESTING = [
  'VolumePairList',
  'PercentChangePairList',
  'ProducerPairList',
  'AgeFilter',
  'SpreadFilter',
  'VolatilityFilter',
  'RangeStabilityFilter',
  'DelistFilter',
];

/**
 * What freqtrade would fail a backtest of `config` over `symbols` for, checked before any container
 * starts, each issue named by its field:
 * - a pair that does not fit `trading_mode` (ccxt symbols: spot `BTC/USDT`, futures
 *   `BTC/USDT:USDT`; freqtrade/exchange/exchange.py `market_is_tradable`);
 * - a pair whose quote is not the `stake_currency` (plugins/pairlist/IPairList.py
 *   `_whitelist_for_active_markets` drops it);
 * - a pairlist handler that cannot backtest;
 * - an exchange other than the one the market data was checked on.
 */
export const backtestConfigIssues = (
  config: Record<string, unknown>,
  symbols: readonly string[],
  dataExchange: string | undefined,
): { field: string; message: string }[] => {
  const mode = typeof config.trading_mode === 'string' ? config.trading_mode : 'spot';
  const stake = typeof config.stake_currency === 'string' ? config.stake_currency : undefined;
  const issues = symbols.flatMap((symbol, i) => {
    const field = `symbols[${i}]`;
    const futures = symbol.includes(':');
    if (mode === 'futures' && !futures)
      return [
        {
          field,
          message: `${symbol} is a spot pair; the strategy trades futures (such as ${symbol}:${symbol.split('/')[1]})`,
        },
      ];
    if (mode !== 'futures' && futures)
      return [{ field, message: `${symbol} is a futures pair; the strategy's trading_mode is ${mode}` }];
    const quote = symbol.split('/')[1]?.split(':')[0];
    return stake && quote !== stake
      ? [{ field, message: `${symbol} is quoted in ${quote}; the strategy stakes ${stake}` }]
      : [];
  });
  const handlers = Array.isArray(config.pairlists)
    ? config.pairlists
        .map((p) => (p as { method?: unknown } | null)?.method)
        .filter((m) => typeof m === 'string')
    : [];
  const refused = handlers.filter((method) => PAIRLISTS_WITHOUT_BACKTESTING.includes(method));
  if (refused.length > 0) {
    issues.push({
      field: 'config.pairlists',
      message: `Pairlist Handlers ${refused.join(', ')} do not support backtesting (freqtrade); the strategy's config must use StaticPairList`,
    });
  }
  const exchange = (config.exchange as { name?: unknown } | undefined)?.name;
  if (dataExchange !== undefined && exchange !== dataExchange) {
    issues.push({
      field: 'config.exchange.name',
      message: `the strategy trades on ${String(exchange ?? 'no exchange')}; its market data was checked on ${dataExchange}`,
    });
  }
  return issues;
};

/**
 * The extra candle series a futures backtest loads, and their timeframes per exchange:
 * `funding_fee_timeframe` and `mark_ohlcv_timeframe` (freqtrade/exchange/exchange.py `_ft_has_default`:
 * 8h and 8h; bybit.py, okx.py, bitget.py, kraken.py: mark 4h; hyperliquid.py: funding 1h), loaded by
 * freqtrade/optimize/backtesting.py `_load_bt_data_detail` for the whole timerange.
 */
export const futuresCandleTimeframes = (exchange: string): { funding_rate: Timeframe; mark: Timeframe } => ({
  funding_rate: exchange === 'hyperliquid' ? '1h' : '8h',
  mark: ['bybit', 'okx', 'bitget', 'kraken'].includes(exchange) ? '4h' : '8h',
});

/** One series of candles a backtest reads, and the instants it must cover. */
export interface RequiredDataset {
  symbol: string;
  timeframe: Timeframe;
  /** freqtrade's candle type: the main series, or a futures run's funding rates and mark prices. */
  candle_type: 'main' | 'funding_rate' | 'mark';
  from: number;
  to: number;
  why: string;
}

/**
 * Every series of candles freqtrade will load for a backtest, with the range each must cover:
 * - the main timeframe from `startup_candle_count` candles before the start
 *   (freqtrade/data/history/datahandlers/idatahandler.py `ohlcv_load` moves the start back by
 *   them, converter.py `trim_dataframe` drops them after; too few and the first window is short);
 * - `timeframe_detail`, over the timerange (backtesting.py `_load_bt_data_detail`);
 * - for futures, funding rates and mark prices (futuresCandleTimeframes).
 */
export const requiredDatasets = (run: {
  symbols: readonly string[];
  timeframe: Timeframe;
  timeframeSeconds: (timeframe: Timeframe) => number;
  from: number;
  to: number;
  startupCandles: number;
  timeframeDetail?: Timeframe;
  futures: boolean;
  exchange: string;
}): RequiredDataset[] =>
  run.symbols.flatMap((symbol) => {
    const startup = run.startupCandles * run.timeframeSeconds(run.timeframe) * 1000;
    const main: RequiredDataset = {
      symbol,
      timeframe: run.timeframe,
      candle_type: 'main',
      from: run.from - startup,
      to: run.to,
      why:
        run.startupCandles > 0
          ? `the timerange and ${run.startupCandles} startup candles before it`
          : 'the timerange',
    };
    const over = (
      timeframe: Timeframe,
      candle_type: RequiredDataset['candle_type'],
      why: string,
    ): RequiredDataset => ({
      symbol,
      timeframe,
      candle_type,
      from: run.from,
      to: run.to,
      why,
    });
    const rates = futuresCandleTimeframes(run.exchange);
    return [
      main,
      ...(run.timeframeDetail ? [over(run.timeframeDetail, 'main', 'timeframe_detail')] : []),
      ...(run.futures
        ? [
            over(rates.funding_rate, 'funding_rate', 'futures funding rates'),
            over(rates.mark, 'mark', 'futures mark prices'),
          ]
        : []),
    ];
  });

/**
 * The config keys that take precedence over a parameter file's spaces: freqtrade's resolver loads
 * the file first, then lets any of these in the config win (freqtrade/resolvers/strategy_resolver.py
 * `load_strategy`, `_override_attribute_helper`). A run that sets a space in its parameter file must
 * not carry the matching keys in its config, or the file would lose.
 */
export const configKeysOfParameters = (
  parameters: StrategyParameters,
): { space: ParameterSpace; key: string }[] => [
  ...(parameters.roi ? [{ space: 'roi' as const, key: 'minimal_roi' }] : []),
  ...(parameters.stoploss ? [{ space: 'stoploss' as const, key: 'stoploss' }] : []),
  ...Object.keys(parameters.trailing ?? {}).map((key) => ({ space: 'trailing' as const, key })),
  ...(parameters.max_open_trades ? [{ space: 'max_open_trades' as const, key: 'max_open_trades' }] : []),
];
