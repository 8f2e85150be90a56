import * as z from 'zod/mini';
import { strategyParametersSchema } from './freqtrade';
import './zod-locale';

/*
 * Shared contracts. Every identifier here can reach an S3 key, an ECS task-definition name or a
 * Step Functions execution name, so the patterns are strict allow-lists: no slashes, no dots
 * that could form `..`, no whitespace, bounded length.
 */

const pattern = (regex: RegExp, error: string) => z.string().check(z.regex(regex, { error }));

/** A run id: also the execution name (<= 80 chars) and an S3 key segment. */
export const runIdSchema = pattern(
  /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/,
  'must be 1-64 characters of A-Z a-z 0-9 _ - starting with a letter or digit',
);

/**
 * A sweep id: a variant's longest run id, `<sweep_id>-<index>r<attempt>` (index < 10,000, attempt
 * < 100, sweep.ts variantRunId), must still be a run id (<= 64).
 */
export const sweepIdSchema = pattern(
  /^[A-Za-z0-9][A-Za-z0-9_-]{0,55}$/,
  'must be 1-56 characters of A-Z a-z 0-9 _ - starting with a letter or digit',
);

/**
 * A freqtrade strategy class name (PascalCase identifier). It names the ECR repository
 * (lower-cased) and the ECS task-definition family `strategy-<name>`.
 */
export const strategyNameSchema = pattern(
  /^[A-Z][A-Za-z0-9]{1,63}$/,
  'must be a PascalCase class name: 2-64 characters of A-Z a-z 0-9 starting with A-Z',
);

/** Semantic version `MAJOR.MINOR.PATCH[-prerelease]`; it is the image tag and a key segment. */
export const strategyVersionSchema = pattern(
  /^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})(-[0-9A-Za-z]{1,20}(\.[0-9A-Za-z]{1,20}){0,3})?$/,
  'must be a semantic version such as 1.0.0 or 1.2.0-rc.1',
);

export const experimentNameSchema = pattern(
  /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/,
  'must be 1-128 characters of A-Z a-z 0-9 _ - starting with a letter or digit',
);

/** A ccxt exchange id (`binance`, `bybit`, `okx`). */
export const exchangeSchema = pattern(/^[a-z][a-z0-9]{1,31}$/, 'must be a ccxt exchange id such as binance');

/**
 * A ccxt unified symbol: spot `BTC/USDT`, perpetual `BTC/USDT:USDT`, dated future
 * `BTC/USDT:USDT-240628`.
 */
export const ccxtSymbolSchema = pattern(
  /^[A-Z0-9]{1,24}\/[A-Z0-9]{1,24}(:[A-Z0-9]{1,24}(-\d{6})?)?$/,
  'must be a ccxt unified symbol such as BTC/USDT or BTC/USDT:USDT',
);

export const MAX_SYMBOLS_PER_REQUEST = 50;

export const symbolListSchema = z.array(ccxtSymbolSchema).check(
  z.minLength(1, { error: 'must list at least one symbol' }),
  z.maxLength(MAX_SYMBOLS_PER_REQUEST, { error: `must list at most ${MAX_SYMBOLS_PER_REQUEST} symbols` }),
  z.refine((symbols) => new Set(symbols).size === symbols.length, { error: 'must not repeat a symbol' }),
);

/** The timeframes freqtrade and ccxt share, with their length in seconds (a month counted as 31 days). */
export const TIMEFRAME_SECONDS = {
  '1m': 60,
  '3m': 180,
  '5m': 300,
  '15m': 900,
  '30m': 1_800,
  '1h': 3_600,
  '2h': 7_200,
  '4h': 14_400,
  '6h': 21_600,
  '8h': 28_800,
  '12h': 43_200,
  '1d': 86_400,
  '3d': 259_200,
  '1w': 604_800,
  '1M': 2_678_400,
} as const;

export type Timeframe = keyof typeof TIMEFRAME_SECONDS;

const TIMEFRAMES = Object.keys(TIMEFRAME_SECONDS) as [Timeframe, ...Timeframe[]];

