import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  type DatasetManifest,
  datasetManifestKey,
  s3Prefix,
  TIMEFRAME_SECONDS,
  type Timeframe,
} from '@tradai/lambda-kit';
import { LOCAL_BUCKETS } from './handlers';
import { LOCAL, LOCAL_STACK, REPO_ROOT } from './machines';
import { type TaskDefinitionRevision, World } from './world';

/** The repo's fixtures; TRADAI_FIXTURES_DIR points the world at another copy. */
export const FIXTURES_DIR = process.env.TRADAI_FIXTURES_DIR ?? path.join(REPO_ROOT, 'fixtures');
export const FREQTRADE_RESULT_FIXTURE = path.join(FIXTURES_DIR, 'freqtrade/backtest-result.json');

/** Every fixture the world and the simulated containers read: missing ones are named, before any run. */
export const checkFixtures = () => {
  for (const file of [WORLD_SEED_FIXTURE, FREQTRADE_RESULT_FIXTURE]) {
    if (!existsSync(file))
      throw new Error(`Fixture ${path.relative(REPO_ROOT, file)} is missing (expected at ${file})`);
  }
};

export const readFixture = (file: string): Buffer => {
  try {
    return readFileSync(file);
  } catch {
    throw new Error(`Fixture ${path.relative(REPO_ROOT, file)} is missing (expected at ${file})`);
  }
};

/** The world's seed (fixtures/world/seed.json), with the local account, region and stage filled in. */
interface Seed {
  strategies: { name: string; version: string; image_digest: string; config: Record<string, unknown> }[];
  datasets: {
    exchange: string;
    timeframe: Timeframe;
    symbols: string[];
    coverage: { start: string; end: string };
  };
  backtest_result: string;
  task_definitions: { family: string; definition: TaskDefinitionRevision['definition'] }[];
  services: { name: string; task_family: string; image: string }[];
}

export const WORLD_SEED_FIXTURE = path.join(FIXTURES_DIR, 'world/seed.json');

const readSeed = (): Seed => {
  const text = readFixture(WORLD_SEED_FIXTURE)
    .toString('utf8')
    .replaceAll('{account}', LOCAL.accountId)
    .replaceAll('{region}', LOCAL.region)
    .replaceAll('{stage}', LOCAL.stage);
  return JSON.parse(text) as Seed;
};

let seed: Seed | undefined;
export const loadSeed = () => {
  seed ??= readSeed();
  return seed;
};

/** The config a strategy is stored with (the seed's first strategy's), for strategies a request brings. */
export const strategyConfigTemplate = (): Record<string, unknown> =>
  structuredClone((loadSeed().strategies[0] as Seed['strategies'][number]).config);

/** What the default world holds: one strategy version, its image and config, and market data. */
export const SEEDED = {
  get strategy() {
    return (loadSeed().strategies[0] as Seed['strategies'][number]).name;
  },
  get version() {
    return (loadSeed().strategies[0] as Seed['strategies'][number]).version;
  },
  get digest() {
    return (loadSeed().strategies[0] as Seed['strategies'][number]).image_digest;
  },
  get exchange() {
    return loadSeed().datasets.exchange;
  },
  get timeframe() {
    return loadSeed().datasets.timeframe;
  },
  get symbols() {
    return loadSeed().datasets.symbols;
  },
  get coverage() {
    return loadSeed().datasets.coverage;
  },
};

/** What the data-collection task reports besides the range: its defects, and when it wrote. */
export interface ManifestDetails {
  last_updated?: string;
  missingRatio?: number;
  duplicates?: number;
  ohlcViolations?: number;
}

export const manifestFor = (
  symbol: string,
  timeframe: Timeframe,
  coverage: { start: string; end: string },
  details: ManifestDetails = {},
): DatasetManifest => {
  const expected = Math.round(
    (Date.parse(coverage.end) - Date.parse(coverage.start)) / 1000 / TIMEFRAME_SECONDS[timeframe],
  );
  const missing = Math.round(expected * (details.missingRatio ?? 0));
  const manifestKey = datasetManifestKey(s3Prefix('datasets'), SEEDED.exchange, symbol, timeframe);
  return {
    schema_version: 1,
    // The data-collection task writes the candles beside their manifest (docs/contracts/dataset-manifest.md).
    data_key: manifestKey.replace(/manifest\.json$/, 'candles.feather'),
    exchange: SEEDED.exchange,
    symbol,
    timeframe,
    coverage,
    candle_count: expected - missing + (details.duplicates ?? 0),
    expected_candle_count: expected,
    gaps: { count: missing > 0 ? 1 : 0, missing_candles: missing, largest_gap_candles: missing },
    duplicate_candles: details.duplicates ?? 0,
    ohlc_violations: {
      high_below_open_or_close: details.ohlcViolations ?? 0,
      low_above_open_or_close: 0,
      non_positive_price: 0,
      negative_volume: 0,
    },
    last_updated: details.last_updated ?? coverage.end,
  };
};

export const writeManifests = (
  world: World,
  symbols: readonly string[],
  timeframe: Timeframe,
  coverage: { start: string; end: string },
  record = true,
  details: ManifestDetails = {},
) => {
  for (const symbol of symbols) {
    const key = datasetManifestKey(s3Prefix('datasets'), SEEDED.exchange, symbol, timeframe);
    const manifest = manifestFor(symbol, timeframe, coverage, details);
    world.putObject(LOCAL_BUCKETS.datasets, key, JSON.stringify(manifest), record);
  }
};

/** The world every scenario starts from (before its own `world` tweaks): fixtures/world/seed.json. */
export const seedWorld = (): World => {
  const { strategies, datasets, task_definitions, services } = loadSeed();
  const world = new World({ ...LOCAL });
  for (const [table, key] of Object.entries(LOCAL_STACK.tableKeys)) world.tableKeys.set(table, key);
  for (const strategy of strategies) {
    const key = `strategies/${strategy.name}/${strategy.version}/config.json`;
    world.putObject(LOCAL_BUCKETS.strategies, key, JSON.stringify(strategy.config, null, 2), false);
    world.putImage(
      `tradai/strategies/${strategy.name.toLowerCase()}`,
      strategy.version,
      strategy.image_digest,
    );
  }
  for (const { family, definition } of task_definitions)
    world.registerTaskDefinition(family, definition, [], false);
  // The trading services the platform created; each runs an earlier revision of its strategy.
  for (const service of services) world.addService(service.name, service.task_family, service.image);
  writeManifests(world, datasets.symbols, datasets.timeframe, datasets.coverage, false);
  return world;
};
