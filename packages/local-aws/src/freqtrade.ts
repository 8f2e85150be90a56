/*
 * A simulated freqtrade backtest for any request, in freqtrade's own result format, with trades
 * that obey freqtrade's backtesting rules (freqtrade/optimize/backtesting.py `backtest_loop`) and
 * tables computed from those trades as freqtrade computes them (optimize_reports.py
 * `generate_strategy_stats`). It is not a real backtest: the market and the strategy are toys, and
 * the file says so (`tradai_simulated`, which freqtrade's readers ignore).
 *
 * The toy rule. Nothing is random: one request with one config and parameter file gives one result.
 *   Market: every pair has one price path, the same for every run, timeframe and setting: a log
 *     price made of value noise over 18 octaves (hashed from the pair's name and the minute), whose
 *     moves scale as a random walk's, 0.2 % a minute, 7.6 % a day (logPrice). A candle opens and
 *     closes on the path at its bounds; its high and low add a hashed wick. Candles are aligned to
 *     the timeframe; the run has those dated from the start to the end of its timerange, both
 *     included, as freqtrade trims its data (data/converter/converter.py trim_dataframe).
 *   Oscillator (the RSI stand-in): 50 + 50 tanh(momentum / scale), the momentum being the change of
 *     the log close over the last 14 candles, the scale three of its deviations.
 *   Entry: when a candle closes with the oscillator below buy.buy_rsi, the candle before closed at or
 *     above it and the one 7 candles before at or above 50 (a fresh dip, not the same one again),
 *     the pair enters at the next candle's open, if it has no open trade, fewer than
 *     max_open_trades trades are open (else the signal counts as rejected) and the wallet holds the
 *     stake; never on the first or the last candle. So buy_rsi is the entry threshold: 25 enters on
 *     deeper dips, and less often, than 35.
 *   Exits, from the candle after the entry, the first that applies:
 *     stoploss: the candle's low reaches the stop (the entry price x (1 + stoploss), raised by a
 *       trailing stop to the highest high x (1 + stoploss), or x (1 - trailing_stop_positive) past
 *       trailing_stop_positive_offset): the trade exits at the stop, so a losing trade is cut at the
 *       stoploss (plus fees);
 *     roi: the candle's high reaches the minimal_roi step for the trade's age (the step of the
 *       largest key <= its minutes): it exits with exactly that profit after fees;
 *     exit signal (use_exit_signal): the oscillator crossed above sell.sell_rsi on the candle
 *       before: it exits at the open (exit_profit_only: only in profit);
 *     force_exit: still open at the last candle, it exits at that candle's close.
 *   Settings, as freqtrade resolves them (resolvers/strategy_resolver.py): the run's config wins
 *     over the parameter file, which wins over the strategy's own values, StrategyTestV3's for
 *     every simulated strategy (buy_rsi 35, sell_rsi 74, roi 0: 4 %, 20: 2 %, 30: 1 %, 40: 0,
 *     stoploss -10 %). max_open_trades -1 is unlimited; stake_amount "unlimited" is 99 % of the free
 *     balance over the free slots. The fee is the config's, else 0.1 %. Other parameters (buy_plusdi,
 *     protections...) are carried in the parameter file and change nothing here.
 *
 * The figures transform-results computes (sharpe, sortino, calmar, sqn, expectancy, cagr, profit
 * factor, drawdowns) come from its own exported code, so the file and the summary cannot disagree;
 * where freqtrade writes a sentinel (-100, 100, 0) for an undefined figure, so does this file.
 */
import { type StrategyParameters, TIMEFRAME_SECONDS, type Timeframe } from '@tradai/lambda-kit';

/** transform-results' metric code (its exports), which the simulated tables are computed with. */
export type ResultMetrics = Pick<
  typeof import('@tradai/transform-results'),
  'summarise' | 'freqtradeMaxDrawdown'
>;

export interface ResultRequest {
  strategy: string;
  symbols: readonly string[];
  timeframe: Timeframe;
  /** ISO dates or instants: the timerange, candles dated from start to end, both included. */
  start: string;
  end: string;
  /** The run's freqtrade config (prepare-config's config.json); what it leaves out has its default. */
  config?: Record<string, unknown>;
  /** The `params` of the strategy parameter file freqtrade loaded, when the run has one. */
  parameters?: StrategyParameters;
  /** The freqtrade release whose tables to write: 2025 adds each row's ratios and sqn. */
  release?: 2024 | 2025;
  /** When the backtest ran (epoch ms), for its metadata. */
  ranAt?: number;
}

/** FNV-1a, 32 bits. */
const fnv1a = (text: string): number => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
};