export const timeframeSchema = z.enum(TIMEFRAMES, { error: `must be one of ${TIMEFRAMES.join(', ')}` });

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?Z)?$/;

/** Milliseconds since the epoch of a UTC date `2024-01-01` or instant `2024-01-01T12:00:00Z`. */
export const isoDateToMillis = (value: string): number =>
  Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);

const isRealDate = (value: string): boolean => {
  const match = ISO_DATE.exec(value);
  if (!match) return false;
  const [, year, month, day, hour = '0', minute = '0', second = '0'] = match;
  const millis = isoDateToMillis(value);
  if (Number.isNaN(millis)) return false;
  const date = new Date(millis);
  return (
    Number(year) >= 2009 &&
    date.getUTCFullYear() === Number(year) &&
    date.getUTCMonth() + 1 === Number(month) &&
    date.getUTCDate() === Number(day) &&
    date.getUTCHours() === Number(hour) &&
    date.getUTCMinutes() === Number(minute) &&
    date.getUTCSeconds() === Number(second)
  );
};

/** A UTC calendar date or instant from 2009 on (no crypto market data is older). */
export const isoDateSchema = z.string().check(
  z.refine(isRealDate, {
    error: 'must be a UTC date YYYY-MM-DD or instant YYYY-MM-DDTHH:MM[:SS]Z from 2009 on',
  }),
);

/**
 * The market data a run, a sync or a quality check covers: its symbols, timeframe and the half-open
 * range [start_date, end_date). The one declaration of these fields; spread it into a schema.
 */
export const marketDataFields = {
  symbols: symbolListSchema,
  timeframe: timeframeSchema,
  start_date: isoDateSchema,
  end_date: isoDateSchema,
};

/** The range runs forward: start_date before end_date (reported on end_date). */
export const rangeRunsForward = z.refine<{ start_date: string; end_date: string }>(
  (range) => isoDateToMillis(range.start_date) < isoDateToMillis(range.end_date),
  { path: ['end_date'], error: 'must be after start_date' },
);

/** The longest range one run or sync may cover: five years. */
export const MAX_SYNC_DAYS = 1_827;
/** And at most this many candles per symbol (one million 1m candles is about 694 days). */
export const MAX_SYNC_CANDLES_PER_SYMBOL = 1_000_000;
const DAY_MS = 86_400_000;

/**
 * The one rule for a date range, at the first state of every machine: a backtest's range is what
 * its nested data sync would fetch, so both refuse the same ranges, at once, by name.
 * `now` is the validation's: no candle exists after it.
 */
export const dateRangeIssue = (
  range: { start_date: string; end_date: string; timeframe: Timeframe },
  now = Date.now(),
): string | undefined => {
  const start = isoDateToMillis(range.start_date);
  const end = isoDateToMillis(range.end_date);
  if (start >= end) return 'must be after start_date';
  if (end > now) return 'must not be in the future';
  if (end - start > MAX_SYNC_DAYS * DAY_MS) return `must be at most ${MAX_SYNC_DAYS} days after start_date`;
  if ((end - start) / 1000 / TIMEFRAME_SECONDS[range.timeframe] > MAX_SYNC_CANDLES_PER_SYMBOL) {
    return `must span at most ${MAX_SYNC_CANDLES_PER_SYMBOL} ${range.timeframe} candles per symbol`;
  }
  return undefined;
};

/**
 * freqtrade's `--timerange` for the range: `20240101-20240601` when both ends are midnights, else
 * unix seconds, `1704110400-1717243200`, so an instant keeps its time of day (freqtrade's
 * TimeRange.parse_timerange, freqtrade/configuration/timerange.py, reads either form, both ends
 * alike). A fraction of a second rounds up: the same whole-second candles fall in [start, end).
 */
export const toFreqtradeTimerange = (start: string, end: string): string => {
  const range = [start, end].map(isoDateToMillis);
  return range.every((millis) => millis % DAY_MS === 0)
    ? range.map((millis) => new Date(millis).toISOString().slice(0, 10).replaceAll('-', '')).join('-')
    : range.map((millis) => Math.ceil(millis / 1000)).join('-');
};

const MAX_OVERRIDES_BYTES = 16_384;

