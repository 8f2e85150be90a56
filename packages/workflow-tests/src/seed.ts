import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  type DatasetManifest,
  datasetManifestKey,
  s3Prefix,
  TIMEFRAME_SECONDS,
  type Timeframe,
} from '@tradai/lambda-kit';
import { datasetManifest } from '@tradai/lambda-kit/testing';
import {
  BACKTEST_TASK_TEMPLATE,
  DATA_COLLECTION_TASK,
  LOCAL_BUCKETS,
  TRADING_TASK_TEMPLATE,
} from './handlers';
import { LOCAL, REPO_ROOT } from './machines';
import { World } from './world';

/** The repo's fixtures; TRADAI_FIXTURES_DIR points the world at another copy. */
export const FIXTURES_DIR = process.env.TRADAI_FIXTURES_DIR ?? path.join(REPO_ROOT, 'fixtures');
export const FREQTRADE_RESULT_FIXTURE = path.join(FIXTURES_DIR, 'freqtrade/backtest-result.json');

/** Every fixture the world and the simulated containers read: missing ones are named, before any run. */
export const checkFixtures = () => {
  for (const file of [FREQTRADE_RESULT_FIXTURE]) {
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

/** What the default world holds: one strategy version, its image and config, and market data. */
export const SEEDED = {
  strategy: 'StrategyTestV3',
  version: '1.0.0',
  digest: `sha256:${'5e1f'.repeat(16)}`,
  exchange: 'binance',
  timeframe: '5m' as Timeframe,
  symbols: ['TRX/BTC', 'ADA/BTC', 'XLM/BTC', 'ETH/BTC'],
  coverage: { start: '2018-01-01T00:00:00Z', end: '2018-02-01T00:00:00Z' },
} as const;

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
  return datasetManifest({
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
  });
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

/** A freqtrade config as a quant would store it for StrategyTestV3. */
const strategyConfig = {
  max_open_trades: 3,
  stake_currency: 'BTC',
  stake_amount: 0.001,
  dry_run: true,
  dry_run_wallet: 0.01,
  timeframe: '5m',
  exchange: { name: 'binance', pair_whitelist: [] },
  pairlists: [{ method: 'StaticPairList' }],
  entry_pricing: { price_side: 'same' },
  exit_pricing: { price_side: 'same' },
};

/** The world every scenario starts from (before its own `world` tweaks). */
export const seedWorld = (): World => {
  const world = new World({ ...LOCAL });
  world.putObject(
    LOCAL_BUCKETS.strategies,
    `strategies/${SEEDED.strategy}/${SEEDED.version}/config.json`,
    JSON.stringify(strategyConfig, null, 2),
    false,
  );
  world.putImage(`tradai/strategies/${SEEDED.strategy.toLowerCase()}`, SEEDED.version, SEEDED.digest);
  world.registerTaskDefinition(
    BACKTEST_TASK_TEMPLATE,
    {
      containerDefinitions: [
        {
          name: 'strategy',
          image: `${LOCAL.accountId}.dkr.ecr.${LOCAL.region}.amazonaws.com/tradai/strategies/placeholder:latest`,
        },
      ],
      taskRoleArn: `arn:aws:iam::${LOCAL.accountId}:role/tradai-${LOCAL.stage}-backtest-task`,
      executionRoleArn: `arn:aws:iam::${LOCAL.accountId}:role/tradai-${LOCAL.stage}-backtest-execution`,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '1024',
      memory: '2048',
    },
    [],
    false,
  );
  world.registerTaskDefinition(
    DATA_COLLECTION_TASK,
    {
      containerDefinitions: [
        {
          name: 'data-collection',
          image: `${LOCAL.accountId}.dkr.ecr.${LOCAL.region}.amazonaws.com/tradai/data-collection:1.4.2`,
        },
      ],
    },
    [],
    false,
  );
  world.registerTaskDefinition(
    TRADING_TASK_TEMPLATE,
    {
      containerDefinitions: [
        {
          name: 'strategy',
          image: `${LOCAL.accountId}.dkr.ecr.${LOCAL.region}.amazonaws.com/tradai/strategies/placeholder:latest`,
        },
      ],
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '512',
      memory: '1024',
    },
    [],
    false,
  );
  // The trading services the platform created; each runs an earlier revision of its strategy.
  for (const environment of ['dry-run', 'live'] as const) {
    const previous = world.registerTaskDefinition(
      `tradai-${LOCAL.stage}-trading-${environment}-${SEEDED.strategy}`,
      {
        containerDefinitions: [
          {
            name: 'strategy',
            image: `${LOCAL.accountId}.dkr.ecr.${LOCAL.region}.amazonaws.com/tradai/strategies/strategytestv3@sha256:${'0ld0'.repeat(16)}`,
          },
        ],
      },
      [],
      false,
    );
    const name = `tradai-${LOCAL.stage}-${environment}-${SEEDED.strategy.toLowerCase()}`;
    world.services.set(name, {
      name,
      taskDefinition: previous.arn,
      desiredCount: 1,
      deployments: [
        {
          status: 'PRIMARY',
          taskDefinition: previous.arn,
          rolloutState: 'COMPLETED',
          runningCount: 1,
          desiredCount: 1,
        },
      ],
    });
  }
  writeManifests(world, SEEDED.symbols, SEEDED.timeframe, SEEDED.coverage, false);
  return world;
};
