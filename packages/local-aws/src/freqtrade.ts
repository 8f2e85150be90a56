/*
 * A freqtrade backtest result for any request, in freqtrade's own format: the real result file
 * (fixtures/freqtrade/backtest-result.json) is the template, and everything the request decides
 * (strategy, pairs, timeframe, range) and everything that follows from the trades is rewritten.
 * The trades come from a PRNG seeded with the request, so one request always gives one result.
 * The file says it was simulated (`tradai_simulated`), which freqtrade's readers ignore.
 */
import { TIMEFRAME_SECONDS, type Timeframe } from '@tradai/lambda-kit';
import { FREQTRADE_RESULT_FIXTURE, readFixture } from './seed';

export interface ResultRequest {
  strategy: string;
  version: string;
  symbols: readonly string[];
  timeframe: Timeframe;
  /** ISO dates or instants: the half-open range [start, end). */
  start: string;
  end: string;
  /** What else tells this run from another (a sweep variant's settings), for the seed. */
  variant?: string;
}

/** FNV-1a, 32 bits: the request's seed. */
const fnv1a = (text: string): number => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
};

/** mulberry32: a small, well-known PRNG; deterministic for one seed. */
const prng = (seed: number) => {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
};

const DAY_MS = 86_400_000;
const toMillis = (value: string) => Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
/** freqtrade's dates: `2018-01-10 07:15:00` (UTC), `+00:00` on trades. */
const freqtradeDate = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
const round = (value: number, digits = 10) => Number(value.toFixed(digits));
const hms = (minutes: number) =>
  `${Math.floor(minutes / 60)}:${String(Math.round(minutes % 60)).padStart(2, '0')}:00`;

interface Trade {
  pair: string;
  open: number;
  close: number;
  profitRatio: number;
  profitAbs: number;
}

const totals = (trades: readonly Trade[]) => {
  const profitSum = trades.reduce((sum, t) => sum + t.profitRatio, 0);
  const profitAbs = trades.reduce((sum, t) => sum + t.profitAbs, 0);
  return {
    trades: trades.length,
    profitMean: trades.length ? profitSum / trades.length : 0,
    profitSum,
    profitAbs,
    wins: trades.filter((t) => t.profitAbs > 0).length,
    losses: trades.filter((t) => t.profitAbs < 0).length,
    draws: trades.filter((t) => t.profitAbs === 0).length,
    durationMinutes: trades.length
      ? trades.reduce((sum, t) => sum + (t.close - t.open), 0) / trades.length / 60_000
      : 0,
  };
};

/** A row of freqtrade's per-pair and per-strategy tables. */
const row = (key: string, trades: readonly Trade[], startingBalance: number) => {
  const t = totals(trades);
  return {
    key,
    trades: t.trades,
    profit_mean: round(t.profitMean),
    profit_mean_pct: round(t.profitMean * 100, 2),
    profit_sum: round(t.profitSum),
    profit_sum_pct: round(t.profitSum * 100, 2),
    profit_total_abs: round(t.profitAbs),
    profit_total: round(t.profitAbs / startingBalance),
    profit_total_pct: round((t.profitAbs / startingBalance) * 100, 2),
    duration_avg: hms(t.durationMinutes),
    wins: t.wins,
    draws: t.draws,
    losses: t.losses,
  };
};

/** The seed a request's result is drawn from (shown by the simulator). */
export const resultSeed = (request: ResultRequest): number =>
  fnv1a(
    [
      request.strategy,
      request.version,
      request.symbols.join(','),
      request.timeframe,
      request.start,
      request.end,
      request.variant ?? '',
    ].join('|'),
  );