/** A uniform [0, 1) from two integers: murmur3's finaliser over them. */
const hashUnit = (a: number, b: number): number => {
  let h = Math.imul(a ^ Math.imul(b, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4_294_967_296;
};

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/**
 * The market's noise: value noise over OCTAVES levels, level k a hashed value in [-1, 1) at every
 * 2^k minutes, linear between them, weighted sqrt(VARIANCE_RATE · 2^k). Its increments over d
 * minutes then have a variance of about 2 · VARIANCE_RATE · d up to 2^17 minutes (91 days), as a
 * random walk's (Lévy's construction), and it stays bounded beyond: no rule has a built-in edge.
 * 0.2 % a minute is 7.6 % a day, an altcoin's in 2018.
 */
const OCTAVES = 18;
const VARIANCE_RATE = 0.002 ** 2 / 2;
const OCTAVE_WEIGHTS = Array.from({ length: OCTAVES }, (_, k) => Math.sqrt(VARIANCE_RATE * 2 ** k));
/**
 * The oscillator's look-back, in candles, and its scale: three deviations of that momentum. A pair
 * re-arms when the oscillator stood at or above 50 REARM candles before a signal: one dip, one entry.
 */
const LOOKBACK = 14;
const REARM = 7;
const oscillatorScale = (tfMinutes: number) => 3 * Math.sqrt(2 * VARIANCE_RATE * LOOKBACK * tfMinutes);
/** Bounds a pair's prices are drawn between, by what it is quoted in. */
const PRICE_RANGE = (quote: string): [number, number] =>
  ['BTC', 'ETH'].includes(quote) ? [1e-6, 1e-2] : [0.05, 50_000];

interface PairPath {
  seed: number;
  base: number;
  salts: number[];
}

const pathOf = (pair: string): PairPath => {
  const seed = fnv1a(pair);
  const [low, high] = PRICE_RANGE(pair.split('/')[1]?.split(':')[0] ?? '');
  return {
    seed,
    base: Math.log(low) + hashUnit(seed, 0x7f00_0000) * (Math.log(high) - Math.log(low)),
    salts: OCTAVE_WEIGHTS.map((_, k) => fnv1a(`${pair}#${k}`)),
  };
};

/** The pair's log price at `minute` (since the epoch). */
const logPrice = (path: PairPath, minute: number): number => {
  let value = path.base;
  for (let k = 0; k < OCTAVES; k++) {
    const span = 2 ** k;
    const node = Math.floor(minute / span);
    const along = minute / span - node;
    const salt = path.salts[k] as number;
    const from = 2 * hashUnit(salt, node) - 1;
    const to = 2 * hashUnit(salt, node + 1) - 1;
    value += (OCTAVE_WEIGHTS[k] as number) * (from + (to - from) * along);
  }
  return value;
};

/**
 * The log prices at candle bounds, computed once per (pair, timeframe, block of candles) and kept
 * for the next run: a sweep's variants trade one market. A block holds bounds
 * [id·BLOCK - PAD, (id+1)·BLOCK], so every look-back of a candle in the block is in it.
 */
const BLOCK = 4_096;
const PAD = LOOKBACK + REARM + 2;
const KEPT_BLOCKS = 256;
const blocks = new Map<string, Float64Array>();
const blockOf = (pair: string, path: PairPath, tfMinutes: number, id: number): Float64Array => {
  const key = `${pair}|${tfMinutes}|${id}`;
  const kept = blocks.get(key);
  if (kept) return kept;
  const bounds = new Float64Array(BLOCK + 1 + PAD);
  for (let j = 0; j < bounds.length; j++) bounds[j] = logPrice(path, (id * BLOCK - PAD + j) * tfMinutes);
  if (blocks.size >= KEPT_BLOCKS) blocks.delete(blocks.keys().next().value as string);
  blocks.set(key, bounds);
  return bounds;
};

/** freqtrade's dates: `2018-01-10 07:15:00` (UTC), `+00:00` on trades; kept, as a sweep's runs share candles. */
const dates = new Map<number, string>();
const freqtradeDate = (ms: number) => {
  let date = dates.get(ms);
  if (date === undefined) {
    if (dates.size >= 100_000) dates.clear();
    date = new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
    dates.set(ms, date);
  }
  return date;
};
const toMillis = (value: string) => Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
const round = (value: number, digits: number) => Number(value.toFixed(digits));
const sum = (values: readonly number[]) => values.reduce((total, v) => total + v, 0);
/** Math.min and Math.max without spreading: a long list would overflow the stack. */
const least = (values: readonly number[]) =>
  values.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
const most = (values: readonly number[]) => values.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
/** Python's round(): halves to even. */
const pyRound = (value: number) => {
  const floor = Math.floor(value);
  const diff = value - floor;
  return diff === 0.5 ? (floor % 2 === 0 ? floor : floor + 1) : Math.round(value);
};
/** Python's str(timedelta(minutes=...)): `3:40:00`, `1 day, 5:57:00`. */
const timedelta = (minutes: number) => {
  const days = Math.floor(minutes / 1440);
  const rest = minutes - days * 1440;
  const clock = `${Math.floor(rest / 60)}:${String(rest % 60).padStart(2, '0')}:00`;
  return days === 0 ? clock : `${days} day${days === 1 ? '' : 's'}, ${clock}`;
};
/** freqtrade's format_duration: `0d 03:40`. */
const shortDuration = (minutes: number) =>
  `${Math.floor(minutes / 1440)}d ${String(Math.floor((minutes % 1440) / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
/** freqtrade's decimals_per_coin (util/formatters.py). */
const coinDecimals = (coin: string) => ({ BTC: 8, ETH: 5 })[coin] ?? 3;
/** freqtrade's fmt_coin(value, coin, False): the coin's decimals, trailing zeros stripped. */
const fmtCoin = (value: number, coin: string) => {
  const fixed = value.toFixed(coinDecimals(coin));
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
};

const numberOr = (value: unknown, fallback: number) =>
  typeof value === 'number' && Number.isFinite(value) ? value : fallback;
const booleanOr = (value: unknown, fallback: boolean) => (typeof value === 'boolean' ? value : fallback);
const object = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};

/** StrategyTestV3's own values (freqtrade tests/strategy/strats/strategy_test_v3.py). */
const STRATEGY_DEFAULTS = {
  buy_rsi: 35,
  sell_rsi: 74,
  minimal_roi: { '0': 0.04, '20': 0.02, '30': 0.01, '40': 0 } as Record<string, number>,
  stoploss: -0.1,
};

/** What the backtest runs with: the config over the parameter file over the strategy's own values. */
const settingsOf = (config: Record<string, unknown>, parameters: StrategyParameters) => {
  const trailing = object(parameters.trailing);
  const pick = (name: string, fromFile: unknown) => (name in config ? config[name] : fromFile);
  const roi = object(pick('minimal_roi', parameters.roi ?? STRATEGY_DEFAULTS.minimal_roi));
  const wallet = config.dry_run_wallet;
  const stakeCurrency = typeof config.stake_currency === 'string' ? config.stake_currency : 'USDT';
  return {
    buyRsi: numberOr(object(parameters.buy).buy_rsi, STRATEGY_DEFAULTS.buy_rsi),
    sellRsi: numberOr(object(parameters.sell).sell_rsi, STRATEGY_DEFAULTS.sell_rsi),
    minimalRoi: Object.entries(roi)
      .filter((entry): entry is [string, number] => typeof entry[1] === 'number' && /^\d+$/.test(entry[0]))
      .map(([minutes, ratio]) => [Number(minutes), ratio] as const)
      .sort((a, b) => a[0] - b[0]),
    stoploss: numberOr(pick('stoploss', parameters.stoploss?.stoploss), STRATEGY_DEFAULTS.stoploss),
    trailingStop: booleanOr(pick('trailing_stop', trailing.trailing_stop), false),
    trailingStopPositive: numberOr(
      pick('trailing_stop_positive', trailing.trailing_stop_positive),
      Number.NaN,
    ),
    trailingStopPositiveOffset: numberOr(
      pick('trailing_stop_positive_offset', trailing.trailing_stop_positive_offset),
      0,
    ),
    trailingOnlyOffsetIsReached: booleanOr(
      pick('trailing_only_offset_is_reached', trailing.trailing_only_offset_is_reached),
      false,
    ),
    maxOpenTrades: numberOr(pick('max_open_trades', parameters.max_open_trades?.max_open_trades), -1),
    stakeAmount: typeof config.stake_amount === 'number' ? config.stake_amount : ('unlimited' as const),
    stakeCurrency,
    startingBalance: numberOr(
      typeof wallet === 'object' && wallet !== null ? object(wallet)[stakeCurrency] : wallet,
      1_000,
    ),
    fee: numberOr(config.fee, 0.001),
    useExitSignal: booleanOr(config.use_exit_signal, true),
    exitProfitOnly: booleanOr(config.exit_profit_only, false),
  };
};
type Settings = ReturnType<typeof settingsOf>;

interface SimulatedTrade {
  pair: string;
  open: number;
  close: number;
  /** freqtrade's trade dates, `2018-01-10 07:15:00+00:00`. */
  openDate: string;
  closeDate: string;
  openRate: number;
  closeRate: number;
  amount: number;
  stake: number;
  profitRatio: number;
  profitAbs: number;
  exitReason: 'roi' | 'stop_loss' | 'trailing_stop_loss' | 'exit_signal' | 'force_exit';
  initialStop: number;
  stop: number;
  minRate: number;
  maxRate: number;
}

interface OpenTrade {
  bound: number;
  /** The log rate at which each minimal_roi step is reached (its profit after fees). */
  lnRoi: number[];
  lnOpen: number;
  amount: number;
  stake: number;
  openValue: number;
  lnStop: number;
  lnInitialStop: number;
  lnPeak: number;
  lnLow: number;
  trailed: boolean;
}

/**
 * The candles a range holds, dated start <= date <= end (trim_dataframe): their indices (epoch /
 * timeframe), the first and one past the last.
 */
const candlesOf = (startMs: number, endMs: number, tfMs: number) => {
  const first = Math.ceil(startMs / tfMs);
  return { first, end: Math.max(first, Math.floor(endMs / tfMs) + 1) };
};

/** The backtest: freqtrade's loop over candles, then pairs (entries, then exits), on the toy market. */
const backtest = (request: ResultRequest, s: Settings) => {
  const tfMinutes = TIMEFRAME_SECONDS[request.timeframe] / 60;
  const tfMs = tfMinutes * MINUTE_MS;
  const { first, end } = candlesOf(toMillis(request.start), toMillis(request.end), tfMs);
  const pairs = [...new Set(request.symbols)];
  const paths = pairs.map(pathOf);
  const wickSeeds = paths.map((path) => [path.seed ^ 0x5bd1e995, path.seed ^ 0x27d4eb2f] as const);
  const scale = oscillatorScale(tfMinutes);
  // The oscillator's thresholds as momenta: below buy_rsi is a momentum below atanh((buy_rsi - 50) / 50).
  const threshold = (rsi: number) => scale * Math.atanh(Math.min(1, Math.max(-1, (rsi - 50) / 50)));
  const [entryBelow, exitAbove] = [threshold(s.buyRsi), threshold(s.sellRsi)];
  const maxOpen = s.maxOpenTrades < 0 ? Number.POSITIVE_INFINITY : s.maxOpenTrades;
  const slots = Math.min(maxOpen, pairs.length);
  // A wick of up to half a candle's deviation beyond its open and close.
  const wickScale = Math.min(0.05, 0.5 * Math.sqrt(2 * VARIANCE_RATE * tfMinutes));
  const lnFeeOut = Math.log(1 - s.fee);
  const roiAges = s.minimalRoi.map(([minutes]) => minutes);
  const roiSteps = s.minimalRoi.map(([, ratio]) => ratio);
  const trades: SimulatedTrade[] = [];
  const open: (OpenTrade | undefined)[] = pairs.map(() => undefined);
  let openCount = 0;
  let free = s.startingBalance;
  let rejected = 0;

  const exit = (
    p: number,
    trade: OpenTrade,
    bound: number,
    lnRate: number,
    reason: SimulatedTrade['exitReason'],
  ) => {
    const closeRate = Math.exp(lnRate);
    const closeValue = trade.amount * closeRate * (1 - s.fee);
    const profitAbs = round(closeValue - trade.openValue, 8);
    trades.push({
      pair: pairs[p] as string,
      open: trade.bound * tfMs,
      close: bound * tfMs,
      openDate: `${freqtradeDate(trade.bound * tfMs)}+00:00`,
      closeDate: `${freqtradeDate(bound * tfMs)}+00:00`,
      openRate: Math.exp(trade.lnOpen),
      closeRate,
      amount: trade.amount,
      stake: trade.stake,
      profitRatio: round(closeValue / trade.openValue - 1, 8),
      profitAbs,
      exitReason: reason,
      initialStop: Math.exp(trade.lnInitialStop),
      stop: Math.exp(trade.lnStop),
      minRate: Math.exp(Math.min(trade.lnLow, lnRate)),
      maxRate: Math.exp(Math.max(trade.lnPeak, lnRate)),
    });
    open[p] = undefined;
    openCount--;
    free += trade.openValue + profitAbs;
  };

  for (let id = Math.floor(first / BLOCK); id * BLOCK < end; id++) {
    const bounds = paths.map((path, p) => blockOf(pairs[p] as string, path, tfMinutes, id));
    const from = Math.max(first, id * BLOCK);
    const to = Math.min(end, (id + 1) * BLOCK);
    for (let n = from; n < to; n++) {
      const at = n - id * BLOCK + PAD;
      const last = n === end - 1;
      for (let p = 0; p < pairs.length; p++) {
        const ln = bounds[p] as Float64Array;
        const lnOpen = ln[at] as number;
        const lnClose = ln[at + 1] as number;
        // The candle before's momentum, and the one before it: the signals this candle acts on.
        const before = lnOpen - (ln[at - LOOKBACK] as number);
        const earlier = (ln[at - 1] as number) - (ln[at - 1 - LOOKBACK] as number);
        const armed = (ln[at - REARM] as number) - (ln[at - REARM - LOOKBACK] as number) >= 0;
        let trade = open[p];
        // 2. Entries: one trade per pair, max_open_trades, not on the first or last candle.
        if (!trade && n > first && !last && before < entryBelow && earlier >= entryBelow && armed) {
          if (openCount >= maxOpen) rejected++;
          else {
            const stake =
              s.stakeAmount === 'unlimited'
                ? (free * 0.99) / Math.max(1, (slots - openCount) * (1 + s.fee))
                : s.stakeAmount;
            const openValue = stake * (1 + s.fee);
            if (stake > 0 && openValue <= free) {
              const lnStop = lnOpen + Math.log(1 + s.stoploss);
              const amount = stake / Math.exp(lnOpen);
              trade = {
                bound: n,
                lnRoi: roiSteps.map((ratio) => Math.log((openValue * (1 + ratio)) / amount) - lnFeeOut),
                lnOpen,
                amount,
                stake,
                openValue,
                lnStop,
                lnInitialStop: lnStop,
                lnPeak: lnOpen,
                lnLow: lnOpen,
                trailed: false,
              };
              open[p] = trade;
              openCount++;
              free -= openValue;
            }
          }
          continue;
        }
        if (!trade || trade.bound >= n) continue;
        // 4-5. Exits of a trade opened on an earlier candle.
        const minute = n * tfMinutes;
        const seeds = wickSeeds[p] as readonly [number, number];
        const upSeed = seeds[0];
        const downSeed = seeds[1];
        const lnHigh = Math.max(lnOpen, lnClose) + wickScale * hashUnit(upSeed, minute);
        const lnLow = Math.min(lnOpen, lnClose) - wickScale * hashUnit(downSeed, minute);
        if (lnLow <= trade.lnStop) {
          exit(p, trade, n, trade.lnStop, trade.trailed ? 'trailing_stop_loss' : 'stop_loss');
          continue;
        }
        const age = (n - trade.bound) * tfMinutes;
        let step = -1;
        while (step + 1 < roiAges.length && (roiAges[step + 1] as number) <= age) step++;
        if (step >= 0 && lnHigh >= (trade.lnRoi[step] as number)) {
          exit(p, trade, n, trade.lnRoi[step] as number, 'roi');
          continue;
        }
        if (
          s.useExitSignal &&
          before > exitAbove &&
          earlier <= exitAbove &&
          (!s.exitProfitOnly || trade.amount * Math.exp(lnOpen) * (1 - s.fee) > trade.openValue)
        ) {
          exit(p, trade, n, lnOpen, 'exit_signal');
          continue;
        }
        if (last) {
          exit(p, trade, n, lnClose, 'force_exit');
          continue;
        }
        trade.lnLow = Math.min(trade.lnLow, lnLow);
        trade.lnPeak = Math.max(trade.lnPeak, lnHigh);
        if (s.trailingStop) {
          const gain = Math.exp(trade.lnPeak - trade.lnOpen) - 1;
          if (!s.trailingOnlyOffsetIsReached || gain >= s.trailingStopPositiveOffset) {
            const distance =
              Number.isFinite(s.trailingStopPositive) && gain > s.trailingStopPositiveOffset
                ? s.trailingStopPositive
                : -s.stoploss;
            const lnTrailing = trade.lnPeak + Math.log(Math.max(1e-9, 1 - distance));
            if (lnTrailing > trade.lnStop) [trade.lnStop, trade.trailed] = [lnTrailing, true];
          }
        }
      }
    }
  }
  const marketChange =
    end > first
      ? sum(
          paths.map(
            (path) => Math.exp(logPrice(path, end * tfMinutes) - logPrice(path, first * tfMinutes)) - 1,
          ),
        ) / Math.max(1, paths.length)
      : 0;
  return {
    trades,
    rejected,
    /** freqtrade's min_date and max_date: the first and the last candle. */
    minDate: first * tfMs,
    maxDate: Math.max(first, end - 1) * tfMs,
    marketChange,
    slots,
  };
};

type Row = Record<string, unknown>;

/** The seed a request's result is known by (its metadata's run_id). */
const resultSeed = (request: ResultRequest): number =>
  fnv1a(
    JSON.stringify([
      request.strategy,
      request.symbols,
      request.timeframe,
      request.start,
      request.end,
      request.config ?? {},
      request.parameters ?? {},
    ]),
  );

/** freqtrade's result file for `request`, as `freqtrade backtesting --export trades` writes it. */
export const simulatedFreqtradeResult = (
  request: ResultRequest,
  metrics: ResultMetrics,
): Record<string, unknown> => {
  const config = request.config ?? {};
  const s = settingsOf(config, request.parameters ?? {});
  const release = request.release ?? 2024;
  const run = backtest(request, s);
  const balance = s.startingBalance;
  const start = freqtradeDate(run.minDate);
  const end = freqtradeDate(run.maxDate);
  const days = Math.floor((run.maxDate - run.minDate) / DAY_MS) || 1;
  const duration = (t: SimulatedTrade) => Math.floor((t.close - t.open) / MINUTE_MS);

  /** The figures transform-results computes, from its own code; freqtrade's sentinels where undefined. */
  const figures = (trades: readonly SimulatedTrade[]) => {
    const profit = sum(trades.map((t) => t.profitAbs));
    const listed = trades.map((t) => ({ profit_abs: t.profitAbs, close_date: t.closeDate }));
    const summary = metrics.summarise(request.strategy, {
      total_trades: trades.length,
      profit_total: profit / balance,
      wins: trades.filter((t) => t.profitAbs > 0).length,
      losses: trades.filter((t) => t.profitAbs < 0).length,
      backtest_start: start,
      backtest_end: end,
      backtest_days: days,
      timeframe: request.timeframe,
      stake_currency: s.stakeCurrency,
      starting_balance: balance,
      final_balance: balance + profit,
      trades: listed,
    });
    const drawdown = metrics.freqtradeMaxDrawdown(listed, balance);
    const undefinedRatio = trades.length > 0 ? -100 : 0;
    return {
      cagr: summary.cagr ?? 0,
      expectancy: summary.expectancy ?? 0,
      expectancy_ratio: summary.expectancy_ratio ?? 100,
      sortino: summary.sortino_ratio ?? undefinedRatio,
      sharpe: summary.sharpe_ratio ?? undefinedRatio,
      calmar: summary.calmar_ratio ?? undefinedRatio,
      ...(release === 2025 ? { sqn: summary.sqn ?? undefinedRatio } : {}),
      profit_factor: summary.profit_factor ?? 0,
      max_drawdown_account: drawdown.account,
      max_drawdown_abs: drawdown.abs,
      max_relative_drawdown: drawdown.relative,
    };
  };

  /** A row of freqtrade's per-pair, per-tag and per-strategy tables (_generate_result_line). */
  const row = (key: string, trades: readonly SimulatedTrade[]): Row => {
    // One pass, each sum taken in the trades' order from 0 (as sum() takes it).
    let profitAbs = 0;
    let profitSum = 0;
    let durations = 0;
    let wins = 0;
    let draws = 0;
    let losses = 0;
    for (const t of trades) {
      profitAbs += t.profitAbs;
      profitSum += t.profitRatio;
      durations += duration(t);
      if (t.profitAbs > 0) wins++;
      else if (t.profitAbs === 0) draws++;
      else if (t.profitAbs < 0) losses++;
    }
    const mean = trades.length ? profitSum / trades.length : 0;
    // Written out field by field, in the file's order: spreading three objects a row was most of its cost.
    const result: Row = {
      key,
      trades: trades.length,
      profit_mean: mean,
      profit_mean_pct: trades.length ? round(mean * 100, 2) : 0,
    };
    if (release === 2024) {
      result.profit_sum = profitSum;
      result.profit_sum_pct = round(profitSum * 100, 2);
    }
    result.profit_total_abs = profitAbs;
    result.profit_total = profitAbs / balance;
    result.profit_total_pct = round((profitAbs / balance) * 100, 2);
    result.duration_avg = trades.length ? timedelta(pyRound(durations / trades.length)) : '0:00';
    result.wins = wins;
    result.draws = draws;
    result.losses = losses;
    result.winrate = trades.length ? wins / trades.length : 0;
    if (release === 2024) return result;
    const { max_relative_drawdown: _relative, ...rowFigures } = figures(trades);
    return Object.assign(result, rowFigures);
  };
  /** Rows per key, best total profit first, then TOTAL (generate_pair_metrics, generate_tag_metrics). */
  const table = (
    keys: readonly string[],
    keyOf: (t: SimulatedTrade) => string,
    all: readonly SimulatedTrade[],
  ) => {
    const byKey = new Map<string, SimulatedTrade[]>(keys.map((key) => [key, []]));
    for (const t of all) byKey.get(keyOf(t))?.push(t);
    return [
      ...keys
        .map((key) => row(key, byKey.get(key) ?? []))
        .sort((a, b) => (b.profit_total_abs as number) - (a.profit_total_abs as number)),
      row('TOTAL', all),
    ];
  };

  // The file lists the trades by close date, the larger profit first among those closing at once: the
  // order freqtrade's drawdown reads them in, whichever way transform-results breaks such ties
  // (the file's order, or the larger profit first), so the file's drawdown and the summary's agree.
  const trades = [...run.trades].sort((a, b) => a.close - b.close || b.profitAbs - a.profitAbs);
  const pairRows = table([...new Set(request.symbols)], (t) => t.pair, trades);
  const pairsOnly = pairRows.slice(0, -1);
  const byProfit = (pick: (a: number, b: number) => boolean) =>
    pairsOnly.length > 0
      ? pairsOnly.reduce((best, r) =>
          pick(r.profit_total_abs as number, best.profit_total_abs as number) ? r : best,
        )
      : null;
  const reasons = [...new Set(trades.map((t) => t.exitReason))];
  const forced = trades.filter((t) => t.exitReason === 'force_exit');
  const profitTotal = sum(trades.map((t) => t.profitAbs));
  const ratios = trades.map((t) => t.profitRatio);
  const sortedRatios = [...ratios].sort((a, b) => a - b);
  const median =
    sortedRatios.length === 0
      ? 0
      : sortedRatios.length % 2
        ? (sortedRatios[(sortedRatios.length - 1) / 2] as number)
        : ((sortedRatios[sortedRatios.length / 2 - 1] as number) +
            (sortedRatios[sortedRatios.length / 2] as number)) /
          2;

  // generate_daily_stats: every UTC day from the first close to the last.
  const dayOf = (t: SimulatedTrade) => Math.floor(t.close / DAY_MS);
  const firstDay = trades.length ? least(trades.map(dayOf)) : 0;
  const dayCount = trades.length ? most(trades.map(dayOf)) - firstDay + 1 : 0;
  const dailyAbs: number[] = Array(dayCount).fill(0);
  const dailyRel: number[] = Array(dayCount).fill(0);
  for (const t of trades) {
    dailyAbs[dayOf(t) - firstDay] = (dailyAbs[dayOf(t) - firstDay] as number) + t.profitAbs;
    dailyRel[dayOf(t) - firstDay] = (dailyRel[dayOf(t) - firstDay] as number) + t.profitRatio;
  }
  const daily = dailyAbs.map((v) => round(v, 10));

  // generate_trading_stats: by profit_ratio; holding times in whole minutes.
  const holding = (group: readonly SimulatedTrade[], pick: (values: number[]) => number) =>
    group.length ? pyRound(pick(group.map(duration))) : 0;
  const winners = trades.filter((t) => t.profitRatio > 0);
  const losers = trades.filter((t) => t.profitRatio < 0);
  const avg = (values: number[]) => sum(values) / values.length;
  const streak = (win: boolean) => {
    let best = 0;
    let current = 0;
    for (const t of trades) {
      current = t.profitRatio > 0 === win ? current + 1 : 0;
      best = Math.max(best, current);
    }
    return best;
  };
  const holdingStats = {
    holding_avg: timedelta(holding(trades, avg)),
    holding_avg_s: holding(trades, avg) * 60,
    ...Object.fromEntries(
      (
        [
          ['winner', winners],
          ['loser', losers],
        ] as const
      ).flatMap(([name, group]) =>
        (
          [
            ['min', least],
            ['max', most],
            ['avg', avg],
          ] as const
        ).flatMap(([what, pick]) => [
          [`${name}_holding_${what}`, shortDuration(holding(group, pick))],
          [`${name}_holding_${what}_s`, holding(group, pick) * 60],
        ]),
      ),
    ),
    max_consecutive_wins: streak(true),
    max_consecutive_losses: streak(false),
  };

  // calculate_max_drawdown's dates and values, over the trades in the file's order; its figures come
  // from transform-results. With fewer than two trades freqtrade's function raises and its report
  // writes zeros (generate_strategy_stats), as it does for csum_min and csum_max.
  const cumulative: number[] = [];
  const highs: number[] = [];
  let deepest = 0;
  for (const [i, t] of trades.entries()) {
    cumulative.push((cumulative[i - 1] ?? 0) + t.profitAbs);
    highs.push(Math.max(highs[i - 1] ?? 0, cumulative[i] as number));
    if (
      (highs[i] as number) - (cumulative[i] as number) >
      (highs[deepest] as number) - (cumulative[deepest] as number)
    )
      deepest = i;
  }
  const high = trades[highs.indexOf(highs[deepest] as number)];
  const low = trades[deepest];
  const all = figures(trades);
  const measured = trades.length > 1 && high !== undefined && low !== undefined;
  const drawdown = measured
    ? {
        drawdown_start: freqtradeDate(high.close),
        drawdown_start_ts: high.close,
        drawdown_end: freqtradeDate(low.close),
        drawdown_end_ts: low.close,
        drawdown_duration: timedelta((low.close - high.close) / MINUTE_MS),
        drawdown_duration_s: (low.close - high.close) / 1000,
        max_drawdown_low: cumulative[deepest],
        max_drawdown_high: cumulative[highs.indexOf(highs[deepest] as number)],
      }
    : {
        drawdown_start: freqtradeDate(0),
        drawdown_start_ts: 0,
        drawdown_end: freqtradeDate(0),
        drawdown_end_ts: 0,
        max_drawdown_low: 0,
        max_drawdown_high: 0,
      };
  let runningProfit = 0;
  const running = trades.map((t) => {
    runningProfit += t.profitAbs;
    return runningProfit;
  });

  const tradeRecords = trades.map((t) => ({
    pair: t.pair,
    stake_amount: t.stake,
    max_stake_amount: t.stake,
    amount: t.amount,
    open_date: t.openDate,
    close_date: t.closeDate,
    open_rate: t.openRate,
    close_rate: t.closeRate,
    fee_open: s.fee,
    fee_close: s.fee,
    trade_duration: duration(t),
    profit_ratio: t.profitRatio,
    profit_abs: t.profitAbs,
    exit_reason: t.exitReason,
    initial_stop_loss_abs: t.initialStop,
    initial_stop_loss_ratio: s.stoploss,
    stop_loss_abs: t.stop,
    stop_loss_ratio: t.stop / t.openRate - 1,
    min_rate: t.minRate,
    max_rate: t.maxRate,
    is_open: false,
    enter_tag: null,
    leverage: 1,
    is_short: false,
    open_timestamp: t.open,
    close_timestamp: t.close,
    // freqtrade lists each trade's orders; the file's volume says what they cost, and a list per
    // trade would double what transform-results walks (the fixture has none either).
    orders: null,
  }));

  const maxOpenSetting = s.maxOpenTrades < 0 ? -1 : s.maxOpenTrades;
  const stats: Record<string, unknown> = {
    trades: tradeRecords,
    locks: [],
    best_pair: byProfit((a, b) => a > b),
    worst_pair: byProfit((a, b) => a < b),
    results_per_pair: pairRows,
    results_per_enter_tag: [row('TOTAL', trades)],
    exit_reason_summary: table(reasons, (t) => t.exitReason, trades),
    mix_tag_stats: [row('TOTAL', trades)],
    left_open_trades: table(
      [...new Set(request.symbols)].filter((pair) => forced.some((t) => t.pair === pair)),
      (t) => t.pair,
      forced,
    ),
    total_trades: trades.length,
    trade_count_long: trades.length,
    trade_count_short: 0,
    total_volume: sum(trades.map((t) => t.stake + t.amount * t.closeRate)),
    avg_stake_amount: trades.length ? sum(trades.map((t) => t.stake)) / trades.length : 0,
    profit_mean: trades.length ? sum(ratios) / trades.length : 0,
    profit_median: median,
    profit_total: profitTotal / balance,
    profit_total_long: profitTotal / balance,
    profit_total_short: 0,
    profit_total_abs: profitTotal,
    profit_total_long_abs: profitTotal,
    profit_total_short_abs: 0,
    cagr: all.cagr,
    expectancy: all.expectancy,
    expectancy_ratio: all.expectancy_ratio,
    sortino: all.sortino,
    sharpe: all.sharpe,
    calmar: all.calmar,
    ...(release === 2025 ? { sqn: all.sqn } : {}),
    profit_factor: all.profit_factor,
    backtest_start: start,
    backtest_start_ts: run.minDate,
    backtest_end: end,
    backtest_end_ts: run.maxDate,
    backtest_days: days,
    backtest_run_start_ts: freqtradeDate(request.ranAt ?? run.maxDate),
    backtest_run_end_ts: freqtradeDate(request.ranAt ?? run.maxDate),
    trades_per_day: round(trades.length / days, 2),
    market_change: run.marketChange,
    pairlist: [...request.symbols],
    stake_amount: s.stakeAmount,
    stake_currency: s.stakeCurrency,
    stake_currency_decimals: coinDecimals(s.stakeCurrency),
    starting_balance: balance,
    dry_run_wallet: balance,
    final_balance: balance + profitTotal,
    rejected_signals: run.rejected,
    timedout_entry_orders: 0,
    timedout_exit_orders: 0,
    canceled_trade_entries: 0,
    canceled_entry_orders: 0,
    replaced_entry_orders: 0,
    max_open_trades: run.slots,
    max_open_trades_setting: maxOpenSetting,
    timeframe: request.timeframe,
    timeframe_detail: '',
    timerange: typeof config.timerange === 'string' ? config.timerange : '',
    enable_protections: config.enable_protections === true,
    strategy_name: request.strategy,
    stoploss: s.stoploss,
    trailing_stop: s.trailingStop,
    trailing_stop_positive: Number.isFinite(s.trailingStopPositive) ? s.trailingStopPositive : null,
    trailing_stop_positive_offset: s.trailingStopPositiveOffset,
    trailing_only_offset_is_reached: s.trailingOnlyOffsetIsReached,
    use_custom_stoploss: false,
    minimal_roi: Object.fromEntries(s.minimalRoi.map(([minutes, ratio]) => [String(minutes), ratio])),
    use_exit_signal: s.useExitSignal,
    exit_profit_only: s.exitProfitOnly,
    exit_profit_offset: numberOr(config.exit_profit_offset, 0),
    ignore_roi_if_entry_signal: config.ignore_roi_if_entry_signal === true,
    trading_mode: typeof config.trading_mode === 'string' ? config.trading_mode : 'spot',
    margin_mode: typeof config.margin_mode === 'string' ? config.margin_mode : '',
    backtest_best_day: dailyRel.length ? most(dailyRel) : 0,
    backtest_worst_day: dailyRel.length ? least(dailyRel) : 0,
    backtest_best_day_abs: daily.length ? most(daily) : 0,
    backtest_worst_day_abs: daily.length ? least(daily) : 0,
    winning_days: daily.filter((v) => v > 0).length,
    draw_days: daily.filter((v) => v === 0).length,
    losing_days: daily.filter((v) => v < 0).length,
    daily_profit: daily.map((v, i) => [new Date((firstDay + i) * DAY_MS).toISOString().slice(0, 10), v]),
    wins: winners.length,
    losses: losers.length,
    draws: trades.length - winners.length - losers.length,
    winrate: trades.length ? winners.length / trades.length : 0,
    ...holdingStats,
    max_drawdown_account: all.max_drawdown_account,
    max_relative_drawdown: all.max_relative_drawdown,
    max_drawdown_abs: all.max_drawdown_abs,
    ...drawdown,
    csum_min: measured ? balance + least(running) : 0,
    csum_max: measured ? balance + most(running) : 0,
  };
  const seed = resultSeed(request).toString(16);
  const total = pairRows.at(-1) as Row;
  return {
    metadata: {
      [request.strategy]: {
        run_id: `simulated-${seed}`,
        backtest_start_time: Math.floor((request.ranAt ?? run.maxDate) / 1000),
        timeframe: request.timeframe,
        timeframe_detail: null,
        backtest_start_ts: Math.floor(run.minDate / 1000),
        backtest_end_ts: Math.floor(run.maxDate / 1000),
      },
    },
    strategy: { [request.strategy]: stats },
    strategy_comparison: [
      {
        ...total,
        key: request.strategy,
        max_drawdown_account: all.max_drawdown_account,
        max_drawdown_abs: fmtCoin(all.max_drawdown_abs, s.stakeCurrency),
      },
    ],
    tradai_simulated: {
      by: 'tradai-sim',
      seed,
      note: 'Not a real backtest: a toy market and strategy (packages/local-aws/src/freqtrade.ts) run by freqtrade rules, in freqtrade format',
    },
  };
};
