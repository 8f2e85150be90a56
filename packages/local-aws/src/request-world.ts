/*
 * A world in which a request can run: what the platform would already hold for it on AWS. For a
 * backtest, the strategy's image and config, fresh market data for its symbols and timeframe over
 * its range, and a freqtrade result for its strategy (simulated, see freqtrade.ts); for a deploy,
 * the image and the trading service. Nothing is checked here: the machine validates the request,
 * so a malformed one fails in the workflow exactly as on AWS.
 */
import { createHash } from 'node:crypto';
import {
  datasetManifestKey,
  type RequiredDataset,
  requiredDatasets,
  s3Prefix,
  strategyManifestSchema,
  TIMEFRAME_SECONDS,
  type Timeframe,
} from '@tradai/lambda-kit';
import { LOCAL_BUCKETS } from './handlers';
import type { MachineName } from './machines';
import { manifestFor, SEEDED, strategyConfigTemplate } from './seed';
import type { World } from './world';

/** What the world was given for the request, for the simulator to say. */
export interface Provision {
  kind: 'image' | 'config' | 'market-data' | 'freqtrade-result' | 'service';
  detail: string;
}

const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 && value.length <= 128 ? value : undefined;

/** A digest for a strategy version, as a registry would give one: the same for the same version. */
const digestOf = (strategy: string, version: string) =>
  `sha256:${createHash('sha256').update(`${strategy}:${version}`).digest('hex')}`;

/** The range a backtest covers: top-level, or in the spec's `config_overrides.backtester`. */
const rangeOf = (request: Record<string, unknown>) => {
  const backtester = record(record(request.config_overrides).backtester);
  const start = text(request.start_date) ?? text(backtester.START_DATE);
  const end = text(request.end_date) ?? text(backtester.END_DATE);
  return start && end && Number.isFinite(Date.parse(start)) && Number.isFinite(Date.parse(end))
    ? { start, end }
    : undefined;
};

/**
 * A config that fits the pairs asked for, as freqtrade requires (lambda-kit's backtestConfigIssues):
 * futures when the pairs are `BASE/QUOTE:SETTLE`, staking their quote currency.
 */
const configFor = (strategy: string, symbols: readonly string[]) => {
  const [first] = symbols;
  const quote = first?.split('/')[1]?.split(':')[0];
  return {
    ...strategyConfigTemplate(),
    strategy,
    ...(quote ? { stake_currency: quote } : {}),
    ...(first?.includes(':') ? { trading_mode: 'futures', margin_mode: 'isolated' } : {}),
  };
};

/** The startup candles the strategy's manifest in the world states (none without a manifest). */
const startupCandlesOf = (world: World, strategy: string, version: string): number => {
  const body = world.getObject(LOCAL_BUCKETS.strategies, `strategies/${strategy}/${version}/strategy.json`);
  if (!body) return 0;
  try {
    const parsed = strategyManifestSchema.safeParse(JSON.parse(new TextDecoder().decode(body.body)));
    return parsed.success ? parsed.data.startup_candle_count : 0;
  } catch {
    return 0;
  }
};

const provideStrategy = (
  world: World,
  strategy: string,
  version: string,
  symbols: readonly string[],
  provided: Provision[],
) => {
  const repository = `tradai/strategies/${strategy.toLowerCase()}`;
  if (!world.images.get(repository)?.has(version)) {
    const digest = digestOf(strategy, version);
    world.putImage(repository, version, digest);
    provided.push({ kind: 'image', detail: `${repository}:${version} (${digest.slice(0, 19)}...)` });
  }
  const key = `strategies/${strategy}/${version}/config.json`;
  if (!world.getObject(LOCAL_BUCKETS.strategies, key)) {
    world.putObject(
      LOCAL_BUCKETS.strategies,
      key,
      JSON.stringify(configFor(strategy, symbols), null, 2),
      false,
    );
    provided.push({ kind: 'config', detail: `s3://${LOCAL_BUCKETS.strategies}/${key}` });
  }
};

/**
 * Gives `world` what `input` needs to run on `machine`, where it does not hold it already, and
 * says what it gave. A field the request lacks or gets wrong is left alone: validation names it.
 */
export const provisionForRequest = (world: World, machine: MachineName, input: unknown): Provision[] => {
  const request = record(input);
  const provided: Provision[] = [];
  const strategy = text(request.strategy_name);
  const version = text(request.strategy_version);
  const symbols = Array.isArray(request.symbols) ? request.symbols.filter((s) => typeof s === 'string') : [];
  if (strategy && version) provideStrategy(world, strategy, version, symbols, provided);

  const timeframe = text(request.timeframe);
  const range = rangeOf(request);
  const knownTimeframe = timeframe !== undefined && timeframe in TIMEFRAME_SECONDS;
  if (['backtest', 'backtest-simplified', 'backtest-sweep'].includes(machine) && knownTimeframe && range) {
    // Fresh data: covering the range and the strategy's startup candles, written just now (the
    // data-sync workflow writes it otherwise); a futures run's funding rates and mark prices too
    // (lambda-kit's requiredDatasets says what freqtrade loads).
    const tf = timeframe as Timeframe;
    const startupCandles = strategy && version ? startupCandlesOf(world, strategy, version) : 0;
    const futures = symbols.some((symbol) => symbol.includes(':'));
    const needed = requiredDatasets({
      symbols,
      timeframe: tf,
      timeframeSeconds: (t) => TIMEFRAME_SECONDS[t],
      from: Date.parse(range.start),
      to: world.now,
      startupCandles,
      futures,
      exchange: SEEDED.exchange,
    });
    const key = (d: RequiredDataset) =>
      datasetManifestKey(s3Prefix('datasets'), SEEDED.exchange, d.symbol, d.timeframe, d.candle_type);
    const absent = needed.filter((d) => !world.getObject(LOCAL_BUCKETS.datasets, key(d)));
    for (const d of absent) {
      const coverage = { start: new Date(d.from).toISOString(), end: new Date(world.now).toISOString() };
      const manifest = manifestFor(d.symbol, d.timeframe, coverage, {
        last_updated: new Date(world.now).toISOString(),
      });
      world.putObject(LOCAL_BUCKETS.datasets, key(d), JSON.stringify(manifest), false);
    }
    const missing = [...new Set(absent.map((d) => d.symbol))];
    if (missing.length > 0) {
      provided.push({
        kind: 'market-data',
        detail: `${missing.join(', ')} ${timeframe}${futures ? ' with funding rates and mark prices' : ''} on ${SEEDED.exchange}`,
      });
    }
    if (strategy && !world.simulatedStrategies.has(strategy)) {
      world.simulatedStrategies.add(strategy);
      provided.push({
        kind: 'freqtrade-result',
        detail: `simulated for ${strategy}, drawn from each run's config (not a real backtest)`,
      });
    }
  }

  const environment = text(request.environment);
  if (machine === 'deploy' && strategy && environment && /^[a-z-]+$/.test(environment)) {
    const name = `tradai-${world.settings.stage}-${environment}-${strategy.toLowerCase()}`;
    if (!world.services.has(name)) {
      const family = `tradai-${world.settings.stage}-trading-${environment}-${strategy}`;
      const { region, accountId } = world.settings;
      const image = `${accountId}.dkr.ecr.${region}.amazonaws.com/tradai/strategies/${strategy.toLowerCase()}@${digestOf(strategy, 'previous')}`;
      world.addService(name, family, image);
      provided.push({ kind: 'service', detail: `${name}, running an earlier image` });
    }
  }
  return provided;
};