/** freqtrade's result file for `request`, as `freqtrade backtesting --export trades` writes it. */
export const simulatedFreqtradeResult = (request: ResultRequest): Record<string, unknown> => {
  const fixture = JSON.parse(readFixture(FREQTRADE_RESULT_FIXTURE).toString('utf8')) as {
    metadata: Record<string, Record<string, unknown>>;
    strategy: Record<string, Record<string, unknown>>;
    strategy_comparison: Record<string, unknown>[];
  };
  const [templateName, template] = Object.entries(fixture.strategy)[0] as [string, Record<string, unknown>];
  const seed = resultSeed(request);
  const random = prng(seed);
  const candleMs = TIMEFRAME_SECONDS[request.timeframe] * 1000;
  const start = toMillis(request.start);
  const end = Math.max(toMillis(request.end), start + candleMs);
  const days = Math.max(1, (end - start) / DAY_MS);

  const startingBalance = 1_000;
  const maxOpenTrades = 3;
  const stake = startingBalance / maxOpenTrades;
  // A strategy's character, drawn once per request: how often it trades, its edge and its noise.
  const perDay = 0.2 + random() * 1.3;
  const edge = (random() - 0.35) * 0.01;
  const noise = 0.01 + random() * 0.03;
  const count = Math.max(1, Math.round(days * perDay));
  const trades: Trade[] = Array.from({ length: count }, (_, i) => {
    const candles = Math.floor(start / candleMs + random() * ((end - start) / candleMs - 1));
    const open = candles * candleMs;
    const close = Math.min(end - candleMs, open + (1 + Math.floor(random() * 24)) * candleMs);
    // Box-Muller: a normal draw around the edge.
    const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const profitRatio = round(edge + noise * normal, 8);
    return {
      pair: request.symbols[i % request.symbols.length] as string,
      open,
      close: Math.max(open + candleMs, close),
      profitRatio,
      profitAbs: round(stake * profitRatio, 8),
    };
  }).sort((a, b) => a.close - b.close || a.open - b.open);

  // The account's equity after each trade, for the drawdown.
  let equity = startingBalance;
  let peak = startingBalance;
  let drawdown = { ratio: 0, abs: 0, start: start, end: start, low: startingBalance, high: startingBalance };
  for (const trade of trades) {
    equity += trade.profitAbs;
    if (equity > peak) peak = equity;
    const ratio = (peak - equity) / peak;
    if (ratio > drawdown.ratio) {
      drawdown = {
        ratio,
        abs: peak - equity,
        start: drawdown.start,
        end: trade.close,
        low: equity,
        high: peak,
      };
    }
  }
  const daily = new Map<string, number>();
  for (const trade of trades) {
    const day = new Date(trade.close).toISOString().slice(0, 10);
    daily.set(day, (daily.get(day) ?? 0) + trade.profitAbs);
  }
  const all = totals(trades);
  const grossWin = trades.filter((t) => t.profitAbs > 0).reduce((sum, t) => sum + t.profitAbs, 0);
  const grossLoss = -trades.filter((t) => t.profitAbs < 0).reduce((sum, t) => sum + t.profitAbs, 0);
  const perPair = request.symbols.map((pair) =>
    row(
      pair,
      trades.filter((t) => t.pair === pair),
      startingBalance,
    ),
  );
  const byProfit = [...perPair].sort((a, b) => b.profit_total_abs - a.profit_total_abs);
  const dailyValues = [...daily.values()];
  const stats: Record<string, unknown> = {
    ...template,
    trades: trades.map((t) => ({
      ...(template.trades as Record<string, unknown>[])[0],
      pair: t.pair,
      stake_amount: stake,
      max_stake_amount: stake,
      open_date: `${freqtradeDate(t.open)}+00:00`,
      close_date: `${freqtradeDate(t.close)}+00:00`,
      open_timestamp: t.open,
      close_timestamp: t.close,
      trade_duration: Math.round((t.close - t.open) / 60_000),
      profit_ratio: t.profitRatio,
      profit_abs: t.profitAbs,
      exit_reason: t.profitAbs >= 0 ? 'roi' : 'stop_loss',
    })),
    results_per_pair: [...perPair, row('TOTAL', trades, startingBalance)],
    best_pair: byProfit[0],
    worst_pair: byProfit.at(-1),
    total_trades: all.trades,
    wins: all.wins,
    losses: all.losses,
    draws: all.draws,
    profit_mean: round(all.profitMean),
    profit_total: round(all.profitAbs / startingBalance),
    profit_total_abs: round(all.profitAbs),
    profit_factor: grossLoss > 0 ? round(grossWin / grossLoss, 6) : null,
    starting_balance: startingBalance,
    dry_run_wallet: startingBalance,
    final_balance: round(startingBalance + all.profitAbs),
    stake_amount: stake,
    stake_currency: 'USDT',
    max_open_trades: maxOpenTrades,
    max_open_trades_setting: maxOpenTrades,
    backtest_start: freqtradeDate(start),
    backtest_start_ts: start,
    backtest_end: freqtradeDate(end),
    backtest_end_ts: end,
    backtest_days: Math.round(days),
    trades_per_day: round(all.trades / days, 2),
    pairlist: [...request.symbols],
    timeframe: request.timeframe,
    timerange: `${freqtradeDate(start).slice(0, 10).replaceAll('-', '')}-${freqtradeDate(end).slice(0, 10).replaceAll('-', '')}`,
    strategy_name: request.strategy,
    daily_profit: [...daily.entries()].map(([day, abs]) => [day, round(abs)]),
    winning_days: dailyValues.filter((v) => v > 0).length,
    losing_days: dailyValues.filter((v) => v < 0).length,
    draw_days: dailyValues.filter((v) => v === 0).length,
    max_drawdown: round(drawdown.ratio),
    max_drawdown_account: round(drawdown.ratio),
    max_relative_drawdown: round(drawdown.ratio),
    max_drawdown_abs: round(drawdown.abs),
    drawdown_start: freqtradeDate(drawdown.start),
    drawdown_start_ts: drawdown.start,
    drawdown_end: freqtradeDate(drawdown.end),
    drawdown_end_ts: drawdown.end,
    max_drawdown_low: round(drawdown.low),
    max_drawdown_high: round(drawdown.high),
  };
  // freqtrade's own ratios are computed from its daily balances; the summary recomputes them from
  // the trades when they are absent (transform-results), so a simulated file leaves them out.
  for (const ratio of ['sharpe', 'sortino', 'calmar', 'cagr', 'expectancy', 'expectancy_ratio'])
    delete stats[ratio];
  return {
    metadata: {
      [request.strategy]: {
        ...(fixture.metadata[templateName] ?? {}),
        run_id: `simulated-${seed.toString(16)}`,
        backtest_start_time: freqtradeDate(end),
      },
    },
    strategy: { [request.strategy]: stats },
    strategy_comparison: [
      { ...(fixture.strategy_comparison[0] ?? {}), ...row(request.strategy, trades, startingBalance) },
    ],
    tradai_simulated: {
      by: 'tradai-sim',
      seed: seed.toString(16),
      note: 'Not a real backtest: trades drawn from a PRNG seeded with the request, in freqtrade format',
    },
  };
};