const positive = z.number({ error: 'must be a number' }).check(z.positive({ error: 'must be above 0' }));
const ratio = (max: number) =>
  z
    .number({ error: 'must be a number' })
    .check(z.gte(0, { error: 'must be at least 0' }), z.lte(max, { error: `must be at most ${max}` }));
const flag = z.boolean({ error: 'must be true or false' });

/**
 * The freqtrade backtest settings a run may override (docs/contracts/backtest-request.md). Anything
 * else, such as `exchange`, `datadir`, `add_config_files`, `export` or `api_server`, would change
 * what was validated, where data comes from or what the container exposes: a ValidationError.
 * Pairs, timeframe and timerange come from the request's own fields.
 */
export const configOverridesSchema = z
  .partial(
    z.strictObject(
      {
        stake_amount: z.union([positive, z.literal('unlimited')], {
          error: 'must be a positive number or "unlimited"',
        }),
        dry_run_wallet: positive,
        tradable_balance_ratio: ratio(1),
        max_open_trades: z
          .number({ error: 'must be a whole number' })
          .check(
            z.int({ error: 'must be a whole number' }),
            z.gte(-1, { error: 'must be -1 (unlimited) or more' }),
            z.lte(1_000, { error: 'must be at most 1000' }),
          ),
        minimal_roi: z
          .record(
            z.string().check(z.regex(/^\d{1,6}$/, { error: 'must be minutes, such as "0" or "60"' })),
            z.number({ error: 'must be a number' }),
          )
          .check(z.maxSize(50, { error: 'must have at most 50 steps' })),
        stoploss: z
          .number({ error: 'must be a number' })
          .check(z.gte(-1, { error: 'must be at least -1' }), z.lt(0, { error: 'must be below 0' })),
        trailing_stop: flag,
        trailing_stop_positive: ratio(1),
        trailing_stop_positive_offset: ratio(1),
        trailing_only_offset_is_reached: flag,
        use_exit_signal: flag,
        exit_profit_only: flag,
        exit_profit_offset: ratio(1),
        ignore_roi_if_entry_signal: flag,
        position_adjustment_enable: flag,
        max_entry_position_adjustment: z
          .number({ error: 'must be a whole number' })
          .check(
            z.int({ error: 'must be a whole number' }),
            z.gte(-1, { error: 'must be -1 (unlimited) or more' }),
          ),
        /**
         * At least 0.0001 (0.01 %): a floor under the fee any exchange charges its base tier, not a
         * rate; a sweep down to 0 would flatter every strategy. The request names no exchange.
         */
        fee: z
          .number({ error: 'must be a number' })
          .check(
            z.gte(0.0001, { error: 'must be at least 0.0001 (a floor under exchange fees, not a rate)' }),
            z.lte(0.1, { error: 'must be at most 0.1' }),
          ),
        timeframe_detail: z.enum(Object.keys(TIMEFRAME_SECONDS) as [Timeframe, ...Timeframe[]], {
          error: 'must be a timeframe such as 5m',
        }),
        enable_protections: flag,
        /** The strategy's own parameters, in freqtrade's spaces (./freqtrade.ts): a parameter file, not config. */
        strategy_parameters: strategyParametersSchema,
        /** TradAI's request envelope for the spec's test input: only its dates. */
        backtester: z.strictObject(
          { START_DATE: z.optional(z.unknown()), END_DATE: z.optional(z.unknown()) },
          { error: 'may hold only START_DATE and END_DATE' },
        ),
      },
      {
        error: (issue) =>
          issue.code === 'unrecognized_keys'
            ? 'is not a setting a run may override (docs/contracts/backtest-request.md)'
            : 'must be an object of freqtrade settings',
      },
    ),
  )
  .check(
    z.refine((value) => JSON.stringify(value).length <= MAX_OVERRIDES_BYTES, {
      error: `must serialise to at most ${MAX_OVERRIDES_BYTES} bytes`,
    }),
  );

const nestedDatesSchema = z.object({
  backtester: z.optional(
    z.object({ START_DATE: z.optional(z.unknown()), END_DATE: z.optional(z.unknown()) }),
  ),
});

type DateField = 'start_date' | 'end_date';
const NESTED_DATE_KEY = { start_date: 'START_DATE', end_date: 'END_DATE' } as const;

/**
 * The backtest request as quants send it (SQS body, execution input). The spec's own sample
 * carries its dates in `config_overrides.backtester.START_DATE/END_DATE` while the state machine
 * reads `start_date`/`end_date`: this schema normalises once, at the edge, to top-level dates.
 */
export const backtestRequestSchema = z.pipe(
  z.strictObject({
    run_id: runIdSchema,
    strategy_name: strategyNameSchema,
    strategy_version: strategyVersionSchema,
    experiment_name: experimentNameSchema,
    symbols: symbolListSchema,
    timeframe: timeframeSchema,
    start_date: z.optional(isoDateSchema),
    end_date: z.optional(isoDateSchema),
    config_overrides: z.optional(configOverridesSchema),
    /** Stale market data: sync it first (nested data-sync execution) instead of failing. */
    auto_sync: z.optional(z.boolean({ error: 'must be true or false' })),
    /** Set on the variants of a parameter sweep: the sweep notifies once, its variants do not. */
    sweep_id: z.optional(sweepIdSchema),
    /** Which backtest machine runs the request; the trigger's default when absent. */
    workflow: z.optional(
      z.enum(['backtest', 'backtest-simplified'], { error: 'must be backtest or backtest-simplified' }),
    ),
  }),
  z.transform((request, ctx) => {
    const nested = nestedDatesSchema.safeParse(request.config_overrides ?? {});
    const backtester = nested.success ? nested.data.backtester : undefined;
    const resolve = (field: DateField): string | undefined => {
      const nestedKey = NESTED_DATE_KEY[field];
      const top = request[field];
      const fromOverrides = backtester?.[nestedKey];
      if (fromOverrides !== undefined && !isoDateSchema.safeParse(fromOverrides).success) {
        ctx.issues.push({
          code: 'custom',
          input: fromOverrides,
          path: ['config_overrides', 'backtester', nestedKey],
          message: 'must be a UTC date YYYY-MM-DD',
        });
        return undefined;
      }
      if (top !== undefined && fromOverrides !== undefined && top !== fromOverrides) {
        ctx.issues.push({
          code: 'custom',
          input: top,
          path: [field],
          message: `conflicts with config_overrides.backtester.${nestedKey} (${String(fromOverrides)})`,
        });
        return undefined;
      }
      const value = top ?? (fromOverrides as string | undefined);
      if (value === undefined) {
        ctx.issues.push({
          code: 'custom',
          input: undefined,
          path: [field],
          message: `is required (top level or config_overrides.backtester.${nestedKey})`,
        });
      }
      return value;
    };
    const start_date = resolve('start_date');
    const end_date = resolve('end_date');
    if (start_date === undefined || end_date === undefined) return z.NEVER;
    const rangeIssue = dateRangeIssue({ start_date, end_date, timeframe: request.timeframe });
    if (rangeIssue) {
      ctx.issues.push({ code: 'custom', input: end_date, path: ['end_date'], message: rangeIssue });
      return z.NEVER;
    }
    return { ...request, start_date, end_date };
  }),
);

export type BacktestRequestInput = z.input<typeof backtestRequestSchema>;
export type BacktestRequest = z.output<typeof backtestRequestSchema>;

/** An ECR image pinned by digest (what validate-strategy returns), never a mutable tag. */
export const imageDigestUriSchema = pattern(
  /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/[a-z0-9]+(?:[._/-][a-z0-9]+)*@sha256:[0-9a-f]{64}$/,
  'must be an ECR image URI pinned by digest (...@sha256:<64 hex>)',
);

/** An S3 bucket name as AWS allows it (no dots: virtual-host TLS breaks on them). */
export const bucketNameSchema = pattern(
  /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/,
  'must be an S3 bucket name without dots',
);

/** A DynamoDB table name as AWS allows it: 3-255 characters of A-Z a-z 0-9 _ . - */
export const tableNameSchema = pattern(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name');

export const awsRegionSchema = pattern(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1');
